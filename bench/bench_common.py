"""Helpers shared by the bench scripts: run a call in a forked child with a limit.

Timings are CPU seconds of the child (``time.process_time``), not wall time: the
bench machines are shared, and on a loaded machine wall time mostly measures the
other processes. The limit is a CPU-time limit too (``RLIMIT_CPU`` in the child,
which the kernel enforces with SIGXCPU / SIGKILL), with a wall-clock safety cap.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from typing import Any, Callable


def _child(function: Callable[..., Any], args: tuple, cpu_limit: float, conn) -> None:
    try:
        used = time.process_time()
        limit = int(used + cpu_limit) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 5))
        started = time.process_time()
        value = function(*args)
        conn.send(("ok", value, time.process_time() - started))
    except BaseException as error:  # report anything, the parent decides
        conn.send(("error", f"{type(error).__name__}: {error}", 0.0))
    finally:
        conn.close()


def run_forked(
    function: Callable[..., Any], args: tuple, timeout: float, wall_cap: float | None = None,
    fresh: bool = False,
) -> tuple[str, Any, float]:
    """Run ``function(*args)`` in a forked child (arguments are inherited, not pickled;
    the value sent back must pickle), or with ``fresh`` in a new interpreter.

    Returns (status, value or message, CPU seconds) with status "ok", "error" or
    "timeout": the child is stopped after ``timeout`` CPU seconds, or after
    ``wall_cap`` wall seconds (default 20 x timeout).
    """
    # fresh: a new interpreter ("spawn"; ``function`` must be importable, ``args`` picklable), so
    # the call pays neither copy-on-write faults on the parent's heap nor collections of it
    ctx = multiprocessing.get_context("spawn" if fresh else "fork")
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(function, args, timeout, child_conn))
    started = time.perf_counter()
    process.start()
    child_conn.close()
    cap = wall_cap if wall_cap is not None else 20 * timeout
    try:
        if parent_conn.poll(cap):
            try:
                return parent_conn.recv()
            except EOFError:
                process.join()
                if process.exitcode in (-24, -9):  # SIGXCPU / SIGKILL: the CPU limit
                    return ("timeout", f"> {timeout:g} s CPU", float(timeout))
                return ("error", f"child died (exit code {process.exitcode})", 0.0)
        return ("timeout", f"> {cap:g} s wall", time.perf_counter() - started)
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        parent_conn.close()
