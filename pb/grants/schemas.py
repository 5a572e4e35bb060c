"""Request and response bodies for grants, tranches and progress reports (explicit allow-lists)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from pb.core.fields import Currency, MinorUnits, MinorUnitsIn, UtcTime, choices, doc, money, utc

Amount = MinorUnitsIn
TRANCHE_STATUS_MEANINGS = {
    "planned": "planned by an official, waiting for a second official's approval (four eyes)",
    "approved": "approved, may be paid",
    "submitted": "payment sent to the gateway, not yet confirmed",
    "paid": "money with the grantee",
    "failed": "the payment failed (may be retried)",
    "reversed": "clawed back",
}
GATEWAYS = {"ledger": "the city pays by its own bank and records the reference", "stripe": "Stripe Connect transfer"}


class CreateGrant(msgspec.Struct, forbid_unknown_fields=True):
    proposal_id: Annotated[int, doc("A selected proposal of the round.", 12)]
    amount: Annotated[Amount, money("The grant; default: the proposal's final cost.", 1_100_000)] | None = None


class PlanTranche(msgspec.Struct, forbid_unknown_fields=True):
    amount: Annotated[Amount, money("This tranche's share of the grant.", 550_000)]
    condition: Annotated[str, msgspec.Meta(min_length=1, max_length=500),
                         doc("When it may be paid.", "On signature of the grant agreement")]


class ReportProgress(msgspec.Struct, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000),
                    doc("What was done (public).", "The benches are ordered; installation in May.")]
    completion_percent: Annotated[int, msgspec.Meta(ge=0, le=100), doc("0 to 100.", 40)] = 0


class GrantOut(msgspec.Struct):
    id: int
    round_id: int
    budget_id: int
    proposal_id: int
    grantee_user_id: int
    amount: Annotated[MinorUnits, money("The grant.", 1_100_000)]
    planned: Annotated[MinorUnits, money("Sum of its tranches that still hold money (all but reversed).", 1_100_000)]
    paid: Annotated[MinorUnits, money("Sum of its paid tranches.", 550_000)]
    status: Annotated[str, doc("`active`: takes tranches (the only status so far).", "active")]
    currency: Currency
    created_at: Annotated[UtcTime, utc("When the grant was created.")]


class TrancheOut(msgspec.Struct):
    id: int
    grant_id: int
    position: Annotated[int, doc("1 for the first tranche of the grant, then 2, …")]
    amount: Annotated[MinorUnits, money("This tranche's share of the grant.", 550_000)]
    condition: str
    status: Annotated[str, doc(choices("Where the payment stands.", TRANCHE_STATUS_MEANINGS), "approved")]
    planned_by: int
    approved_by: int | None
    paid_by: int | None
    gateway: Annotated[str, doc(choices("How it is paid.", GATEWAYS), "ledger")]
    reference: Annotated[str, doc("The bank or gateway reference of the payment.")] | None
    idempotency_key: Annotated[str, doc("Sent with the payment so a retry never pays twice "
                                        "(tranche id + attempt).")] | None
    attempt: Annotated[int, doc("Payment attempts so far.")]
    paid_at: Annotated[UtcTime, utc("When it was paid.")] | None


class ReportOut(msgspec.Struct):
    id: int
    grant_id: int
    author: int
    body: str
    completion_percent: int
    created_at: Annotated[UtcTime, utc("When the report was written.")]


class GrantDetailOut(msgspec.Struct):
    grant: GrantOut
    tranches: list[TrancheOut]
    reports: list[ReportOut]
