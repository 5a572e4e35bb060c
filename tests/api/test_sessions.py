"""Sessions: logout ends the whole login, reuse detection stops access tokens at once, and access
tokens are checked for lifetime and subject whoever signed them."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from tests.helpers import PASSWORD, create_organisation, sign_up_and_log_in

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def _login(client, name: str) -> dict:
    response = await client.post("/api/auth/login", json={"email": f"{name}@example.org", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


def _bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def _me_status(client, tokens: dict) -> int:
    return (await client.get("/api/me", headers=_bearer(tokens))).status_code


async def test_logout_without_body_ends_the_whole_login_but_not_other_logins(client):
    await sign_up_and_log_in(client, "lena")
    phone, laptop = await _login(client, "lena"), await _login(client, "lena")
    rotated = (await client.post("/api/auth/refresh", json={"refresh_token": phone["refresh_token"]})).json()

    response = await client.post("/api/auth/logout", headers=_bearer(phone))
    assert response.status_code == 204
    # Every token of the phone's login is dead: the access token used, the rotated one, the refresh token.
    assert await _me_status(client, phone) == 401
    assert await _me_status(client, rotated) == 401
    assert (await client.post("/api/auth/refresh", json={"refresh_token": rotated["refresh_token"]})).status_code == 401
    # The laptop's login is another family and keeps working.
    assert await _me_status(client, laptop) == 200
    assert (await client.post("/api/auth/refresh", json={"refresh_token": laptop["refresh_token"]})).status_code == 200


async def test_logout_body_cannot_end_another_users_login(client):
    await sign_up_and_log_in(client, "mira")
    await sign_up_and_log_in(client, "nils")
    mira, nils = await _login(client, "mira"), await _login(client, "nils")
    response = await client.post("/api/auth/logout", json={"refresh_token": nils["refresh_token"]},
                                 headers=_bearer(mira))
    assert response.status_code == 204
    assert await _me_status(client, nils) == 200


async def test_refresh_reuse_stops_the_familys_access_tokens_immediately(client):
    await sign_up_and_log_in(client, "olga")
    stolen = await _login(client, "olga")
    owner = (await client.post("/api/auth/refresh", json={"refresh_token": stolen["refresh_token"]})).json()
    assert await _me_status(client, owner) == 200
    reuse = await client.post("/api/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    assert reuse.json()["code"] == "refresh_token_reused"
    for tokens in (stolen, owner):
        response = await client.get("/api/me", headers=_bearer(tokens))
        assert response.status_code == 401
        assert response.json()["code"] == "login_ended"


async def test_concurrent_refreshes_with_one_token_issue_one_pair_and_end_the_login(client):
    """Of simultaneous uses of one refresh token exactly one rotates; the rest count as reuse."""
    await sign_up_and_log_in(client, "pia")
    login = await _login(client, "pia")
    responses = await asyncio.gather(*(
        client.post("/api/auth/refresh", json={"refresh_token": login["refresh_token"]}) for _ in range(6)
    ))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [401] * 5
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert await _me_status(client, winner) == 401


def _signed(app, **changes) -> str:
    """A token signed with the server's own current key: only the claims are wrong."""
    key = app.state.auth.keyring.current
    now = int(time.time())
    claims = {"sub": "1", "sid": "f" * 32, "iss": "http://testserver", "aud": "pb-api", "iat": now,
              "exp": now + 300, "jti": "j"}
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


@pytest.mark.parametrize("changes, words", [
    ({"exp": int(time.time()) + 3600}, "longer than the 10 minutes"),
    ({"iat": int(time.time()) + 600, "exp": int(time.time()) + 700}, "not yet valid"),
    ({"sub": "admin"}, "subject"),
    ({"sub": "1e3"}, "subject"),
    ({"sub": 1}, "invalid"),
    ({"sid": None}, "sid"),
])
async def test_tokens_signed_by_us_with_bad_claims_are_401(app, client, changes, words):
    await sign_up_and_log_in(client, "quinn")
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {_signed(app, **changes)}"})
    assert response.status_code == 401, response.text
    assert words in response.json()["detail"]


async def test_a_well_formed_token_of_ours_is_accepted(app, client):
    """The control for the test above: the same forging helper with nothing wrong gets in."""
    user_id, _ = await sign_up_and_log_in(client, "rosa")
    response = await client.get("/api/me", headers={"Authorization": f"Bearer {_signed(app, sub=str(user_id))}"})
    assert response.status_code == 200


async def test_an_ended_login_is_refused_on_an_organisations_routes_too(client):
    """There the role guard checks the login in the same statement as the membership: the refusal
    is the same 401 as anywhere else, before any 403/404 about the organisation."""
    organisation_id, official = await create_organisation(client, "sessions")
    census = f"/api/orgs/{organisation_id}/census"
    assert (await client.get(census, headers=official)).status_code == 200
    assert (await client.post("/api/auth/logout", headers=official)).status_code == 204
    for url in (census, "/api/orgs/999999/census"):
        response = await client.get(url, headers=official)
        assert response.status_code == 401 and response.json()["code"] == "login_ended", response.text


@pytest.mark.parametrize("how", ["issued here", "verified here"])
async def test_a_token_remembered_as_verified_is_refused_once_it_expires(app, client, how):
    """Invariant: the server remembers tokens it issued or verified (pb.core.tokens.VerifiedTokens),
    never past their expiry: from exp plus the tolerated clock skew on, the same token is 401
    "expired", exactly as a fresh verification answers."""
    from pb.core.tokens import CLOCK_SKEW

    user_id, _ = await sign_up_and_log_in(client, "sven")
    token = (await _login(client, "sven"))["access_token"] if how == "issued here" else _signed(app, sub=str(user_id))
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/me", headers=bearer)).status_code == 200
    expires = jwt.decode(token, options={"verify_signature": False})["exp"] + CLOCK_SKEW.total_seconds()
    remembered = app.state.auth.verified_tokens
    remembered.clock = lambda: expires - 1
    assert (await client.get("/api/me", headers=bearer)).status_code == 200
    remembered.clock = lambda: expires
    response = await client.get("/api/me", headers=bearer)
    assert response.status_code == 401 and "expired" in response.json()["detail"], response.text
