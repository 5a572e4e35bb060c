"""`pb demo --serve --host --port` in a folder of its own: a real server process, and the tokens
it issues name the port it serves on (public_url follows the port unless it is configured)."""

from __future__ import annotations

import base64
import json

import httpx

from pb.demo import DEMO_PASSWORD
from tests.server_process import free_port, pb_env, serving


def token_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_demo_serve_listens_on_the_given_port_and_issues_tokens_for_it(tmp_path):
    port = free_port()
    command = ("demo", "--serve", "--host", "127.0.0.1", "--port", str(port))
    with serving(*command, cwd=tmp_path, env=pb_env(PB_DEMO_VOTERS="3"), port=port) as (base, output):
        response = httpx.post(f"{base}/api/auth/login",
                              json={"email": "official@demo.pb.example", "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.text
        assert token_claims(response.json()["access_token"])["iss"] == base
        assert (tmp_path / "var" / "pb.sqlite").is_file()
    assert f"pb is serving at {base}/" in output[0]
