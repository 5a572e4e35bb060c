"""Paying and clawing back tranches, exactly once, through the organisation's gateway.

Ledger (the city's bank): one official's request (1) moves the tranche approved|failed ->
submitted with a new attempt and key, (2) asks the ledger, (3) records the answer; all state
changes are conditional updates with their audit event in the same transaction.

Stripe: the request (1) moves the tranche to submitted AND writes an outbox order with the
deterministic Stripe idempotency key in one transaction; (2) the worker (inline right after the
request, and in the background) leases the order and calls Stripe outside any transaction;
(3) ``record_*`` below store Stripe's answer once: the order goes pending -> done|failed only once,
so a late webhook, a reconciliation and the worker can all report the same transfer and only the
first one changes anything.

Clawback: one official requests it, another approves it (four eyes, in the database); the ledger
records the returned money at once, Stripe gets a reversal order.
"""

from __future__ import annotations

from pb.accounts.domain import Actor
from pb.audit import service as audit
from pb.core.errors import Conflict, Forbidden, Invalid, NotFound
from pb.db import write_transaction
from pb.grants import repo as grants_repo
from pb.grants import service as grants_service
from pb.grants.domain import (
    ACTIVE, APPROVED, FAIL, FAILED, RETRY, REVERSE, REVERSED, SETTLE, SUBMIT, SUBMITTED, idempotency_key,
)
from pb.grants.repo import GrantRow, TrancheRow
from pb.grants.service import grant_or_404, require_official, require_transition, tranche_or_404
from pb.payments import domain, repo
from pb.payments.domain import (
    DONE_ORDER, FAILED_ORDER, READY, REVERSAL, TRANSFER, GatewayAnswer, PaymentOrder, PaymentOutcome,
)
from pb.payments.gateway import DEFAULT_GATEWAY, Gateway, gateway_named, stripe_gateway
from pb.payments.repo import OrderRow, ReversalRow

# Which action starts an attempt from each status (a resend from ``submitted`` starts none).
_START_ACTION = {APPROVED: SUBMIT, FAILED: RETRY}
# How pb names itself in the audit log when it records what Stripe answered.
SERVICE_ACTOR = "service:payments"


async def _load(actor: Actor, grant_id: int, tranche_id: int) -> tuple[GrantRow, TrancheRow]:
    require_official(actor)
    grant = await grant_or_404(actor, grant_id)
    return grant, await tranche_or_404(grant_id, tranche_id)


async def organisation_gateway(organisation_id: int) -> str:
    return await repo.gateway_of(organisation_id) or DEFAULT_GATEWAY


async def choose_gateway(actor: Actor, name: str) -> str:
    """An official switches the organisation's gateway for payments started from now on."""
    require_official(actor)
    return await set_gateway(actor.organisation_id, name, actor.pseudonym, actor.user_id)


async def set_gateway(organisation_id: int, name: str, actor_name: str, user_id: int = 0) -> str:
    """Also the platform operation ``pb payments use`` (actor ``platform:cli``); audited either way."""
    gateway_named(name)  # refuses a gateway that is not configured, in words
    previous = await organisation_gateway(organisation_id)
    async with write_transaction():
        await repo.set_gateway(organisation_id, name, user_id)
        await audit.record(organisation_id, actor_name, "payments.gateway_changed",
                           f"organisation:{organisation_id}", {"from": previous, "to": name})
    return name


# --- paying --------------------------------------------------------------------------------------

async def pay_tranche(actor: Actor, grant_id: int, tranche_id: int, reference: str | None) -> TrancheRow:
    """The treasurer pays an approved tranche (or retries a failed one) through the gateway."""
    grant, tranche = await _load(actor, grant_id, tranche_id)
    name = tranche.gateway if tranche.status == SUBMITTED else await organisation_gateway(actor.organisation_id)
    gateway = gateway_named(name)
    if not gateway.needs_reference:
        return await _submit_to_stripe(actor, grant, tranche, gateway)
    if not reference:
        raise Invalid(f"Payments through the {gateway.name} are made by the city's bank: give the bank reference.",
                      code="reference_required")
    attempt, key = await _start_attempt(actor, grant, tranche, gateway)
    order = PaymentOrder(tranche.id, grant.id, tranche.amount, grant.currency, attempt, key, reference)
    outcome = await gateway.disburse(order)
    return await _record_ledger_outcome(actor, grant, tranche, gateway, attempt, outcome)


