"""Rate limits on the sensitive flows: login, sign-up, token refresh, census binding, casting, submitting.

How a limit works. Every budget is a token bucket of ``limit`` requests that refills continuously
at ``limit`` per minute, stored as a single number per key (GCRA, the "theoretical arrival time").
A burst of ``limit`` passes, then one request every ``60 / limit`` seconds. A refused request is not
counted, so hammering does not lengthen the wait: whoever slows down is let in again within
``60 / limit`` seconds (2 s at 30 a minute). Refusals are 429 with ``Retry-After`` and the wait in
words.

What is counted. Each flow has its own buckets (a burst of logins does not block voting):
- per client address, every request (IPv6 addresses grouped by /64, which one subscriber owns);
- per account: the signed-in user for binding, casting and submitting; for login the email given,
  counting failed attempts only (a correct password gives its token back).

The person with the right password. An attacker guessing one account's password from many
addresses drains that account's bucket; someone flooding from a shared address (a library, a
mobile carrier's NAT) drains the address bucket. Neither keeps out a person who has signed in to
the account from their address before: once a login succeeds, that (account, address) pair gets a
bucket of its own, charged only with that pair's own failures, and is then exempt from the shared
address and account buckets. A person on a new address waits at most ``60 / limit`` seconds per
attempt while others keep hammering.

Client address. The peer address of the connection; ``X-Forwarded-For`` is read only when the peer
is one of ``security.trusted_proxies``, and then from the right, skipping trusted proxies, so a
client cannot choose its own address by sending the header.

Several processes. The buckets live in this process's memory, so the limits are exact for
``pb serve`` (one process). With W worker processes or machines each counts on its own: a client
gets at most W times the limits, and a known (account, address) pair is known only to the process
that saw the login. Put a shared limit at the load balancer for a hard global cap.

Cost. Disabled (both limits 0), a guard returns after one attribute check. Enabled, a check is a
few dictionary operations with no I/O; the methods are ``async`` so a shared store can replace
the in-memory one without changing callers.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Hashable, Iterable, Sequence

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from pb.core.errors import TooManyRequests

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_KEYS = 200_000  # buckets kept in memory; idle ones are forgotten first
KNOWN_PAIR_DAYS = 30  # how long a successful login keeps an (account, address) pair known


def wait_in_words(seconds: float) -> str:
    """'1 second', '12 seconds', '3 minutes' (rounded up: never promise less than the real wait)."""
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"{whole} second{'s' if whole != 1 else ''}"
    return f"{math.ceil(whole / 60)} minutes"


class RateLimited(TooManyRequests):
    """429 with the wait: ``Retry-After`` in seconds and the same in words in the detail."""

    def __init__(self, what: str, wait_seconds: float):
        retry_after = max(1, math.ceil(wait_seconds))
        super().__init__(f"Too many {what}; try again in {wait_in_words(wait_seconds)}.",
                         code="rate_limited", extra={"retry_after": retry_after},
                         headers={"Retry-After": str(retry_after)})


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``["10.0.0.1", "192.168.0.0/16", "::1"]`` -> networks; a bad entry raises ValueError naming it."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"security.trusted_proxies: {entry!r} is not an IP address or network") from error
    return tuple(networks)


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _bucket_of(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The address a request is counted against (see the module docstring)."""
    address = _parse_ip(peer or "")
    if address is None:
        return peer or "unknown"

    def is_trusted(candidate) -> bool:
        return any(candidate in network for network in trusted)

    if trusted and is_trusted(address):
        hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            hop_address = _parse_ip(hop)
            if hop_address is None:
                break  # garbage from a client: count against the last proxy that vouched for it
            address = hop_address
            if not is_trusted(hop_address):
                break
    return _bucket_of(address)


def account_key(email: str) -> bytes:
    """Login accounts are keyed by a digest of the email, so no email address sits in memory."""
    return hashlib.blake2b(email.strip().lower().encode(), digest_size=16).digest()


@dataclass
class LoginAttempt:
    """A login that passed the limiter; its account token is given back if the password was right."""

    account: bytes
    address: str
    key: Hashable


