"""Per-flow rate limits (login, sign-up, casting, census binding, submitting).

A fixed one-minute window per (flow, client address), kept in process memory. Litestar's built-in
limiter counts every route together; here each sensitive flow has its own budget, so a burst of
logins does not block voting. With several workers each process counts separately: put a shared
limit at the load balancer for a hard global cap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from pb.core.errors import TooManyRequests


@dataclass
class RateLimiter:
    per_minute: int
    _windows: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    def hit(self, flow: str, client: str, now: float | None = None) -> bool:
        """Count one request; False when the client is over the flow's limit this minute."""
        if self.per_minute <= 0:
            return True
        minute = int((now if now is not None else time.time()) // 60)
        window, count = self._windows.get((flow, client), (minute, 0))
        if window != minute:
            window, count = minute, 0
        self._windows[(flow, client)] = (window, count + 1)
        if len(self._windows) > 100_000:  # forget old windows so memory stays bounded
            self._windows = {k: v for k, v in self._windows.items() if v[0] == minute}
        return count + 1 <= self.per_minute


def rate_limited(flow: str):
    """A guard that refuses with 429 once the client exceeds the flow's per-minute limit."""

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        limiter: RateLimiter = connection.app.state.rate_limiter
        client = connection.client.host if connection.client else "unknown"
        if not limiter.hit(flow, client):
            raise TooManyRequests(f"Too many {flow} requests from your address; wait a minute and try again.")

    guard.__name__ = f"rate_limited_{flow}"
    return guard
