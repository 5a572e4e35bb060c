"""Request and response bodies for payments (explicit allow-lists)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from pb.core.inputs import Input, line, text
from pb.core.fields import MinorUnits, UtcTime, choices, doc, money, utc

Reference = line(200)
Amount = Annotated[int, msgspec.Meta(gt=0, le=10**15)]
GATEWAY_MEANINGS = {
    "ledger": "the city pays by its own bank and records the reference",
    "stripe": "Stripe Connect transfers from the platform balance",
}
RECIPIENT_STATUS_MEANINGS = {
    "onboarding": "the group has not finished Stripe's onboarding",
    "ready": "Stripe accepts transfers to the group",
    "restricted": "Stripe does not accept transfers to the group now (see detail)",
}
REVERSAL_STATUS_MEANINGS = {
    "requested": "asked for by one official, waiting for a second (four eyes)",
    "approved": "approved, being carried out",
    "done": "the money is back",
    "refused": "the gateway refused it (see failure_reason)",
}
ORDER_STATE_MEANINGS = {
    "pending": "written, not yet confirmed by Stripe (a worker sends or looks it up)",
    "done": "Stripe confirmed it",
    "failed": "Stripe refused it (see last_error)",
}
FINDING_MEANINGS = {
    "missing_at_stripe": "pb says paid, Stripe has no transfer for the tranche",
    "unknown_at_stripe": "a transfer naming this installation that pb did not record",
    "amount_differs": "Stripe's amount is not the tranche's",
    "reversed_outside_pb": "Stripe shows a reversal pb did not make",
    "settled_at_stripe": "pb still waited, Stripe made exactly the transfer: adopted (fixed)",
}


class PayTranche(Input):
    reference: Annotated[Reference, doc("The bank reference of the transfer (required by the ledger gateway).",
                                        "SEPA-2026-05-0042")] | None = None


class RequestReversal(Input):
    reason: Annotated[text(1000, min_length=1),
                      doc("Why the money is taken back.", "The project was not carried out.")]
    amount: Annotated[Amount, money("How much to take back; default: everything not yet taken back.",
                                    200_000)] | None = None
    reference: Annotated[Reference, doc("The bank reference of the returned money (ledger gateway).",
                                        "SEPA-2026-06-0007")] | None = None


class ChooseGateway(Input):
    gateway: Annotated[Literal["ledger", "stripe"], doc(choices("How new tranches are paid.", GATEWAY_MEANINGS),
                                                        "ledger")]


class GatewayOut(msgspec.Struct):
    gateway: Annotated[str, doc(choices("How new tranches are paid.", GATEWAY_MEANINGS), "ledger")]
    stripe_available: Annotated[bool, doc("Whether this installation is configured for Stripe.")]


class RecipientOut(msgspec.Struct):
    account_id: Annotated[str, doc("The grantee group's Stripe connected account.")]
    status: Annotated[str, doc(choices("Whether it can receive transfers.", RECIPIENT_STATUS_MEANINGS), "ready")]
    detail: str
    updated_at: Annotated[UtcTime, utc("When Stripe last told us.")]


class OnboardingLinkOut(msgspec.Struct):
    url: Annotated[str, doc("Stripe-hosted onboarding page for the group (single use).")]
    expires_at: Annotated[str, doc("When the link stops working (UTC, ISO 8601).")]
    recipient: RecipientOut


class ReversalOut(msgspec.Struct):
    id: int
    grant_id: int
    tranche_id: int
    amount: Annotated[MinorUnits, money("Amount taken back.", 200_000)]
    reason: Annotated[str, doc("Why the money is taken back (the requesting official's words).")]
    reference: str | None
    status: Annotated[str, doc(choices("Where the clawback stands.", REVERSAL_STATUS_MEANINGS), "requested")]
    requested_by: int
    approved_by: int | None
    failure_reason: str | None
    created_at: Annotated[UtcTime, utc("When it was requested.")]
    decided_at: Annotated[UtcTime, utc("When it was carried out or refused.")] | None


class OrderOut(msgspec.Struct):
    id: int
    kind: Annotated[str, doc(choices("What is sent to Stripe.", {"transfer": "a payment",
                                                                  "reversal": "a clawback"}), "transfer")]
    tranche_id: int
    reversal_id: int | None
    attempt: Annotated[int, doc("Payment attempt of the tranche (a retry after a failure is a new attempt).")]
    idempotency_key: Annotated[str, doc("Sent with every request for this order, so Stripe acts on it once.")]
    amount: Annotated[MinorUnits, money("Amount of the order.", 550_000)]
    state: Annotated[str, doc(choices("Where the order stands.", ORDER_STATE_MEANINGS), "done")]
    sends: Annotated[int, doc("Requests sent to Stripe for it so far.")]
    stripe_id: Annotated[str, doc("Stripe's id of the transfer or reversal.")] | None
    last_error: str | None
    created_at: Annotated[UtcTime, utc("When the order was written.")]
    finished_at: Annotated[UtcTime, utc("When Stripe's answer was recorded.")] | None


class TranchePaymentOut(msgspec.Struct):
    id: int
    position: int
    amount: Annotated[MinorUnits, money("The tranche.", 550_000)]
    status: Annotated[str, doc("The tranche's status (see TrancheOut.status).", "paid")]
    gateway: Annotated[str, doc(choices("How it is paid.", GATEWAY_MEANINGS), "stripe")]
    attempt: int
    reference: str | None
    failure_reason: str | None
    reversed_amount: Annotated[MinorUnits, money("Sum clawed back so far.", 0)]


class PaymentStateOut(msgspec.Struct):
    gateway: Annotated[str, doc(choices("How new tranches are paid.", GATEWAY_MEANINGS), "stripe")]
    recipient: RecipientOut | None
    tranches: list[TranchePaymentOut]
    orders: list[OrderOut]
    reversals: list[ReversalOut]


class FindingOut(msgspec.Struct):
    kind: Annotated[str, doc(choices("The kind of discrepancy.", FINDING_MEANINGS), "amount_differs")]
    subject: str
    detail: str
    fixed: Annotated[bool, doc("pb fixed it (only what is provably safe).")]
    tranche_id: int | None
    transfer_id: str | None


class ReconciliationOut(msgspec.Struct):
    organisation_id: int
    tranches_checked: int
    transfers_seen: int
    findings: list[FindingOut]
    seconds: Annotated[float, doc("How long the run took.")] | None = None
    started_at: Annotated[UtcTime, utc("When the run started.")] | None = None
