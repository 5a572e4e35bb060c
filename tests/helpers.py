"""Shared steps for API tests: real sign-up and login through the HTTP API."""

from __future__ import annotations

import itertools

import httpx

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


async def sign_up_and_log_in(client: httpx.AsyncClient, name: str | None = None) -> tuple[int, dict[str, str]]:
    """Create an account and log in; returns (user id, Authorization headers)."""
    name = name or f"user{next(_counter)}"
    response = await client.post(
        "/api/auth/signup", json={"email": f"{name}@example.org", "password": PASSWORD, "display_name": name}
    )
    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    response = await client.post("/api/auth/login", json={"email": f"{name}@example.org", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return user_id, {"Authorization": f"Bearer {response.json()['access_token']}"}


async def create_organisation(client: httpx.AsyncClient, slug: str = "city") -> tuple[int, dict[str, str]]:
    """A new organisation (platform operation, as `pb org create` does) and its first official."""
    from pb.accounts import service

    official_id, headers = await sign_up_and_log_in(client, f"official-{slug}-{next(_counter)}")
    organisation_id = await service.create_organisation(f"City of {slug}", slug, official_id)
    return organisation_id, headers


async def member_with_roles(
    client: httpx.AsyncClient, organisation_id: int, official_headers: dict[str, str], *roles: str,
    name: str | None = None,
) -> tuple[int, dict[str, str]]:
    """A user who joined the organisation and was given ``roles`` by an official via the API."""
    user_id, headers = await sign_up_and_log_in(client, name)
    response = await client.post(f"/api/orgs/{organisation_id}/join", headers=headers)
    assert response.status_code == 204, response.text
    if roles:
        response = await client.put(
            f"/api/orgs/{organisation_id}/members/{user_id}/roles", json={"roles": list(roles)},
            headers=official_headers,
        )
        assert response.status_code == 204, response.text
    return user_id, headers
