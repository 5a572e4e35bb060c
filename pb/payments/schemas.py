"""Request and response bodies for payments (explicit allow-lists)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Amount = Annotated[int, msgspec.Meta(gt=0, le=10**15)]


class PayTranche(msgspec.Struct, forbid_unknown_fields=True):
    reference: Reference | None = None  # the bank reference (required by the ledger)


class RequestReversal(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    amount: Amount | None = None  # default: everything not yet taken back
    reference: Reference | None = None  # ledger: the bank reference of the returned money


class ChooseGateway(msgspec.Struct, forbid_unknown_fields=True):
    gateway: Literal["ledger", "stripe"]


class GatewayOut(msgspec.Struct):
    gateway: str
    stripe_available: bool


class RecipientOut(msgspec.Struct):
    account_id: str
    status: str
    detail: str
    updated_at: datetime


class OnboardingLinkOut(msgspec.Struct):
    url: str
    expires_at: str
    recipient: RecipientOut


class ReversalOut(msgspec.Struct):
    id: int
    grant_id: int
    tranche_id: int
    amount: int
    reason: str
    reference: str | None
    status: str
    requested_by: int
    approved_by: int | None
    failure_reason: str | None
    created_at: datetime
    decided_at: datetime | None


class OrderOut(msgspec.Struct):
    id: int
    kind: str
    tranche_id: int
    reversal_id: int | None
    attempt: int
    idempotency_key: str
    amount: int
    state: str
    sends: int
    stripe_id: str | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None


class TranchePaymentOut(msgspec.Struct):
    id: int
    position: int
    amount: int
    status: str
    gateway: str
    attempt: int
    reference: str | None
    failure_reason: str | None
    reversed_amount: int


class PaymentStateOut(msgspec.Struct):
    gateway: str
    recipient: RecipientOut | None
    tranches: list[TranchePaymentOut]
    orders: list[OrderOut]
    reversals: list[ReversalOut]


class FindingOut(msgspec.Struct):
    kind: str
    subject: str
    detail: str
    fixed: bool
    tranche_id: int | None
    transfer_id: str | None


class ReconciliationOut(msgspec.Struct):
    organisation_id: int
    tranches_checked: int
    transfers_seen: int
    findings: list[FindingOut]
    seconds: float | None = None
    started_at: datetime | None = None
