"""Paying and clawing back tranches through a gateway, exactly once.

Pay = three steps: (1) one transaction moves the tranche approved|failed -> submitted with a new
attempt and its deterministic idempotency key, (2) the gateway is called outside any transaction,
(3) one transaction records its answer: submitted -> paid together with Grant.paid (conditional on
paid + amount <= grant), or submitted -> failed. A tranche already ``submitted`` is resent with the
same key (crash recovery), so the gateway sees one key per attempt and the DB accepts one answer.
"""

from __future__ import annotations

from pb.accounts.domain import Actor
from pb.audit import service as audit
from pb.core.errors import Conflict, Invalid
from pb.db import write_transaction
from pb.grants import repo as grants_repo
from pb.grants.domain import APPROVED, FAIL, FAILED, RETRY, REVERSE, SETTLE, SUBMIT, SUBMITTED, idempotency_key
from pb.grants.repo import GrantRow, TrancheRow
from pb.grants.service import grant_or_404, require_official, require_transition, tranche_or_404
from pb.payments import domain
from pb.payments.domain import PaymentOrder, PaymentOutcome
from pb.payments.gateway import Gateway, gateway_named

# Which action starts an attempt from each status (a resend from ``submitted`` starts none).
_START_ACTION = {APPROVED: SUBMIT, FAILED: RETRY}


async def _load(actor: Actor, grant_id: int, tranche_id: int) -> tuple[GrantRow, TrancheRow]:
    require_official(actor)
    grant = await grant_or_404(actor, grant_id)
    return grant, await tranche_or_404(grant_id, tranche_id)


def _order(grant: GrantRow, tranche: TrancheRow, attempt: int, key: str, reference: str | None) -> PaymentOrder:
    return PaymentOrder(tranche.id, grant.id, tranche.amount, grant.currency, attempt, key, reference)


async def pay_tranche(actor: Actor, grant_id: int, tranche_id: int, reference: str | None) -> TrancheRow:
    """The treasurer pays an approved tranche (or retries a failed one) through its gateway."""
    grant, tranche = await _load(actor, grant_id, tranche_id)
    gateway = gateway_named(tranche.gateway)
    if gateway.needs_reference and not reference:
        raise Invalid(f"Payments through the {gateway.name} are made by the city's bank: give the bank reference.",
                      code="reference_required")
    attempt, key = await _start_attempt(actor, grant, tranche, gateway)
    outcome = await gateway.disburse(_order(grant, tranche, attempt, key, reference))
    return await _record_outcome(actor, grant, tranche, gateway, attempt, outcome)


async def _start_attempt(actor: Actor, grant: GrantRow, tranche: TrancheRow, gateway: Gateway) -> tuple[int, str]:
    if tranche.status == SUBMITTED:  # resend the attempt in flight with its own key
        return tranche.attempt, tranche.idempotency_key or idempotency_key(tranche.id, tranche.attempt)
    action = _START_ACTION.get(tranche.status, SUBMIT)
    target = require_transition(tranche.status, action)
    attempt = tranche.attempt + 1
    key = idempotency_key(tranche.id, attempt)
    async with write_transaction():
        if not await grants_repo.claim_attempt(tranche.id, tranche.status, tranche.attempt, target, attempt, key,
                                               gateway.name):
            raise Conflict("Another payment of this tranche started meanwhile.", code="tranche_state")
        await audit.record(actor.organisation_id, actor.pseudonym, "tranche.submitted", f"tranche:{tranche.id}",
                           {"grant": grant.id, "amount": tranche.amount, "attempt": attempt, "gateway": gateway.name,
                            "idempotency_key": key})
    return attempt, key


async def _record_outcome(
    actor: Actor, grant: GrantRow, tranche: TrancheRow, gateway: Gateway, attempt: int, outcome: PaymentOutcome
) -> TrancheRow:
    subject = f"tranche:{tranche.id}"
    if outcome.status == domain.PENDING:  # the gateway will confirm later (webhook / reconciliation)
        return await grants_repo.tranche(grant.id, tranche.id)
    async with write_transaction():
        if outcome.status == domain.PAID:
            target = require_transition(SUBMITTED, SETTLE)
            if not await grants_repo.settle(tranche.id, attempt, target, actor.user_id, outcome.reference):
                raise Conflict("This tranche was already paid (or its attempt was superseded).",
                               code="already_paid")
            if not await grants_repo.add_paid(grant.id, tranche.amount):
                raise Invalid("Paying this tranche would pay more than the grant.", code="over_grant")
            await audit.record(actor.organisation_id, actor.pseudonym, "tranche.paid", subject,
                               {"grant": grant.id, "amount": tranche.amount, "attempt": attempt,
                                "gateway": gateway.name, "reference": outcome.reference})
        else:
            target = require_transition(SUBMITTED, FAIL)
            if not await grants_repo.move(tranche.id, SUBMITTED, target, attempt):
                raise Conflict("This tranche's attempt was already answered.", code="tranche_state")
            await audit.record(actor.organisation_id, actor.pseudonym, "tranche.failed", subject,
                               {"grant": grant.id, "attempt": attempt, "gateway": gateway.name,
                                "detail": outcome.detail})
    return await grants_repo.tranche(grant.id, tranche.id)


async def reverse_tranche(actor: Actor, grant_id: int, tranche_id: int, reference: str | None) -> TrancheRow:
    """Clawback of a whole paid tranche: the money comes back, Grant.paid and Grant.planned drop."""
    grant, tranche = await _load(actor, grant_id, tranche_id)
    target = require_transition(tranche.status, REVERSE)
    gateway = gateway_named(tranche.gateway)
    if gateway.needs_reference and not reference:
        raise Invalid("Give the bank reference of the returned money.", code="reference_required")
    key = f"{idempotency_key(tranche.id, tranche.attempt)}-reversal"
    outcome = await gateway.claw_back(_order(grant, tranche, tranche.attempt, key, reference))
    if outcome.status != domain.PAID:
        raise Conflict(f"The {gateway.name} did not confirm the reversal: {outcome.detail}", code="reversal_failed")
    async with write_transaction():
        if not await grants_repo.reverse(tranche.id, target):
            raise Conflict("This tranche was already reversed.", code="tranche_state")
        if not await grants_repo.give_back(grant.id, tranche.amount):
            raise Conflict("The grant's paid sum does not cover this reversal.", code="tranche_state")
        await audit.record(actor.organisation_id, actor.pseudonym, "tranche.reversed", f"tranche:{tranche.id}",
                           {"grant": grant.id, "amount": tranche.amount, "gateway": gateway.name,
                            "reference": outcome.reference})
    return await grants_repo.tranche(grant.id, tranche.id)
