"""Queries for payment settings, recipients, the outbox, reversals, Stripe events and reconciliation.

Every state change is one conditional ``UPDATE … WHERE <expected state> … RETURNING``: a worker
leases an order only if nobody holds it, an order is answered once, a reversal is approved only by
someone other than who requested it, an event is processed once. ``None``/``False`` means someone
else got there first.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from piccolo.columns.combination import WhereRaw

from pb.core.clock import utcnow
from pb.payments.domain import DONE_ORDER, PENDING_ORDER
from pb.payments.tables import (
    PaymentOrder, PaymentRecipient, PaymentSettings, ReconciliationRun, Reversal, StripeEvent,
)


class OrderRow(msgspec.Struct):
    id: int
    organisation_id: int
    kind: str
    grant_id: int
    tranche_id: int
    reversal_id: int | None
    attempt: int
    idempotency_key: str
    amount: int
    currency: str
    destination: str
    transfer_group: str
    state: str
    lease_until: datetime | None
    sends: int
    stripe_id: str | None
    request_id: str | None
    last_error: str | None
    requested_by: int
    created_at: datetime
    finished_at: datetime | None


class RecipientRow(msgspec.Struct):
    id: int
    organisation_id: int
    grantee_user_id: int
    account_id: str
    status: str
    detail: str
    updated_at: datetime


class ReversalRow(msgspec.Struct):
    id: int
    organisation_id: int
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


class EventRow(msgspec.Struct):
    event_id: str
    endpoint: str
    type: str
    account: str | None
    object_id: str | None
    livemode: bool


def _one(row, kind):
    return msgspec.convert(row, kind) if row else None


# --- gateway per organisation -------------------------------------------------------------------

async def gateway_of(organisation_id: int) -> str | None:
    row = await PaymentSettings.select(PaymentSettings.gateway).where(
        PaymentSettings.organisation_id == organisation_id).first()
    return row["gateway"] if row else None


async def set_gateway(organisation_id: int, gateway: str, user_id: int) -> None:
    updated = await PaymentSettings.update({
        PaymentSettings.gateway: gateway, PaymentSettings.updated_by: user_id, PaymentSettings.updated_at: utcnow(),
    }).where(PaymentSettings.organisation_id == organisation_id).returning(PaymentSettings.id)
    if not updated:
        await PaymentSettings.insert(PaymentSettings(organisation_id=organisation_id, gateway=gateway,
                                                     updated_by=user_id, updated_at=utcnow()))


async def organisations_on(gateway: str) -> list[int]:
    rows = await PaymentSettings.select(PaymentSettings.organisation_id).where(PaymentSettings.gateway == gateway)
    return [row["organisation_id"] for row in rows]


# --- recipients ---------------------------------------------------------------------------------

_RECIPIENT = (PaymentRecipient.id, PaymentRecipient.organisation_id, PaymentRecipient.grantee_user_id,
              PaymentRecipient.account_id, PaymentRecipient.status, PaymentRecipient.detail,
              PaymentRecipient.updated_at)


async def recipient(organisation_id: int, grantee_user_id: int) -> RecipientRow | None:
    return _one(await PaymentRecipient.select(*_RECIPIENT).where(
        (PaymentRecipient.organisation_id == organisation_id)
        & (PaymentRecipient.grantee_user_id == grantee_user_id)).first(), RecipientRow)


async def recipient_by_account(account_id: str) -> RecipientRow | None:
    return _one(await PaymentRecipient.select(*_RECIPIENT).where(
        PaymentRecipient.account_id == account_id).first(), RecipientRow)


async def insert_recipient(organisation_id: int, grantee_user_id: int, account_id: str, status: str,
                           detail: str) -> None:
    now = utcnow()
    await PaymentRecipient.insert(PaymentRecipient(
        organisation_id=organisation_id, grantee_user_id=grantee_user_id, account_id=account_id, status=status,
        detail=detail, created_at=now, updated_at=now))


async def change_recipient_status(account_id: str, status: str, detail: str) -> bool:
    """Only a real change is written (and audited): a repeated event changes nothing."""
    rows = await PaymentRecipient.update({
        PaymentRecipient.status: status, PaymentRecipient.detail: detail, PaymentRecipient.updated_at: utcnow(),
    }).where((PaymentRecipient.account_id == account_id)
             & ((PaymentRecipient.status != status) | (PaymentRecipient.detail != detail))
             ).returning(PaymentRecipient.id)
    return bool(rows)


# --- the outbox ---------------------------------------------------------------------------------

_ORDER = tuple(PaymentOrder._meta.columns)


async def insert_order(**values) -> int:
    rows = await PaymentOrder.insert(PaymentOrder(**values, state=PENDING_ORDER, sends=0, created_at=utcnow())
                                     ).returning(PaymentOrder.id)
    return rows[0]["id"]


async def order(order_id: int) -> OrderRow | None:
    return _one(await PaymentOrder.select(*_ORDER).where(PaymentOrder.id == order_id).first(), OrderRow)


async def pending_transfer_order(tranche_id: int, attempt: int) -> OrderRow | None:
    return _one(await PaymentOrder.select(*_ORDER).where(
        (PaymentOrder.tranche_id == tranche_id) & (PaymentOrder.kind == "transfer")
        & (PaymentOrder.attempt == attempt) & (PaymentOrder.state == PENDING_ORDER)).first(), OrderRow)


async def pending_reversal_order(reversal_id: int) -> OrderRow | None:
    return _one(await PaymentOrder.select(*_ORDER).where(
        (PaymentOrder.reversal_id == reversal_id) & (PaymentOrder.kind == "reversal")
        & (PaymentOrder.state == PENDING_ORDER)).first(), OrderRow)


async def due_orders(now: datetime, limit: int) -> list[int]:
    rows = await PaymentOrder.select(PaymentOrder.id).where(
        (PaymentOrder.state == PENDING_ORDER)
        & (PaymentOrder.lease_until.is_null() | (PaymentOrder.lease_until < now))
    ).order_by(PaymentOrder.id).limit(limit)
    return [row["id"] for row in rows]


async def lease_order(order_id: int, now: datetime, until: datetime) -> OrderRow | None:
    """Take a pending order nobody holds; ``sends`` counts calls that may have reached Stripe."""
    rows = await PaymentOrder.update({PaymentOrder.lease_until: until, PaymentOrder.sends: PaymentOrder.sends + 1}).where(
        (PaymentOrder.id == order_id) & (PaymentOrder.state == PENDING_ORDER)
        & (PaymentOrder.lease_until.is_null() | (PaymentOrder.lease_until < now))
    ).returning(*_ORDER)
    return _one(rows[0], OrderRow) if rows else None


async def finish_order(order_id: int, state: str, stripe_id: str | None, request_id: str | None,
                       error: str | None) -> bool:
    """pending -> done|failed, once."""
    rows = await PaymentOrder.update({
        PaymentOrder.state: state, PaymentOrder.stripe_id: stripe_id, PaymentOrder.request_id: request_id,
        PaymentOrder.last_error: error, PaymentOrder.finished_at: utcnow(), PaymentOrder.lease_until: None,
    }).where((PaymentOrder.id == order_id) & (PaymentOrder.state == PENDING_ORDER)).returning(PaymentOrder.id)
    return bool(rows)


async def note_order_error(order_id: int, error: str) -> None:
    await PaymentOrder.update({PaymentOrder.last_error: error}).where(
        (PaymentOrder.id == order_id) & (PaymentOrder.state == PENDING_ORDER))


async def orders_of_tranches(tranche_ids: list[int]) -> list[OrderRow]:
    if not tranche_ids:
        return []
    rows = await PaymentOrder.select(*_ORDER).where(PaymentOrder.tranche_id.is_in(tranche_ids)).order_by(
        PaymentOrder.id)
    return [msgspec.convert(row, OrderRow) for row in rows]


async def transfer_ids_done(organisation_id: int) -> set[str]:
    rows = await PaymentOrder.select(PaymentOrder.stripe_id).where(
        (PaymentOrder.organisation_id == organisation_id) & (PaymentOrder.kind == "transfer")
        & (PaymentOrder.state == DONE_ORDER))
    return {row["stripe_id"] for row in rows}


# --- reversals ----------------------------------------------------------------------------------

_REVERSAL = tuple(Reversal._meta.columns)


async def insert_reversal(organisation_id: int, grant_id: int, tranche_id: int, amount: int, reason: str,
                          reference: str | None, requested_by: int) -> int:
    rows = await Reversal.insert(Reversal(
        organisation_id=organisation_id, grant_id=grant_id, tranche_id=tranche_id, amount=amount, reason=reason,
        reference=reference, status="requested", requested_by=requested_by, created_at=utcnow(),
    )).returning(Reversal.id)
    return rows[0]["id"]


async def reversal(organisation_id: int, reversal_id: int) -> ReversalRow | None:
    return _one(await Reversal.select(*_REVERSAL).where(
        (Reversal.id == reversal_id) & (Reversal.organisation_id == organisation_id)).first(), ReversalRow)


async def reversals_of(tranche_ids: list[int]) -> list[ReversalRow]:
    if not tranche_ids:
        return []
    rows = await Reversal.select(*_REVERSAL).where(Reversal.tranche_id.is_in(tranche_ids)).order_by(Reversal.id)
    return [msgspec.convert(row, ReversalRow) for row in rows]


async def approve_reversal(reversal_id: int, approver: int) -> bool:
    """requested -> approved only by an official other than the requester (four eyes, in the DB)."""
    rows = await Reversal.update({Reversal.status: "approved", Reversal.approved_by: approver}).where(
        (Reversal.id == reversal_id) & (Reversal.status == "requested") & WhereRaw("requested_by <> {}", approver)
    ).returning(Reversal.id)
    return bool(rows)


async def close_reversal(reversal_id: int, status: str, failure_reason: str | None = None) -> bool:
    """approved -> done|refused, once."""
    rows = await Reversal.update({Reversal.status: status, Reversal.failure_reason: failure_reason,
                                  Reversal.decided_at: utcnow()}).where(
        (Reversal.id == reversal_id) & (Reversal.status == "approved")).returning(Reversal.id)
    return bool(rows)


# --- Stripe events ------------------------------------------------------------------------------

async def store_event(event_id: str, endpoint: str, type_: str, account: str | None, object_id: str | None,
                      livemode: bool) -> bool:
    """False when the event was already stored (Stripe delivers at least once)."""
    existing = await StripeEvent.select(StripeEvent.id).where(StripeEvent.event_id == event_id).first()
    if existing:
        return False
    await StripeEvent.insert(StripeEvent(event_id=event_id, endpoint=endpoint, type=type_, account=account,
                                         object_id=object_id, livemode=livemode, received_at=utcnow()))
    return True


async def unprocessed_events(limit: int = 100) -> list[str]:
    rows = await StripeEvent.select(StripeEvent.event_id).where(StripeEvent.processed_at.is_null()).order_by(
        StripeEvent.id).limit(limit)
    return [row["event_id"] for row in rows]


async def claim_event(event_id: str) -> EventRow | None:
    rows = await StripeEvent.update({StripeEvent.processed_at: utcnow()}).where(
        (StripeEvent.event_id == event_id) & StripeEvent.processed_at.is_null()
    ).returning(StripeEvent.event_id, StripeEvent.endpoint, StripeEvent.type, StripeEvent.account,
                StripeEvent.object_id, StripeEvent.livemode)
    return _one(rows[0], EventRow) if rows else None


async def event_outcome(event_id: str, outcome: str | None, processed: bool = True) -> None:
    values = {StripeEvent.outcome: outcome}
    if not processed:
        values[StripeEvent.processed_at] = None
    await StripeEvent.update(values).where(StripeEvent.event_id == event_id)


# --- reconciliation runs ------------------------------------------------------------------------

async def insert_run(organisation_id: int, started_at: datetime, tranches: int, transfers: int,
                     findings_json: str) -> int:
    rows = await ReconciliationRun.insert(ReconciliationRun(
        organisation_id=organisation_id, started_at=started_at, finished_at=utcnow(), tranches_checked=tranches,
        transfers_seen=transfers, findings=findings_json)).returning(ReconciliationRun.id)
    return rows[0]["id"]


async def last_run(organisation_id: int) -> dict | None:
    return await ReconciliationRun.select().where(ReconciliationRun.organisation_id == organisation_id).order_by(
        ReconciliationRun.id, ascending=False).first()
