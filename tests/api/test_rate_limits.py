"""Rate limits over HTTP: Retry-After in a problem document, per account across addresses,
X-Forwarded-For believed only from a trusted proxy, concurrent guesses, submission limited."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.helpers import PASSWORD, sign_up_and_log_in
from tests.steps_rounds import proposal_body, round_in_submission

pytestmark = [pytest.mark.anyio, pytest.mark.db]
PROXY = "10.0.0.1"


@pytest.fixture
def limited_app(settings):
    from pb.app import create_app

    return create_app(settings.with_overrides(rate_limit_per_minute=4, rate_limit_account_per_minute=3,
                                              trusted_proxies=(PROXY,)))


@asynccontextmanager
async def clients(app, *peers: str):
    """One HTTP client per peer address, all talking to the same running app."""
    async with app.lifespan():
        opened = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 40000)),
                                    base_url="http://testserver") for peer in peers]
        try:
            yield opened
        finally:
            for http in opened:
                await http.aclose()


def _login(http, email: str, password: str = "wrong password!", **headers: str):
    return http.post("/api/auth/login", json={"email": email, "password": password}, headers=headers)


async def test_over_the_limit_is_429_problem_json_with_retry_after_and_the_wait_in_words(limited_app):
    async with clients(limited_app, "203.0.113.5") as (http,):
        codes = [(await _login(http, f"nobody{n}@example.org")).status_code for n in range(4)]
        refused = await _login(http, "nobody9@example.org")
    assert codes == [401] * 4
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["retry-after"] == "15"  # 4 a minute: the next one in 15 s
    assert refused.json()["retry_after"] == 15
    assert "try again in 15 seconds" in refused.json()["detail"]


async def test_failed_logins_are_limited_per_account_whatever_the_address(limited_app):
    async with clients(limited_app, "198.51.100.9", "1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4") as peers:
        owner, *strangers = peers
        await sign_up_and_log_in(owner, "target")
        codes = [(await _login(http, "target@example.org")).status_code for http in strangers]
    assert codes == [401, 401, 401, 429]


async def test_a_forwarded_for_header_from_a_client_is_ignored(limited_app):
    async with clients(limited_app, "203.0.113.7") as (http,):
        codes = [(await _login(http, f"n{n}@example.org", **{"X-Forwarded-For": f"198.51.100.{n}"})).status_code
                 for n in range(5)]
    assert codes == [401] * 4 + [429]


async def test_a_trusted_proxy_s_forwarded_for_names_the_client(limited_app):
    async with clients(limited_app, PROXY) as (proxy,):
        first = [(await _login(proxy, f"a{n}@example.org", **{"X-Forwarded-For": "198.51.100.1"})).status_code
                 for n in range(5)]
        other = await _login(proxy, "b@example.org", **{"X-Forwarded-For": "6.6.6.6, 198.51.100.2"})
    assert first == [401] * 4 + [429]
    assert other.status_code == 401  # another client behind the same proxy has its own bucket


async def test_concurrent_guesses_at_one_account_get_exactly_the_account_budget(limited_app):
    peers = [f"192.0.2.{n}" for n in range(1, 14)]
    async with clients(limited_app, *peers) as (owner, *strangers):
        await sign_up_and_log_in(owner, "burst")
        responses = await asyncio.gather(*(_login(http, "burst@example.org") for http in strangers))
    assert sorted(r.status_code for r in responses) == [401] * 3 + [429] * 9


async def test_the_right_password_gets_in_from_a_known_address_while_the_account_is_attacked(limited_app):
    async with clients(limited_app, "198.51.100.20", "1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4") as peers:
        home, *attackers = peers
        await sign_up_and_log_in(home, "owner")
        attacked = [(await _login(http, "owner@example.org")).status_code for http in attackers]
        assert attacked[-1] == 429
        at_home = await _login(home, "owner@example.org", PASSWORD)
    assert at_home.status_code == 200


async def test_submission_is_limited_per_account(limited_app):
    async with clients(limited_app, "127.0.0.1") as (http,):
        world = await round_in_submission(http, citizens=1)
        citizen = world["citizens"][0]["headers"]
        url = f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}/proposals"
        body = proposal_body(world["budgets"]["north"], 10_000)
        codes = [(await http.post(url, json=body, headers=citizen)).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]


async def test_the_sign_in_page_counts_failed_sign_ins_per_account_like_the_api(limited_app):
    """Guessing through the HTML form cannot get around the per-account limit of the API login:
    both draw on the same buckets, and a right password is still refused once the account is locked."""
    from tests.api.test_web import browser_sign_in

    async with clients(limited_app, "198.51.100.9", "1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4") as peers:
        owner, *strangers = peers
        await sign_up_and_log_in(owner, "paged")
        codes = [(await browser_sign_in(http, "paged@example.org", "wrong password!")).status_code
                 for http in strangers]
        api = await _login(owner, "paged@example.org", PASSWORD)
    assert codes == [422, 422, 422, 429]  # 3 failed sign-ins an account a minute, from any address, any entry point
    assert api.status_code == 200  # the owner's own (account, address) pair is not locked out
