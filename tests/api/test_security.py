"""Security baseline over the whole route table, so every context added later is covered too:
no token -> 401, a stranger's token -> 403/404 on organisation routes, errors as problem+json."""

from __future__ import annotations

import pytest

from tests.helpers import create_organisation, sign_up_and_log_in
from tests.steps_routes import SELF_SERVICE_ROUTES, api_operations

pytestmark = [pytest.mark.anyio, pytest.mark.db]

PROBLEM_JSON = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    """An RFC 9457 problem document whose detail a person can read."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status and body["title"]
    assert isinstance(body["detail"], str) and len(body["detail"].split()) >= 3, body
    return body


async def test_every_route_not_marked_public_needs_a_token(app, client):
    organisation_id, _ = await create_organisation(client)
    protected = [op for op in api_operations(app) if not op.public]
    assert any(op.under_organisation for op in protected)
    for operation in protected:
        response = await client.request(operation.method, operation.url(organisation_id), json={})
        body = assert_problem(response, 401)
        assert "Bearer" in body["detail"], f"{operation.method} {operation.path}"


async def test_a_stranger_gets_403_or_404_on_every_organisation_route(app, client):
    organisation_id, _ = await create_organisation(client)
    _, stranger = await sign_up_and_log_in(client)
    routes = [op for op in api_operations(app) if op.under_organisation and not op.public
              and (op.method, op.path) not in SELF_SERVICE_ROUTES]
    assert routes
    for operation in routes:
        response = await client.request(operation.method, operation.url(organisation_id), json={}, headers=stranger)
        assert response.status_code in (403, 404), f"{operation.method} {operation.path}: {response.status_code}"
        assert_problem(response, response.status_code)


async def test_an_unknown_organisation_is_404_not_403(client):
    _, headers = await sign_up_and_log_in(client)
    response = await client.get("/api/orgs/999999/members", headers=headers)
    assert "organisation" in assert_problem(response, 404)["detail"]


async def test_a_garbage_or_expired_token_is_401(client):
    import jwt

    await sign_up_and_log_in(client, "tokenholder")
    for token, words in [("not-a-jwt", "malformed"),
                         (jwt.encode({"sub": "1", "exp": 1}, "x", algorithm="HS256"), "algorithm")]:
        response = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert words in assert_problem(response, 401)["detail"]


async def test_framework_errors_are_problem_json_too(client):
    _, headers = await sign_up_and_log_in(client)
    assert_problem(await client.get("/api/no-such-thing", headers=headers), 404)
    assert_problem(await client.delete("/api/me", headers=headers), 405)
    malformed = await client.post("/api/auth/login", content=b"{not json", headers={"content-type": "application/json"})
    assert_problem(malformed, 400)
