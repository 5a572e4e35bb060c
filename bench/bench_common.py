"""Helpers shared by the bench scripts: run a call in a forked child with a time limit."""

from __future__ import annotations

import multiprocessing
import time
from typing import Any, Callable


def _child(function: Callable[..., Any], args: tuple, conn) -> None:
    try:
        started = time.perf_counter()
        value = function(*args)
        conn.send(("ok", value, time.perf_counter() - started))
    except BaseException as error:  # report anything, the parent decides
        conn.send(("error", f"{type(error).__name__}: {error}", 0.0))
    finally:
        conn.close()


def run_forked(function: Callable[..., Any], args: tuple, timeout: float) -> tuple[str, Any, float]:
    """Run ``function(*args)`` in a forked child (arguments are inherited, not pickled;
    the value sent back must pickle). Returns (status, value or message, seconds) with
    status "ok", "error" or "timeout" (the child is killed at ``timeout`` seconds)."""
    ctx = multiprocessing.get_context("fork")
    parent_conn, child_conn = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(function, args, child_conn))
    started = time.perf_counter()
    process.start()
    child_conn.close()
    try:
        if parent_conn.poll(timeout):
            try:
                return parent_conn.recv()
            except EOFError:
                return ("error", f"child died (exit code {process.exitcode})", time.perf_counter() - started)
        return ("timeout", f"> {timeout:g} s", time.perf_counter() - started)
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        parent_conn.close()
