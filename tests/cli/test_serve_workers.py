"""`pb serve --workers N`: several uvicorn worker processes on PostgreSQL, refused on SQLite."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from pb.cli import main
from tests.helpers import PASSWORD
from tests.server_process import free_port, pb_env, serving


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
        # uvicorn's supervisor runs the two workers as its child processes
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
