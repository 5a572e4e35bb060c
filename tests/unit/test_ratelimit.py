"""The rate limiter's rules without HTTP: which address counts, how buckets refill, who a lockout
can and cannot keep out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pb.core.ratelimit import RateLimited, RateLimiter, client_address, parse_networks, wait_in_words

pytestmark = pytest.mark.anyio
PROXIES = parse_networks(["10.0.0.1", "192.168.0.0/16"])


class Clock:
    """Seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(per_address: int = 3, per_account: int = 2) -> tuple[RateLimiter, Clock]:
    clock = Clock()
    return RateLimiter(per_address, per_account, PROXIES, clock=clock), clock


@pytest.mark.parametrize("peer, forwarded, expected", [
    ("203.0.113.9", ["1.2.3.4"], "203.0.113.9"),  # not a proxy: the header is ignored
    ("10.0.0.1", ["1.2.3.4"], "1.2.3.4"),
    ("10.0.0.1", ["6.6.6.6, 1.2.3.4"], "1.2.3.4"),  # the client's own entry on the left is not believed
    ("10.0.0.1", ["1.2.3.4, 192.168.7.7"], "1.2.3.4"),  # a second trusted proxy is skipped
    ("10.0.0.1", ["1.2.3.4", "192.168.7.7"], "1.2.3.4"),  # repeated headers read as one list
    ("10.0.0.1", ["not-an-ip"], "10.0.0.1"),  # garbage: counted against the proxy that passed it
    ("10.0.0.1", [], "10.0.0.1"),
    ("2001:db8:1:2:3:4:5:6", [], "2001:db8:1:2::/64"),  # one IPv6 subscriber, one bucket
    ("::ffff:198.51.100.4", [], "198.51.100.4"),
])
def test_the_counted_address(peer, forwarded, expected):
    assert client_address(peer, forwarded, PROXIES) == expected


def test_a_bad_trusted_proxy_entry_is_named():
    with pytest.raises(ValueError, match="'proxy.local'"):
        parse_networks(["10.0.0.1", "proxy.local"])


@pytest.mark.parametrize("seconds, words", [(0.2, "1 second"), (2, "2 seconds"), (59.1, "60 seconds"),
                                            (150, "3 minutes")])
def test_wait_in_words_never_promises_less_than_the_wait(seconds, words):
    assert wait_in_words(seconds) == words


async def test_a_burst_passes_then_one_request_per_interval_and_refusals_do_not_lengthen_the_wait():
    rates, clock = limiter(per_address=3)
    for _ in range(3):
        await rates.hit("casting", "1.2.3.4")
    for _ in range(5):  # hammering while refused
        with pytest.raises(RateLimited) as refused:
            await rates.hit("casting", "1.2.3.4")
    assert refused.value.headers == {"Retry-After": "20"}
    assert "try again in 20 seconds" in refused.value.detail
    clock.now += 20
    await rates.hit("casting", "1.2.3.4")
    await rates.hit("voting-is-another-flow", "1.2.3.4")
    await rates.hit("casting", "5.6.7.8")


async def test_signed_in_flows_count_per_account_across_addresses():
    rates, _ = limiter(per_address=100, per_account=2)
    await rates.hit("submission", "1.1.1.1", user_id=7)
    await rates.hit("submission", "2.2.2.2", user_id=7)
    with pytest.raises(RateLimited, match="from your account"):
        await rates.hit("submission", "3.3.3.3", user_id=7)
    await rates.hit("submission", "3.3.3.3", user_id=8)


async def test_a_refused_request_charges_no_bucket():
    """All budgets or none: the address bucket is not spent by a request the account bucket refused."""
    rates, _ = limiter(per_address=3, per_account=1)
    await rates.hit("casting", "1.1.1.1", user_id=1)
    with pytest.raises(RateLimited):
        await rates.hit("casting", "1.1.1.1", user_id=1)
    await rates.hit("casting", "1.1.1.1", user_id=2)
    await rates.hit("casting", "1.1.1.1", user_id=3)


async def test_login_counts_failures_per_account_and_a_right_password_gives_its_token_back():
    rates, _ = limiter(per_address=100, per_account=2)
    for _ in range(5):  # right passwords never run the account out
        await rates.login_succeeded(await rates.begin_login("1.1.1.1", "ada@example.org"))
    await rates.begin_login("2.2.2.2", "Bob@example.org")
    await rates.begin_login("3.3.3.3", "bob@example.org ")  # the same account, however written
    with pytest.raises(RateLimited, match="this account"):
        await rates.begin_login("4.4.4.4", "bob@example.org")


async def test_strangers_cannot_lock_out_a_person_on_an_address_they_signed_in_from():
    rates, _ = limiter(per_address=3, per_account=2)
    await rates.login_succeeded(await rates.begin_login("198.51.100.4", "ada@example.org"))
    # A flood from the same (shared) address and a guessing attack on ada from elsewhere.
    for email in ("x@example.org", "y@example.org"):
        await rates.begin_login("198.51.100.4", email)
    with pytest.raises(RateLimited, match="from your address"):
        await rates.begin_login("198.51.100.4", "z@example.org")
    for address in ("1.1.1.1", "2.2.2.2"):
        await rates.begin_login(address, "ada@example.org")
    with pytest.raises(RateLimited, match="this account"):
        await rates.begin_login("3.3.3.3", "ada@example.org")
    # Ada, at home, is still let in, and only her own failures there count against her.
    await rates.login_succeeded(await rates.begin_login("198.51.100.4", "ada@example.org"))
    await rates.begin_login("198.51.100.4", "ada@example.org")
    await rates.begin_login("198.51.100.4", "ada@example.org")
    with pytest.raises(RateLimited, match="this account from your address"):
        await rates.begin_login("198.51.100.4", "ada@example.org")


async def test_disabled_limits_keep_no_state():
    rates, _ = limiter(per_address=0, per_account=0)
    for _ in range(50):
        await rates.login_succeeded(await rates.begin_login("1.1.1.1", "ada@example.org"))
        await rates.hit("casting", "1.1.1.1", user_id=1)
    assert not rates.enabled and not rates._tat and not rates._known_pairs


@settings(max_examples=60, deadline=None)
@given(limit=st.integers(1, 20), gaps=st.lists(st.floats(0, 10), min_size=1, max_size=80))
def test_admitted_requests_never_exceed_the_burst_plus_the_refill(limit, gaps):
    """Invariant: over any stretch of t seconds at most limit + t * limit / 60 requests pass."""
    import asyncio

    rates, clock = limiter(per_address=limit)
    admitted = []

    async def run() -> None:
        for gap in gaps:
            clock.now += gap
            try:
                await rates.hit("login", "1.1.1.1")
                admitted.append(clock.now)
            except RateLimited:
                pass

    asyncio.run(run())
    for i, start in enumerate(admitted):
        for j in range(i, len(admitted)):
            assert j - i + 1 <= limit + (admitted[j] - start) * limit / 60 + 1e-9


def test_trusted_proxies_come_from_the_config_or_a_comma_separated_variable():
    from pb.settings import load_settings

    assert load_settings({}).trusted_proxies == ()
    settings = load_settings({"PB_SECURITY_TRUSTED_PROXIES": "10.0.0.2, fd00::/8"})
    assert settings.trusted_proxies == ("10.0.0.2", "fd00::/8")
    assert len(parse_networks(settings.trusted_proxies)) == 2
