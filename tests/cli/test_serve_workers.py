"""`pb serve --workers N`: several uvicorn worker processes on PostgreSQL (each listening on a socket
of its own, ``pb.serving``), refused on SQLite."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from pb import serving as serving_module
from pb.cli import main
from tests.helpers import PASSWORD
from tests.server_process import free_port, pb, pb_env, serving


def test_several_workers_on_sqlite_are_refused_in_one_line(tmp_path):
    env = {"PB_DATABASE_URL": f"sqlite:///{tmp_path / 'pb.sqlite'}", "PB_SECRETS_DIR": str(tmp_path / "secrets")}
    result = CliRunner().invoke(main, ["serve", "--workers", "2"], env=env, prog_name="pb")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "pb serve --workers needs PostgreSQL: on SQLite, writers queue inside one process, "
        "so serve with one worker (the default)."]


def test_workers_must_be_a_positive_number(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--workers", "0"], prog_name="pb")
    assert result.exit_code == 2 and "--workers" in result.output


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.db
def test_two_workers_serve_postgresql(database_url, tmp_path):
    if not database_url.startswith("postgres"):
        pytest.skip("several workers are for PostgreSQL (SQLite refuses them, above)")
    port = free_port()
    env = pb_env(PB_DATABASE_URL=database_url, PB_SECRETS_DIR=str(tmp_path / "secrets"),
                 PB_SECURITY_RATE_LIMIT_PER_MINUTE="0", PB_SECURITY_RATE_LIMIT_ACCOUNT_PER_MINUTE="0")
    with serving("serve", "--workers", "2", "--port", str(port), cwd=tmp_path, env=env, port=port) as (base, output):
        # pb's supervisor (pb.serving) runs the two workers as its child processes
        assert len([child for child in _children(output.pid) if _is_worker(child)]) == 2
        with httpx.Client(base_url=base, timeout=10) as http:
            for n in range(6):  # each request may land on either worker: tokens work on both
                email = f"worker{n}@example.org"
                signed_up = http.post("/api/auth/signup", json={
                    "email": email, "password": PASSWORD, "display_name": f"worker {n}"})
                assert signed_up.status_code == 201, signed_up.text
                login = http.post("/api/auth/login", json={"email": email, "password": PASSWORD})
                assert login.status_code == 200, login.text
                me = http.get("/api/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
                assert me.status_code == 200 and me.json()["email"] == email, me.text
    assert "with 2 worker processes" in output[0], output
    assert output.returncode == 0, output


def _is_worker(pid: int) -> bool:
    try:
        return "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return False


# --- one listening socket per worker (pb.serving) -----------------------------------------------


def _tcp_sockets() -> dict[int, tuple[int, int, str]]:
    """inode -> (local port, remote port, state) of every TCP socket on the machine (/proc/net)."""
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
            found[inode] = (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16), state)
    return found


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def _listening_workers(server_pid: int, port: int) -> list[int]:
    """The server's worker processes that listen on ``port`` themselves (a socket of their own)."""
    sockets = _tcp_sockets()
    return [pid for pid in _children(server_pid) if _is_worker(pid) and any(
        sockets.get(inode, (None, None, None))[0] == port and sockets[inode][2] == "0A"  # 0A: LISTEN
        for inode in _socket_inodes(pid))]


def _wait_for(condition, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
    return found


def _postgres_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    if not database_url.startswith("postgres"):
        pytest.skip("several workers are for PostgreSQL (SQLite refuses them, above)")
    return pb_env(PB_DATABASE_URL=database_url, PB_SECRETS_DIR=str(tmp_path / "secrets"))


@pytest.mark.db
def test_each_worker_listens_itself_and_new_connections_spread_over_both(database_url, tmp_path):
    """uvicorn's workers shared one socket and a burst of connections went mostly to one of them
    (31/69 of 100 measured); with a socket each (SO_REUSEPORT) the kernel spreads them."""
    env, port = _postgres_env(database_url, tmp_path), free_port()
    with serving("serve", "--workers", "2", "--port", str(port), cwd=tmp_path, env=env, port=port) as (base, output):
        workers = _wait_for(lambda: (found := _listening_workers(output.pid, port)) and len(found) == 2 and found)
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
        try:
            for client in clients:  # keep-alive connections, each answered by the worker holding it
                client.sendall(b"GET /api/orgs HTTP/1.1\r\nHost: pb\r\n\r\n")
            for client in clients:
                assert client.recv(65536).startswith(b"HTTP/1.1 200")
            ports = {client.getsockname()[1] for client in clients}
            sockets = _tcp_sockets()
            held = [sum(1 for inode in _socket_inodes(pid) if sockets.get(inode, (0, 0, ""))[1] in ports)
                    for pid in workers]
        finally:
            for client in clients:
                client.close()
    assert sum(held) == 60, held
    assert min(held) >= 15, held  # an even split is 30/30; 15 or fewer happens about once in 10,000 runs


@pytest.mark.db
def test_a_second_server_on_the_port_is_refused_in_words(database_url, tmp_path):
    env, port = _postgres_env(database_url, tmp_path), free_port()
    with serving("serve", "--workers", "2", "--port", str(port), cwd=tmp_path, env=env, port=port):
        second = pb("serve", "--workers", "2", "--port", str(port), cwd=tmp_path, env=env)
    assert second.returncode == 2, second.stdout + second.stderr
    assert f"127.0.0.1:{port} is in use" in second.stderr and "--port" in second.stderr


@pytest.mark.db
def test_a_worker_that_dies_is_replaced_and_the_server_stops_cleanly(database_url, tmp_path):
    env, port = _postgres_env(database_url, tmp_path), free_port()
    with serving("serve", "--workers", "2", "--port", str(port), cwd=tmp_path, env=env, port=port) as (base, output):
        workers = _wait_for(lambda: (found := _listening_workers(output.pid, port)) and len(found) == 2 and found)
        time.sleep(max(0.0, serving_module.STARTUP_SECONDS + 1 - (time.monotonic() - _started(output.pid))))
        os.kill(workers[0], signal.SIGKILL)
        replaced = _wait_for(lambda: (found := _listening_workers(output.pid, port)) and len(found) == 2
                             and workers[0] not in found and found)
        assert workers[1] in replaced
        with httpx.Client(base_url=base, timeout=10) as http:
            assert all(http.get("/api/orgs").status_code == 200 for _ in range(10))
    assert output.returncode == 0, output
    assert "a worker ended" in output[0], output
    assert not [pid for pid in replaced if Path(f"/proc/{pid}").exists()]  # every worker stopped with it


def _started(pid: int) -> float:
    """When process ``pid`` started, on the ``time.monotonic`` clock (both count from boot)."""
    ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    return ticks / os.sysconf("SC_CLK_TCK")
