"""A real `pb` server process for the tests that need one (a browser, a second process):
started in a folder of its own on a free port of the project's test range, stopped afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

PORTS = range(8280, 8300)  # the test port range of this project
QUICK_PASSWORDS = {"PB_SECURITY_PASSWORD_MEMORY_KIB": "1024", "PB_SECURITY_PASSWORD_TIME_COST": "1"}


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError(f"no free port in {PORTS}")


def pb_env(**extra: str) -> dict[str, str]:
    """The environment without any PB_* setting of the caller's, plus ``extra``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PB_")}
    return {**env, **QUICK_PASSWORDS, **extra}


def pb(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    pb_command = Path(sys.executable).with_name("pb")
    return subprocess.run([str(pb_command), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


class ServerOutput(list):
    """What the server printed and its exit status (both once the block ends), and its process id."""

    pid: int
    returncode: int | None = None


@contextmanager
def serving(*args: str, cwd: Path, env: dict[str, str], port: int) -> Iterator[tuple[str, ServerOutput]]:
    """Run ``pb ARGS`` (a command that serves on ``port``) until the block ends; yields the base
    URL and, once the block is over, the list holds the server's output (``output.pid`` is the server's
    process id, ``output.returncode`` its exit status once stopped)."""
    pb_command = Path(sys.executable).with_name("pb")
    server = subprocess.Popen([str(pb_command), *args], cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = ServerOutput()
    output.pid = server.pid
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read()
            try:
                httpx.get(f"{base}/", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"{base} did not answer within 120 s"
                time.sleep(0.3)
        yield base, output
    finally:
        server.terminate()
        output.append(server.communicate(timeout=30)[0])
        output.returncode = server.returncode
