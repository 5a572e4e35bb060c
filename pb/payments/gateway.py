"""The payment port: every way of paying a tranche (ledger now, Stripe Connect later) is a Gateway.

The service writes the tranche's attempt and idempotency key BEFORE calling ``disburse`` and calls
it OUTSIDE any database transaction, so a gateway that talks to the network can plug in unchanged.
"""

from __future__ import annotations

from typing import Protocol

from pb.core.errors import Conflict
from pb.payments.domain import PaymentOrder, PaymentOutcome
from pb.payments.ledger import LedgerGateway


class Gateway(Protocol):
    name: str
    # True when the money moves outside pb and an official confirms it with a bank reference.
    needs_reference: bool

    async def disburse(self, order: PaymentOrder) -> PaymentOutcome:
        """Pay ``order`` once per idempotency key; repeating a key must not pay twice."""
        ...

    async def claw_back(self, order: PaymentOrder) -> PaymentOutcome:
        """Take a paid tranche's money back (a reversal), once per idempotency key."""
        ...


GATEWAYS: dict[str, Gateway] = {LedgerGateway.name: LedgerGateway()}
DEFAULT_GATEWAY = LedgerGateway.name


def gateway_named(name: str) -> Gateway:
    try:
        return GATEWAYS[name]
    except KeyError:
        raise Conflict(f"The payment gateway {name!r} is not configured here.", code="gateway_missing") from None
