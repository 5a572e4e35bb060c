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


# --- Stripe: deterministic keys, transfer groups and metadata ---------------------------------

TRANSFER, REVERSAL = "transfer", "reversal"  # kinds of outbox orders
PENDING_ORDER, DONE_ORDER, FAILED_ORDER = "pending", "done", "failed"
# Recipient readiness, from account events (re-fetched), never from the onboarding redirect.
ONBOARDING, READY, RESTRICTED = "onboarding", "ready", "restricted"
# Reconciliation classes.
MISSING_AT_STRIPE = "missing_at_stripe"  # pb says paid, Stripe has no transfer for the tranche
UNKNOWN_AT_STRIPE = "unknown_at_stripe"  # a transfer naming this deployment that pb did not record
AMOUNT_DIFFERS = "amount_differs"
REVERSED_OUTSIDE_PB = "reversed_outside_pb"
SETTLED_AT_STRIPE = "settled_at_stripe"  # pb still waits, Stripe made exactly the transfer: adopted (fixed)
FINDING_CLASSES = (MISSING_AT_STRIPE, UNKNOWN_AT_STRIPE, AMOUNT_DIFFERS, REVERSED_OUTSIDE_PB, SETTLED_AT_STRIPE)


def stripe_key(deployment_id: str, kind: str, row_id: int, attempt: int = 0) -> str:
    """Stripe's idempotency key: the same row and attempt always give the same key (≤ 255 chars)."""
    return f"{deployment_id}:{kind}:{row_id}:{attempt}"


def transfer_group(deployment_id: str, grant_id: int) -> str:
    """All transfers of one grant share a transfer group (Stripe lists transfers by it)."""
    return f"{deployment_id}:grant:{grant_id}"


def transfer_metadata(deployment_id: str, organisation_id: int, grant_id: int, tranche_id: int,
                      attempt: int) -> dict[str, str]:
    """What a transfer says about itself: enough to map any Stripe transfer back to one tranche."""
    return {"pb_deployment": deployment_id, "organisation_id": str(organisation_id), "grant_id": str(grant_id),
            "tranche_id": str(tranche_id), "attempt": str(attempt)}


@dataclass(frozen=True, slots=True)
class GatewayAnswer:
    """What one call to Stripe established.

    ``done``: the object exists (``stripe_id``). ``refused``: Stripe refused definitively (nothing
    happened; a new attempt needs a new key). ``unknown``: the call may or may not have reached
    Stripe (network, 5xx, key in use…): never resend blindly, look the object up first.
    """

    status: str  # done | refused | unknown
    stripe_id: str | None = None
    request_id: str | None = None
    reason: str = ""


DONE, REFUSED, UNKNOWN = "done", "refused", "unknown"


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # one of FINDING_CLASSES
    subject: str  # tranche:<id> or transfer:<id>
    detail: str
    fixed: bool = False
    tranche_id: int | None = None
    transfer_id: str | None = None

    def as_dict(self) -> dict:
        return {"kind": self.kind, "subject": self.subject, "detail": self.detail, "fixed": self.fixed,
                "tranche_id": self.tranche_id, "transfer_id": self.transfer_id}


def recipient_status(transfers_capability_status: str | None) -> str:
    """A connected account may receive transfers only when Stripe says the capability is active."""
    if transfers_capability_status == "active":
        return READY
    if transfers_capability_status in ("rejected", "unsupported"):
        return RESTRICTED
    return ONBOARDING
