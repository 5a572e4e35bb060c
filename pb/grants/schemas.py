"""Request and response bodies for grants, tranches and progress reports (explicit allow-lists)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from pb.core.inputs import Id, Input, line, text
from pb.core.fields import Currency, MinorUnits, MinorUnitsIn, UtcTime, choices, doc, money, utc

Amount = MinorUnitsIn
TRANCHE_STATUS_MEANINGS = {
    "planned": "planned by an official, waiting for a second official's approval (four eyes)",
    "approved": "approved, may be paid",
    "submitted": "payment sent to the gateway, not yet confirmed",
    "paid": "money with the grantee",
    "failed": "the payment failed (may be retried)",
    "reversed": "clawed back in full",
    "withdrawn": "never paid: the grant was cancelled",
}
REPORT_STATUS_MEANINGS = {
    "submitted": "waiting for an official's review",
    "accepted": "accepted by an official",
    "rejected": "rejected by an official (with a note)",
}
RECIPIENT_STATUS_MEANINGS = {
    "onboarding": "the group has not finished Stripe's onboarding",
    "ready": "Stripe accepts transfers to the group",
    "restricted": "Stripe does not accept transfers to the group now (see detail)",
}
GATEWAYS = {"ledger": "the city pays by its own bank and records the reference", "stripe": "Stripe Connect transfer"}


class CreateGrant(Input):
    proposal_id: Annotated[Id, doc("A selected proposal of the round.", 12)]
    amount: Annotated[Amount, money("The grant; default: the proposal's final cost.", 1_100_000)] | None = None


class PlanTranche(Input):
    amount: Annotated[Amount, money("This tranche's share of the grant.", 550_000)]
    condition: Annotated[line(500),
                         doc("When it may be paid.", "On signature of the grant agreement")]
    requires_report: Annotated[bool, doc("Approval needs an accepted progress report (one report unlocks one tranche).",
                                         False)] = False


class ReportProgress(Input):
    body: Annotated[text(10_000, min_length=1),
                    doc("What was done (public).", "The benches are ordered; installation in May.")]
    completion_percent: Annotated[int, msgspec.Meta(ge=0, le=100), doc("0 to 100.", 40)] = 0
    final: Annotated[bool, doc("This is the completion report the grant needs to end completed.", False)] = False


class GrantOut(msgspec.Struct):
    id: int
    round_id: int
    budget_id: int
    proposal_id: int
    grantee_user_id: int
    amount: Annotated[MinorUnits, money("The grant.", 1_100_000)]
    planned: Annotated[MinorUnits, money("Sum of its tranches that still hold money (all but reversed).", 1_100_000)]
    paid: Annotated[MinorUnits, money("Sum of its paid tranches.", 550_000)]
    status: Annotated[str, doc(choices("Where the grant stands.", {
        "active": "takes tranches and reports",
        "completed": "every tranche paid (or withdrawn/reversed) and the final report accepted",
        "cancelled": "ended early by an official; unpaid tranches withdrawn",
    }), "active")]
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
    failure_reason: Annotated[str, doc("Why the last payment attempt failed (the gateway's words).")] | None = None
    reversed_amount: Annotated[MinorUnits, money("Sum clawed back from this tranche so far.", 0)] = 0
    requires_report: Annotated[bool, doc("Approval needs an accepted progress report.")] = False
    report_id: Annotated[int, doc("The accepted progress report that unlocked this tranche.")] | None = None


class ReportOut(msgspec.Struct):
    id: int
    grant_id: int
    author: int
    body: str
    completion_percent: int
    created_at: Annotated[UtcTime, utc("When the report was written.")]
    is_final: Annotated[bool, doc("The completion report the grant needs to end completed.")] = False
    status: Annotated[str, doc(choices("Its review.", REPORT_STATUS_MEANINGS), "submitted")] = "submitted"
    reviewed_by: Annotated[int, doc("The official who accepted or rejected it.")] | None = None
    review_note: Annotated[str, doc("The official's note on the review.")] | None = None


class ReviewReport(Input):
    accept: Annotated[bool, doc("true: accept the report; false: reject it.", True)]
    note: Annotated[text(2000), doc("Note to the grantee.", "Photos received, thank you.")] = ""


class CancelGrant(Input):
    reason: Annotated[text(1000, min_length=1),
                      doc("Why the grant ends (public; unpaid tranches are withdrawn).", "The group dissolved.")]


class RecipientStateOut(msgspec.Struct):
    """Whether the grantee group can receive Stripe transfers (from Stripe's account events)."""

    status: Annotated[str, doc(choices("The connected account's state.", RECIPIENT_STATUS_MEANINGS), "ready")]
    detail: str
    updated_at: Annotated[UtcTime, utc("When Stripe last told us.")]


class GrantDetailOut(msgspec.Struct):
    grant: GrantOut
    tranches: list[TrancheOut]
    reports: list[ReportOut]
    recipient: RecipientStateOut | None = None


class FundedTrancheOut(msgspec.Struct):
    position: int
    amount: Annotated[MinorUnits, money("The tranche.", 550_000)]
    condition: str
    status: Annotated[str, doc(choices("Where the payment stands.", TRANCHE_STATUS_MEANINGS), "paid")]
    paid_at: Annotated[UtcTime, utc("When it was paid.")] | None


class FundedReportOut(msgspec.Struct):
    completion_percent: int
    body: str
    created_at: Annotated[UtcTime, utc("When the report was written.")]


class FundedProjectOut(msgspec.Struct):
    """A grant as the public sees it: no user ids, bank references or idempotency keys."""

    grant_id: int
    proposal_id: int
    title: str
    budget_id: int
    budget_name: str
    amount: Annotated[MinorUnits, money("The grant.", 1_100_000)]
    paid: Annotated[MinorUnits, money("Paid so far.", 550_000)]
    status: Annotated[str, doc("The grant's status: active, completed or cancelled.", "active")]
    currency: Currency
    tranches: list[FundedTrancheOut]
    reports: list[FundedReportOut]