async def _start_attempt(actor: Actor, grant: GrantRow, tranche: TrancheRow, gateway: Gateway) -> tuple[int, str]:
    if tranche.status == SUBMITTED:  # resend the attempt in flight with its own key
        return tranche.attempt, tranche.idempotency_key or idempotency_key(tranche.id, tranche.attempt)
    attempt = tranche.attempt + 1
    async with write_transaction():
        await _claim(actor, grant, tranche, gateway, attempt, idempotency_key(tranche.id, attempt))
    return attempt, idempotency_key(tranche.id, attempt)


async def _claim(actor: Actor, grant: GrantRow, tranche: TrancheRow, gateway: Gateway, attempt: int,
                 gateway_key: str) -> None:
    """approved|failed -> submitted with a new attempt, audited (call inside a write transaction);
    ``gateway_key`` is the key the gateway will see (Stripe's carries the deployment id)."""
    if grant.status != ACTIVE:
        raise Conflict(f"The grant is {grant.status!r}: its tranches can no longer be paid.", code="grant_closed")
    target = require_transition(tranche.status, _START_ACTION.get(tranche.status, SUBMIT))
    if not await grants_repo.claim_attempt(tranche.id, tranche.status, tranche.attempt, target, attempt,
                                           idempotency_key(tranche.id, attempt), gateway.name):
        raise Conflict("Another payment of this tranche started meanwhile.", code="tranche_state")
    await audit.record(actor.organisation_id, actor.pseudonym, "tranche.submitted", f"tranche:{tranche.id}",
                       {"grant": grant.id, "amount": tranche.amount, "attempt": attempt, "gateway": gateway.name,
                        "idempotency_key": gateway_key})


async def _record_ledger_outcome(
    actor: Actor, grant: GrantRow, tranche: TrancheRow, gateway: Gateway, attempt: int, outcome: PaymentOutcome
) -> TrancheRow:
    subject = f"tranche:{tranche.id}"
    async with write_transaction():
        if outcome.status == domain.PAID:
            await _settle(actor.organisation_id, actor.pseudonym, grant.id, tranche, attempt, actor.user_id,
                          outcome.reference, {"gateway": gateway.name, "reference": outcome.reference})
        else:
            target = require_transition(SUBMITTED, FAIL)
            if not await grants_repo.move(tranche.id, SUBMITTED, target, attempt, outcome.detail):
                raise Conflict("This tranche's attempt was already answered.", code="tranche_state")
            await audit.record(actor.organisation_id, actor.pseudonym, "tranche.failed", subject,
                               {"grant": grant.id, "attempt": attempt, "gateway": gateway.name,
                                "detail": outcome.detail})
    return await grants_repo.tranche(grant.id, tranche.id)


async def _settle(organisation_id: int, actor_name: str, grant_id: int, tranche: TrancheRow, attempt: int,
                  paid_by: int | None, reference: str | None, facts: dict) -> None:
    """submitted -> paid and Grant.paid += amount (capped by the DB), audited; inside a transaction."""
    if not await grants_repo.settle(tranche.id, attempt, require_transition(SUBMITTED, SETTLE), paid_by, reference):
        raise Conflict("This tranche was already paid (or its attempt was superseded).", code="already_paid")
    if not await grants_repo.add_paid(grant_id, tranche.amount):
        raise Invalid("Paying this tranche would pay more than the grant.", code="over_grant")
    await audit.record(organisation_id, actor_name, "tranche.paid", f"tranche:{tranche.id}",
                       {"grant": grant_id, "amount": tranche.amount, "attempt": attempt, **facts})
    await grants_service.complete_if_finished(organisation_id, actor_name, grant_id)


async def _submit_to_stripe(actor: Actor, grant: GrantRow, tranche: TrancheRow, gateway) -> TrancheRow:
    if tranche.status == SUBMITTED:
        raise Conflict(f"This tranche's payment (attempt {tranche.attempt}) is already on its way to Stripe; it is "
                       "recorded when Stripe confirms it.", code="payment_in_flight")
    recipient = await repo.recipient(actor.organisation_id, grant.grantee_user_id)
    if recipient is None or recipient.status != READY:
        state = recipient.status if recipient else "not started"
        raise Conflict(f"The grantee group cannot receive Stripe transfers yet (onboarding {state}): send them the "
                       "onboarding link and wait until Stripe reports their account ready.",
                       code="recipient_not_ready")
    attempt = tranche.attempt + 1
    key = domain.stripe_key(gateway.deployment_id, TRANSFER, tranche.id, attempt)
    async with write_transaction():
        await _claim(actor, grant, tranche, gateway, attempt, key)
        order_id = await repo.insert_order(
            organisation_id=actor.organisation_id, kind=TRANSFER, grant_id=grant.id, tranche_id=tranche.id,
            reversal_id=None, attempt=attempt, idempotency_key=key, amount=tranche.amount,
            currency=grant.currency.lower(), destination=recipient.account_id,
            transfer_group=domain.transfer_group(gateway.deployment_id, grant.id), requested_by=actor.user_id)
    if gateway.send_inline:
        from pb.payments import worker

        await worker.send_order(order_id)
    return await grants_repo.tranche(grant.id, tranche.id)


