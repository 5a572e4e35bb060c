"""What a payment gateway is asked to do and what it answers (pure value objects)."""

from __future__ import annotations

from dataclasses import dataclass

# What a gateway may answer for one attempt.
PAID, FAILED, PENDING = "paid", "failed", "pending"
OUTCOMES = (PAID, FAILED, PENDING)


@dataclass(frozen=True, slots=True)
class PaymentOrder:
    """One attempt to move a tranche's money, reproducible from the tranche row alone.

    ``idempotency_key`` is stored on the tranche before the gateway sees the order, so a resend of
    the same attempt carries the same key. ``reference`` is the treasurer's bank reference for
    gateways where the payment happens outside pb (the ledger); others ignore it.
    """

    tranche_id: int
    grant_id: int
    amount: int  # minor units
    currency: str
    attempt: int
    idempotency_key: str
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    status: str  # one of OUTCOMES
    reference: str | None = None  # bank reference or gateway transfer id
    detail: str = ""

    def __post_init__(self) -> None:
        if self.status not in OUTCOMES:
            raise ValueError(f"unknown payment outcome {self.status!r}")
