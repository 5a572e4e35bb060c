"""Security headers on every response: pages, API, errors no route handled, static files, docs."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.helpers import PASSWORD, sign_up_and_log_in

pytestmark = [pytest.mark.anyio, pytest.mark.db]


def assert_secured(response: httpx.Response) -> str:
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    return policy


async def test_every_kind_of_response_carries_the_headers_and_no_hsts_over_http(client):
    _, headers = await sign_up_and_log_in(client)
    responses = [
        await client.get("/"),
        await client.get("/static/pb.css"),
        await client.get("/api/orgs"),
        await client.get("/api/me"),  # 401 from the auth middleware
        await client.get("/api/no-such-route", headers=headers),  # 404 no route handled
        await client.delete("/api/me", headers=headers),  # 405
        await client.post("/api/auth/signup", json={"email": "a@example.org", "password": "aaaaaaaaaa",
                                                    "display_name": "a"}),  # 422 of ours
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 401, 404, 405, 422]
    for response in responses:
        policy = assert_secured(response)
        assert "script-src 'self';" in policy and "style-src 'self';" in policy
        assert "strict-transport-security" not in response.headers


async def test_tokens_and_authenticated_responses_are_never_stored_and_public_ones_may_be(client):
    await sign_up_and_log_in(client, "cachy")
    login = await client.post("/api/auth/login", json={"email": "cachy@example.org", "password": PASSWORD})
    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": login.json()["refresh_token"]})
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"})
    for response in (login, refreshed, me):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
    assert "no-store" not in (await client.get("/api/orgs")).headers.get("cache-control", "")


async def test_hsts_when_the_public_url_is_https(settings):
    from pb.app import create_app

    app = create_app(settings.with_overrides(public_url="https://pb.example.org"))
    async with app.lifespan():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://pb.example.org") as http:
            response = await http.get("/api/orgs")
    assert response.headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.parametrize("path", ["/schema/swagger", "/schema/scalar"])
async def test_docs_pages_run_only_their_own_inline_scripts_by_nonce(client, path):
    first, second = await client.get(path), await client.get(path)
    assert first.status_code == 200
    policy = assert_secured(first)
    nonce = re.search(r"script-src 'self' 'nonce-([\w-]+)'", policy)[1]
    assert nonce not in second.headers["content-security-policy"]  # fresh per response
    tags = re.findall(r"<script[^>]*>", first.text)
    inline = [tag for tag in tags if " src=" not in tag]
    assert inline and all(f'nonce="{nonce}"' in tag for tag in inline)
    assert not any("nonce" in tag for tag in tags if " src=" in tag)  # a script by URL must be same-origin
