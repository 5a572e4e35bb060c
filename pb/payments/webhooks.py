"""Stripe webhooks: verified on the raw body, stored once per event id, processed after the answer.

Processing never trusts the event's snapshot or its order: it re-fetches the transfer or account
from Stripe and applies only forward moves through the same ``record_*`` functions as the worker,
so the same event ten times, or ``transfer.reversed`` before ``transfer.created``, has one effect.
"""

from __future__ import annotations

import json
import logging

import stripe

from pb.audit import service as audit
from pb.core.errors import Conflict, DomainError, NotFound
from pb.db import write_transaction
from pb.payments import repo, service
from pb.payments.gateway import stripe_gateway
from pb.payments.stripe_config import ENDPOINTS
from pb.payments.stripe_gateway import TransferView

log = logging.getLogger("pb.payments.webhooks")


class BadSignature(DomainError):
    status_code = 400
    title = "Bad request"


async def receive(endpoint: str, payload: bytes, signature: str | None) -> tuple[str, bool]:
    """Verify and store one delivery; returns (event id, whether it is new)."""
    gateway = stripe_gateway()
    if gateway is None or endpoint not in ENDPOINTS:
        raise NotFound(f"No Stripe webhook endpoint {endpoint!r} here (endpoints: {', '.join(ENDPOINTS)}).")
    try:
        gateway.verify(endpoint, payload, signature)
    except stripe.SignatureVerificationError as error:
        raise BadSignature(f"The Stripe-Signature header does not verify this body: {error.user_message or error}",
                           code="bad_signature") from None
    try:
        event = json.loads(payload)
        event_id, event_type = str(event["id"]), str(event["type"])
    except (ValueError, KeyError, TypeError):
        raise BadSignature("The webhook body is not a Stripe event.", code="bad_event") from None
    obj = (event.get("data") or {}).get("object") or event.get("related_object") or {}
    try:
        async with write_transaction():
            new = await repo.store_event(event_id, endpoint, event_type, event.get("account"), obj.get("id"),
                                         bool(event.get("livemode")))
    except Conflict:  # a concurrent delivery of the same event stored it first (UNIQUE event_id)
        return event_id, False
    return event_id, new


async def process_pending(limit: int = 100) -> int:
    done = 0
    for event_id in await repo.unprocessed_events(limit):
        done += await process_event(event_id)
    return done


async def process_event(event_id: str) -> bool:
    """Apply one stored event once (the claim is a conditional update)."""
    event = await repo.claim_event(event_id)
    if event is None:
        return False
    gateway = stripe_gateway()
    try:
        if gateway is None:
            outcome = None
        elif event.livemode != (gateway.secrets.mode == "live"):
            outcome = "ignored: other mode"
        elif event.type.startswith("transfer.") and event.object_id:
            outcome = await sync_transfer(await gateway.transfer(event.object_id))
        elif "account" in event.type and event.object_id:
            outcome = await sync_account(event.object_id)
        else:
            outcome = "ignored"
    except Exception as error:  # leave it unprocessed: the worker retries it
        log.warning("stripe event %s not processed: %s", event_id, type(error).__name__)
        await repo.event_outcome(event_id, f"error: {type(error).__name__}", processed=False)
        return False
    await repo.event_outcome(event_id, outcome, processed=outcome is not None)
    return outcome is not None


async def sync_transfer(transfer: TransferView | None) -> str:
    """Stripe's current view of a transfer settles whatever pb still waits for about it."""
    gateway = stripe_gateway()
    if transfer is None:
        return "transfer not found at Stripe"
    if transfer.metadata.get("pb_deployment") != gateway.deployment_id or transfer.tranche_id is None:
        return "not a transfer of this deployment"
    changes = []
    attempt = transfer.metadata.get("attempt", "")
    order = await repo.pending_transfer_order(transfer.tranche_id, int(attempt)) if attempt.isdigit() else None
    if order is not None and await service.record_transfer_done(order, transfer.id, None, "webhook"):
        changes.append("tranche paid")
    for pb_reversal_id, stripe_reversal_id in transfer.reversal_ids_by_pb_id.items():
        pending = await repo.pending_reversal_order(int(pb_reversal_id)) if pb_reversal_id.isdigit() else None
        if pending is not None and await service.record_reversal_done(pending, stripe_reversal_id, None):
            changes.append(f"reversal {pb_reversal_id} recorded")
    return ", ".join(changes) or "nothing to change"


async def sync_account(account_id: str) -> str:
    """Readiness comes from Stripe's account (re-fetched), never from the onboarding redirect."""
    recipient = await repo.recipient_by_account(account_id)
    if recipient is None:
        return "not a recipient of this deployment"
    account = await stripe_gateway().account(account_id)
    async with write_transaction():
        if not await repo.change_recipient_status(account_id, account.status, account.detail):
            return "nothing to change"
        await audit.record(recipient.organisation_id, service.SERVICE_ACTOR, "payments.recipient_status",
                           f"recipient:{recipient.id}", {"grantee": recipient.grantee_user_id,
                                                         "status": account.status, "detail": account.detail})
    return f"recipient {account.status}"