# --- recording Stripe's answers (worker, webhooks, reconciliation) --------------------------------

async def record_transfer_done(order: OrderRow, stripe_id: str, request_id: str | None, confirmed_by: str) -> bool:
    """The transfer exists at Stripe: the order is done and the tranche paid, once."""
    tranche = await grants_repo.tranche_by_id(order.tranche_id)
    async with write_transaction():
        if not await repo.finish_order(order.id, DONE_ORDER, stripe_id, request_id, None):
            return False
        await _settle(order.organisation_id, SERVICE_ACTOR, order.grant_id, tranche, order.attempt,
                      order.requested_by, stripe_id,
                      {"gateway": "stripe", "reference": stripe_id, "request_id": request_id,
                       "confirmed_by": confirmed_by})
    return True


async def record_transfer_refused(order: OrderRow, answer: GatewayAnswer) -> bool:
    """Stripe refused definitively: the tranche is failed with Stripe's reason; a retry is a new attempt."""
    async with write_transaction():
        if not await repo.finish_order(order.id, FAILED_ORDER, None, answer.request_id, answer.reason):
            return False
        if not await grants_repo.move(order.tranche_id, SUBMITTED, require_transition(SUBMITTED, FAIL), order.attempt,
                                      answer.reason):
            raise Conflict("This tranche's attempt was already answered.", code="tranche_state")
        await audit.record(order.organisation_id, SERVICE_ACTOR, "tranche.failed", f"tranche:{order.tranche_id}",
                           {"grant": order.grant_id, "attempt": order.attempt, "gateway": "stripe",
                            "detail": answer.reason, "request_id": answer.request_id})
    return True


async def record_unconfirmed(order: OrderRow, answer: GatewayAnswer) -> None:
    """The call may have reached Stripe: the order stays pending and the tranche says why."""
    why = f"{answer.reason}. pb looks the {order.kind} up at Stripe before any resend."
    async with write_transaction():
        await repo.note_order_error(order.id, why)
        if order.kind == TRANSFER:
            await grants_repo.note_failure(order.tranche_id, order.attempt, why)
        await audit.record(order.organisation_id, SERVICE_ACTOR, f"{order.kind}.unconfirmed",
                           f"tranche:{order.tranche_id}", {"order": order.id, "detail": answer.reason,
                                                           "request_id": answer.request_id})


# --- clawback ------------------------------------------------------------------------------------

async def request_reversal(actor: Actor, grant_id: int, tranche_id: int, amount: int | None, reason: str,
                           reference: str | None) -> ReversalRow:
    """One official asks to take (part of) a paid tranche back; another must approve it."""
    grant, tranche = await _load(actor, grant_id, tranche_id)
    require_transition(tranche.status, REVERSE)
    left = tranche.amount - tranche.reversed_amount
    amount = left if amount is None else amount
    if not 0 < amount <= left:
        raise Invalid(f"A clawback of {amount} is not possible: {left} of this tranche can still be taken back.",
                      code="bad_reversal_amount", extra={"reversible": left})
    if gateway_named(tranche.gateway).needs_reference and not reference:
        raise Invalid("Give the bank reference of the returned money.", code="reference_required")
    async with write_transaction():
        reversal_id = await repo.insert_reversal(actor.organisation_id, grant.id, tranche.id, amount, reason,
                                                 reference, actor.user_id)
        await audit.record(actor.organisation_id, actor.pseudonym, "tranche.reversal_requested",
                           f"tranche:{tranche.id}", {"grant": grant.id, "reversal": reversal_id, "amount": amount,
                                                     "reason": reason})
    return await repo.reversal(actor.organisation_id, reversal_id)


async def reversal_or_404(actor: Actor, reversal_id: int) -> ReversalRow:
    found = await repo.reversal(actor.organisation_id, reversal_id)
    if found is None:
        raise NotFound("No such clawback request in this organisation.")
    return found