@dataclass
class RateLimiter:
    per_address: int
    per_account: int
    trusted_proxies: tuple[Network, ...] = ()
    clock: Callable[[], float] = time.monotonic
    _tat: dict[Hashable, float] = field(default_factory=dict)
    _known_pairs: OrderedDict[tuple[bytes, str], float] = field(default_factory=OrderedDict)

    @property
    def enabled(self) -> bool:
        return self.per_address > 0 or self.per_account > 0

    def address_of(self, connection: ASGIConnection) -> str:
        peer = connection.client.host if connection.client else None
        forwarded = [value.decode("latin-1") for name, value in connection.scope["headers"]
                     if name == b"x-forwarded-for"]
        return client_address(peer, forwarded, self.trusted_proxies)

    # --- buckets ---------------------------------------------------------------------------------

    def _wait(self, key: Hashable, limit: int, now: float) -> float:
        """Seconds until ``key`` may make one more request (0: now)."""
        interval = 60.0 / limit
        tat = max(self._tat.get(key, now), now)
        return max(0.0, tat + interval - now - 60.0)

    def _charge(self, key: Hashable, limit: int, now: float) -> None:
        self._tat[key] = max(self._tat.get(key, now), now) + 60.0 / limit
        if len(self._tat) > MAX_KEYS:
            self._forget_idle(now)

    def _refund(self, key: Hashable, limit: int) -> None:
        if key in self._tat:
            self._tat[key] -= 60.0 / limit

    def _forget_idle(self, now: float) -> None:
        """Drop full buckets (they behave exactly like absent ones); under a flood, the fullest half."""
        self._tat = {key: tat for key, tat in self._tat.items() if tat > now}
        if len(self._tat) > MAX_KEYS:
            keep = sorted(self._tat.items(), key=lambda item: item[1])[len(self._tat) // 2:]
            self._tat = dict(keep)

    def _take(self, budgets: Sequence[tuple[Hashable, int, str]]) -> None:
        """Charge every (key, limit, whose) budget, or none of them and raise RateLimited.

        No ``await`` between the check and the charge: concurrent requests in this process
        cannot both pass on the last token.
        """
        now = self.clock()
        budgets = [(key, limit, whose) for key, limit, whose in budgets if limit > 0]
        waits = [(self._wait(key, limit, now), whose) for key, limit, whose in budgets]
        longest, whose = max(waits, default=(0.0, ""), key=lambda pair: pair[0])
        if longest > 0:
            raise RateLimited(whose, longest)
        for key, limit, _ in budgets:
            self._charge(key, limit, now)

    # --- flows -----------------------------------------------------------------------------------

    async def hit(self, flow: str, address: str, user_id: int | None = None) -> None:
        """Count one request of ``flow`` from ``address`` (and by ``user_id`` when signed in)."""
        budgets = [((flow, "address", address), self.per_address, f"{flow} requests from your address")]
        if user_id is not None:
            budgets.append(((flow, "account", user_id), self.per_account, f"{flow} requests from your account"))
        self._take(budgets)

    def _pair_known(self, pair: tuple[bytes, str], now: float) -> bool:
        expires = self._known_pairs.get(pair)
        if expires is None or expires < now:
            return False
        self._known_pairs.move_to_end(pair)
        return True

    async def begin_login(self, address: str, email: str) -> LoginAttempt | None:
        """Admit a login attempt or raise RateLimited; hand the result to ``login_succeeded``."""
        if not self.enabled:
            return None
        account = account_key(email)
        if self._pair_known((account, address), self.clock()):
            key = ("login", "pair", account, address)
            self._take([(key, self.per_account, "failed sign-ins to this account from your address")])
        else:
            key = ("login", "account", account)
            self._take([(("login", "address", address), self.per_address, "sign-in attempts from your address"),
                        (key, self.per_account, "failed sign-ins to this account")])
        return LoginAttempt(account, address, key)

    async def login_succeeded(self, attempt: LoginAttempt | None) -> None:
        """A right password: give the account token back and remember the (account, address) pair."""
        if attempt is None:
            return
        self._refund(attempt.key, self.per_account)
        pair = (attempt.account, attempt.address)
        self._known_pairs[pair] = self.clock() + KNOWN_PAIR_DAYS * 86400
        self._known_pairs.move_to_end(pair)
        while len(self._known_pairs) > MAX_KEYS:
            self._known_pairs.popitem(last=False)


def rate_limited(flow: str):
    """Guard: count the request against ``flow``'s address bucket and, when signed in, the account's."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        limiter: RateLimiter = connection.app.state.rate_limiter
        if not limiter.enabled:
            return
        user = connection.scope.get("user")
        await limiter.hit(flow, limiter.address_of(connection), getattr(user, "user_id", None))

    guard.__name__ = f"rate_limited_{flow}"
    return guard
