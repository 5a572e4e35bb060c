"""`pb demo --serve --host --port` in a folder of its own: a real server process, and the tokens
it issues name the port it serves on (public_url follows the port unless it is configured)."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pb.demo import DEMO_PASSWORD

PORTS = range(8280, 8300)  # this project's test port range


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise AssertionError(f"no free port in {PORTS}")


def pb_command() -> list[str]:
    return [str(Path(sys.executable).with_name("pb"))]


def wait_for(url: str, server: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read()
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def token_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_demo_serve_listens_on_the_given_port_and_issues_tokens_for_it(tmp_path):
    port = free_port()
    env = {**os.environ, "PB_DEMO_VOTERS": "3", "PB_SECURITY_PASSWORD_MEMORY_KIB": "1024",
           "PB_SECURITY_PASSWORD_TIME_COST": "1"}
    for name in ("PB_DATABASE_URL", "PB_SECRETS_DIR", "PB_CONFIG", "PB_SERVER_PUBLIC_URL"):
        env.pop(name, None)
    server = subprocess.Popen([*pb_command(), "demo", "--serve", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/", server)
        response = httpx.post(f"{base}/api/auth/login",
                              json={"email": "official@demo.pb.example", "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.text
        assert token_claims(response.json()["access_token"])["iss"] == base
        assert (tmp_path / "var" / "pb.sqlite").is_file()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert f"pb is serving at {base}/" in output