async def approve_reversal(actor: Actor, reversal_id: int) -> ReversalRow:
    """Four eyes: another official approves; the ledger records it at once, Stripe gets a reversal."""
    require_official(actor)
    reversal = await reversal_or_404(actor, reversal_id)
    if reversal.requested_by == actor.user_id:
        raise Forbidden("You asked for this clawback; another official must approve it (four eyes).",
                        code="four_eyes")
    tranche = await grants_repo.tranche_by_id(reversal.tranche_id)
    gateway = gateway_named(tranche.gateway)
    order_id = None
    async with write_transaction():
        if not await repo.approve_reversal(reversal.id, actor.user_id):
            raise Conflict("This clawback was already decided.", code="reversal_state")
        await audit.record(actor.organisation_id, actor.pseudonym, "tranche.reversal_approved",
                           f"tranche:{tranche.id}", {"reversal": reversal.id, "amount": reversal.amount})
        if gateway.needs_reference:
            await _apply_reversal(reversal, actor.pseudonym, reversal.reference)
        else:
            order_id = await repo.insert_order(
                organisation_id=actor.organisation_id, kind=REVERSAL, grant_id=reversal.grant_id,
                tranche_id=tranche.id, reversal_id=reversal.id, attempt=0,
                idempotency_key=domain.stripe_key(gateway.deployment_id, REVERSAL, reversal.id),
                amount=reversal.amount, currency="", destination=tranche.reference or "",
                transfer_group=domain.transfer_group(gateway.deployment_id, reversal.grant_id),
                requested_by=actor.user_id)
    if order_id is not None and gateway.send_inline:
        from pb.payments import worker

        await worker.send_order(order_id)
    decided = await repo.reversal(actor.organisation_id, reversal.id)
    if decided.status == "refused":
        raise Conflict(f"Stripe refused the clawback, nothing was taken back: {decided.failure_reason}",
                       code="reversal_refused")
    return decided


async def _apply_reversal(reversal: ReversalRow, actor_name: str, reference: str | None) -> bool:
    """The money came back: tranche and grant sums drop (never below zero), audited; in a transaction."""
    if not await repo.close_reversal(reversal.id, "done"):
        return False
    if not await grants_repo.add_reversed(reversal.tranche_id, reversal.amount, REVERSED):
        raise Conflict("This clawback is larger than what is left of the tranche.", code="tranche_state")
    if not await grants_repo.give_back(reversal.grant_id, reversal.amount):
        raise Conflict("The grant's paid sum does not cover this reversal.", code="tranche_state")
    await audit.record(reversal.organisation_id, actor_name, "tranche.reversed", f"tranche:{reversal.tranche_id}",
                       {"grant": reversal.grant_id, "reversal": reversal.id, "amount": reversal.amount,
                        "reference": reference})
    return True


async def record_reversal_done(order: OrderRow, stripe_id: str, request_id: str | None) -> bool:
    reversal = await repo.reversal(order.organisation_id, order.reversal_id)
    async with write_transaction():
        if not await repo.finish_order(order.id, DONE_ORDER, stripe_id, request_id, None):
            return False
        await _apply_reversal(reversal, SERVICE_ACTOR, stripe_id)
    return True


def refusal_words(reason: str) -> str:
    if "balance_insufficient" in reason:
        return ("the group's Stripe balance no longer holds this money (it has been paid out to their bank). "
                f"Recover it outside pb. Stripe said: {reason}")
    return f"Stripe said: {reason}"


async def record_reversal_refused(order: OrderRow, answer: GatewayAnswer) -> bool:
    async with write_transaction():
        if not await repo.finish_order(order.id, FAILED_ORDER, None, answer.request_id, answer.reason):
            return False
        await repo.close_reversal(order.reversal_id, "refused", refusal_words(answer.reason))
        await audit.record(order.organisation_id, SERVICE_ACTOR, "tranche.reversal_refused",
                           f"tranche:{order.tranche_id}", {"reversal": order.reversal_id, "detail": answer.reason,
                                                           "request_id": answer.request_id})
    return True


# --- what officials see --------------------------------------------------------------------------

async def payment_state(actor: Actor, grant_id: int) -> dict:
    """Gateway, recipient, every tranche with its orders and clawbacks: the official's payment view."""
    grant = await grant_or_404(actor, grant_id)
    tranches = await grants_repo.tranches_of(grant.id)
    ids = [t.id for t in tranches]
    recipient = await repo.recipient(actor.organisation_id, grant.grantee_user_id)
    return {
        "gateway": await organisation_gateway(actor.organisation_id),
        "recipient": recipient,
        "tranches": tranches,
        "orders": await repo.orders_of_tranches(ids),
        "reversals": await repo.reversals_of(ids),
    }


def stripe_or_conflict():
    gateway = stripe_gateway()
    if gateway is None:
        gateway_named("stripe")  # raises the configured-here message
    return gateway
