"""The payment port: every way of paying a tranche is a Gateway, registered by name.

- ``ledger`` (always there, the default): the city pays by its own bank and an official confirms
  with the bank reference; ``disburse`` settles at once.
- ``stripe`` (registered at start-up when configured, see ``pb.payments.runtime``): Stripe Connect;
  payments go through the outbox and the worker (``pb.payments.worker``).

The service writes the tranche's attempt and idempotency key BEFORE any gateway call and calls it
OUTSIDE any database transaction.
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


class ReferenceGateway(Gateway, Protocol):
    async def disburse(self, order: PaymentOrder) -> PaymentOutcome:
        """Pay ``order`` once per idempotency key; repeating a key must not pay twice."""
        ...


GATEWAYS: dict[str, Gateway] = {LedgerGateway.name: LedgerGateway()}
DEFAULT_GATEWAY = LedgerGateway.name
STRIPE = "stripe"


def gateway_named(name: str) -> Gateway:
    try:
        return GATEWAYS[name]
    except KeyError:
        raise Conflict(
            f"The payment gateway {name!r} is not configured here"
            + (" (set payments.stripe_enabled and put the Stripe secrets in the secrets folder)." if name == STRIPE
               else "."),
            code="gateway_missing",
        ) from None


def register(gateway: Gateway) -> None:
    GATEWAYS[gateway.name] = gateway


def unregister(name: str) -> None:
    if name != DEFAULT_GATEWAY:
        GATEWAYS.pop(name, None)


def stripe_gateway():
    """The registered Stripe gateway, or None where Stripe is not configured."""
    return GATEWAYS.get(STRIPE)
