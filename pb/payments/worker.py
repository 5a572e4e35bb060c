"""The payment worker: sends outbox orders to Stripe and records the answers, exactly once.

``send_order`` leases one pending order (a conditional UPDATE: two workers never hold the same
order), calls Stripe OUTSIDE any transaction with the order's own idempotency key and records the
answer with ``pb.payments.service``. A process killed at any point leaves a pending order whose
lease expires; the next worker then finds ``sends > 1`` and looks the transfer (or reversal) up at
Stripe BEFORE resending, so a call that did reach Stripe is adopted, never repeated blindly, even
after Stripe has forgotten the idempotency key (24 h).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import stripe

from pb.core.clock import utcnow
from pb.core.errors import DomainError
from pb.payments import domain, repo, service
from pb.payments.domain import DONE, REFUSED, TRANSFER, GatewayAnswer
from pb.payments.gateway import stripe_gateway
from pb.payments.repo import OrderRow

log = logging.getLogger("pb.payments.worker")


async def send_order(order_id: int) -> str:
    """Lease, send (or adopt what Stripe already has), record. Returns what happened, in a word."""
    gateway = stripe_gateway()
    if gateway is None:
        return "no stripe gateway"
    now = utcnow()
    order = await repo.lease_order(order_id, now, now + timedelta(seconds=gateway.lease_seconds))
    if order is None:
        return "not due"
    try:
        if order.kind == TRANSFER:
            return await _transfer(gateway, order)
        return await _reversal(gateway, order)
    except stripe.StripeError as error:  # a lookup that failed: nothing known, try again later
        await service.record_unconfirmed(order, GatewayAnswer("unknown", reason=f"lookup failed: {error}"))
        return "unknown"
    except DomainError as error:
        log.warning("payment order %s could not be recorded: %s", order.id, error.detail)
        return "conflict"


async def _transfer(gateway, order: OrderRow) -> str:
    if order.sends > 1:  # an earlier send may have reached Stripe
        found = await gateway.find_transfer(order.transfer_group, order.tranche_id)
        if found is not None:
            await service.record_transfer_done(order, found.id, None, "lookup")
            return "adopted"
    answer = await gateway.send_transfer(
        key=order.idempotency_key, amount=order.amount, currency=order.currency, destination=order.destination,
        group=order.transfer_group,
        metadata=domain.transfer_metadata(gateway.deployment_id, order.organisation_id, order.grant_id,
                                          order.tranche_id, order.attempt),
        description=f"pb grant {order.grant_id}, tranche {order.tranche_id}",
    )
    if answer.status == DONE:
        await service.record_transfer_done(order, answer.stripe_id, answer.request_id, "worker")
    elif answer.status == REFUSED:
        await service.record_transfer_refused(order, answer)
    else:
        await service.record_unconfirmed(order, answer)
    return answer.status


async def _reversal(gateway, order: OrderRow) -> str:
    if order.sends > 1:
        transfer = await gateway.transfer(order.destination)
        reversal_id = transfer.reversal_ids_by_pb_id.get(str(order.reversal_id)) if transfer else None
        if reversal_id:
            await service.record_reversal_done(order, reversal_id, None)
            return "adopted"
    answer = await gateway.send_reversal(
        key=order.idempotency_key, transfer_id=order.destination, amount=order.amount,
        metadata={"pb_deployment": gateway.deployment_id, "reversal_id": str(order.reversal_id),
                  "tranche_id": str(order.tranche_id)})
    if answer.status == DONE:
        await service.record_reversal_done(order, answer.stripe_id, answer.request_id)
    elif answer.status == REFUSED:
        await service.record_reversal_refused(order, answer)
    else:
        await service.record_unconfirmed(order, answer)
    return answer.status


async def run_once(limit: int = 100) -> dict[str, int]:
    """One pass: process stored webhook events, then every due order."""
    from pb.payments import webhooks

    events = await webhooks.process_pending(limit)
    outcomes: dict[str, int] = {"events": events}
    for order_id in await repo.due_orders(utcnow(), limit):
        outcome = await send_order(order_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


async def run_forever(every_seconds: int, reconcile_minutes: int) -> None:
    """The background loop of ``pb serve`` / ``pb payments work``: orders, events, reconciliation."""
    from pb.payments import reconcile

    last_reconciliation = 0.0
    loop = asyncio.get_running_loop()
    while True:
        try:
            await run_once()
            if reconcile_minutes and loop.time() - last_reconciliation >= reconcile_minutes * 60:
                await reconcile.reconcile_all()
                last_reconciliation = loop.time()
        except asyncio.CancelledError:
            raise
        except Exception:  # keep the loop alive; the next pass retries
            log.exception("payment worker pass failed")
        await asyncio.sleep(every_seconds)
