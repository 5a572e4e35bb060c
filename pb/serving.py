"""``pb serve --workers N``: N uvicorn servers, each listening on a socket of its own (SO_REUSEPORT).

uvicorn's own ``workers`` mode shares one listening socket between its processes, and the process
that wakes first accepts a whole burst of new connections: 100 keep-alive connections opened at
once split 31/69 between two workers here (counted with ``ss``), so one worker saturated while the
other idled. With a socket per worker and ``SO_REUSEPORT``, Linux spreads new connections over the
sockets by a hash of their addresses, evenly, whatever the workers are busy with.

The supervisor is small on purpose: it starts the workers, restarts one that dies after it has
served, stops them all on SIGINT/SIGTERM, and gives up (exit status 1) if a worker cannot start.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import threading
import time
from typing import Any

STARTUP_SECONDS = 15.0  # a worker that ends sooner could not start: stop rather than restart it forever
STOP_SECONDS = 30.0  # a worker still running this long after SIGTERM is killed
BACKLOG = 2048  # uvicorn's default


class PortTaken(Exception):
    """Another program listens on the port."""


def reuse_port_available() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def refuse_if_taken(host: str, port: int) -> None:
    """``PortTaken`` if something listens on ``host:port``. Checked without SO_REUSEPORT, so another
    ``pb serve`` of the same user cannot silently share the port with this one."""
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as error:
        raise PortTaken(f"{host}:{port} is in use ({error.strerror}).") from None
    finally:
        probe.close()


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    """One worker process: its own socket, its own app (``pb.app:create_app`` reads the settings
    from the environment, as under uvicorn's workers)."""
    import uvicorn

    config = uvicorn.Config("pb.app:create_app", factory=True, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[_listening_socket(host, port)])


def serve_workers(host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Run ``workers`` worker processes until SIGINT/SIGTERM; the exit status. The caller has
    checked the port is free (``refuse_if_taken``)."""
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start() -> tuple[Any, float]:
        process = context.Process(target=_worker, args=(host, port, options), name="pb-worker")
        process.start()
        return process, time.monotonic()

    def stop(*_: Any) -> None:
        stopping.set()

    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, stop)
    running = [start() for _ in range(workers)]
    status = 0
    try:
        while not stopping.wait(0.5):
            for index, (process, started) in enumerate(running):
                if process.is_alive():
                    continue
                if time.monotonic() - started < STARTUP_SECONDS:
                    print(f"pb serve: a worker could not start (exit status {process.exitcode}); stopping.",
                          flush=True)
                    status = 1
                    stopping.set()
                    break
                print(f"pb serve: a worker ended (exit status {process.exitcode}); starting another.", flush=True)
                running[index] = start()
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process, _ in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
    return status
