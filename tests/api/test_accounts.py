"""Accounts over HTTP: sign-up, login, JWT rules, refresh rotation with reuse detection, logout, roles."""

from __future__ import annotations

import jwt
import pytest

from tests.helpers import PASSWORD, create_organisation, member_with_roles, sign_up_and_log_in

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_signup_login_and_me(client):
    user_id, headers = await sign_up_and_log_in(client, "ada")
    response = await client.get("/api/me", headers=headers)
    assert response.status_code == 200
    assert response.json()["id"] == user_id
    assert response.json()["email"] == "ada@example.org"


async def test_access_token_is_eddsa_with_kid_and_short_lifetime(client):
    await sign_up_and_log_in(client, "bob")
    response = await client.post("/api/auth/login", json={"email": "bob@example.org", "password": PASSWORD})
    token = response.json()["access_token"]
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "EdDSA" and header["kid"]
    assert {"iss", "aud", "exp", "jti", "sub"} <= set(claims)
    assert claims["exp"] - claims["iat"] <= 600


async def test_password_is_stored_as_argon2id(client):
    from pb.accounts import repo

    await sign_up_and_log_in(client, "carol")
    user = await repo.user_by_email("carol@example.org")
    assert user.password_hash.startswith("$argon2id$")


async def test_duplicate_email_is_409_problem_json(client):
    await sign_up_and_log_in(client, "dora")
    response = await client.post(
        "/api/auth/signup", json={"email": "dora@example.org", "password": PASSWORD, "display_name": "x"}
    )
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "already exists" in response.json()["detail"]


async def test_wrong_password_is_401(client):
    await sign_up_and_log_in(client, "emil")
    response = await client.post("/api/auth/login", json={"email": "emil@example.org", "password": "wrong-password"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_short_password_is_422(client):
    response = await client.post(
        "/api/auth/signup", json={"email": "f@example.org", "password": "short", "display_name": "f"}
    )
    assert response.status_code == 422
    assert "at least" in response.json()["detail"]


async def test_a_guessable_password_is_422_naming_the_field_and_nothing_is_stored(client):
    response = await client.post(
        "/api/auth/signup", json={"email": "fiona@example.org", "password": "fiona@example.org", "display_name": "F"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "weak_password" and "email address" in body["detail"]
    assert body["errors"] == [{"pointer": "/password", "detail": body["detail"]}]
    login = await client.post("/api/auth/login", json={"email": "fiona@example.org", "password": "fiona@example.org"})
    assert login.status_code == 401


async def test_unknown_fields_are_rejected(client):
    response = await client.post(
        "/api/auth/signup",
        json={"email": "g@example.org", "password": PASSWORD, "display_name": "g", "is_admin": True},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"] == [{"detail": "Unknown field; remove it.", "pointer": "/is_admin"}]


async def test_no_token_is_401_and_forged_token_is_401(client):
    assert (await client.get("/api/me")).status_code == 401
    forged = jwt.encode({"sub": "1", "aud": "pb-api", "iss": "http://testserver", "exp": 9999999999, "jti": "x",
                         "iat": 1}, "secret", algorithm="HS256")
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_refresh_rotates_and_reuse_revokes_family(client):
    await sign_up_and_log_in(client, "hana")
    login = (await client.post("/api/auth/login", json={"email": "hana@example.org", "password": PASSWORD})).json()
    first = await client.post("/api/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert first.status_code == 200
    rotated = first.json()["refresh_token"]
    assert rotated != login["refresh_token"]
    reuse = await client.post("/api/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "refresh_token_reused"
    # The whole family is revoked: the newer token no longer works either.
    after = await client.post("/api/auth/refresh", json={"refresh_token": rotated})
    assert after.status_code == 401


async def test_logout_revokes_access_and_refresh(client):
    await sign_up_and_log_in(client, "ivan")
    login = (await client.post("/api/auth/login", json={"email": "ivan@example.org", "password": PASSWORD})).json()
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    response = await client.post("/api/auth/logout", json={"refresh_token": login["refresh_token"]}, headers=headers)
    assert response.status_code == 204
    assert (await client.get("/api/me", headers=headers)).status_code == 401
    response = await client.post("/api/auth/refresh", json={"refresh_token": login["refresh_token"]})
    assert response.status_code == 401


async def test_roles_are_guarded_per_organisation(client):
    org_a, official_a = await create_organisation(client, "a")
    org_b, official_b = await create_organisation(client, "b")
    citizen_id, citizen = await member_with_roles(client, org_a, official_a)
    # A citizen cannot list members or change roles.
    assert (await client.get(f"/api/orgs/{org_a}/members", headers=citizen)).status_code == 403
    response = await client.put(f"/api/orgs/{org_a}/members/{citizen_id}/roles", json={"roles": ["official"]},
                                headers=citizen)
    assert response.status_code == 403
    # An official of B has no say in A.
    assert (await client.get(f"/api/orgs/{org_a}/members", headers=official_b)).status_code == 403
    response = await client.put(f"/api/orgs/{org_a}/members/{citizen_id}/roles", json={"roles": ["reviewer"]},
                                headers=official_b)
    assert response.status_code == 403
    # The official of A can.
    response = await client.put(f"/api/orgs/{org_a}/members/{citizen_id}/roles", json={"roles": ["reviewer"]},
                                headers=official_a)
    assert response.status_code == 204
    members = (await client.get(f"/api/orgs/{org_a}/members", headers=official_a)).json()
    assert {"citizen", "reviewer"} == set(next(m for m in members if m["user_id"] == citizen_id)["roles"])
    assert (await client.get("/api/orgs/999/members", headers=official_a)).status_code == 404


async def test_auditor_role_stands_alone(client):
    org, official = await create_organisation(client, "d")
    user_id, _ = await member_with_roles(client, org, official)
    response = await client.put(f"/api/orgs/{org}/members/{user_id}/roles", json={"roles": ["auditor", "official"]},
                                headers=official)
    assert response.status_code == 422
    assert response.json()["code"] == "auditor_role_exclusive"
    response = await client.put(f"/api/orgs/{org}/members/{user_id}/roles", json={"roles": ["auditor"]},
                                headers=official)
    assert response.status_code == 204
    members = (await client.get(f"/api/orgs/{org}/members", headers=official)).json()
    assert next(m for m in members if m["user_id"] == user_id)["roles"] == ["auditor"]


async def test_unknown_role_is_422(client):
    org, official = await create_organisation(client, "c")
    user_id, _ = await member_with_roles(client, org, official)
    response = await client.put(f"/api/orgs/{org}/members/{user_id}/roles", json={"roles": ["king"]},
                                headers=official)
    assert response.status_code == 422
    assert "king" in response.json()["detail"]


async def test_rate_limit_on_login(settings, secrets_dir):
    import httpx

    from pb.app import create_app

    app = create_app(settings.with_overrides(rate_limit_per_minute=3))
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            codes = [
                (await http.post("/api/auth/login", json={"email": "z@example.org", "password": "x"})).status_code
                for _ in range(5)
            ]
    assert codes[:3] == [401, 401, 401]
    assert codes[3:] == [429, 429]


def test_production_password_cost_is_argon2_default():
    """Only tests lower the argon2id cost; the shipped configuration keeps the library defaults."""
    from argon2 import PasswordHasher

    from pb.settings import load_settings

    settings = load_settings({})
    default = PasswordHasher()
    assert (settings.password_time_cost, settings.password_memory_kib) == (default.time_cost, default.memory_cost)
