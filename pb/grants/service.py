"""Grant use cases: create a grant, plan and approve tranches (four eyes), report progress.

Paying a tranche is the payments context's use case (``pb.payments.service``); it moves tranches
through the same state machine with the same kind of conditional updates.
"""

from __future__ import annotations

import msgspec

from pb.accounts.domain import OFFICIAL, Actor
from pb.audit import service as audit
from pb.core.errors import Conflict, Forbidden, Invalid, NotFound
from pb.db import write_transaction
from pb.grants import repo
from pb.grants.domain import (
    ACCEPTED, ACTIVE, APPROVE, CANCELLED, COMPLETED, FINAL_TRANCHE_STATUSES, FIRST_GRANT_MOVES, GRANTABLE_PHASES,
    REJECTED, WITHDRAW, WITHDRAWN, TransitionRefused, grant_amount_problem, may_approve, next_status,
    source_statuses,
)
from pb.grants.repo import GrantRow, ReportRow, TrancheRow
from pb.proposals import repo as proposals_repo
from pb.rounds import repo as rounds_repo


class GrantDetail(msgspec.Struct):
    grant: GrantRow
    tranches: list[TrancheRow]
    reports: list[ReportRow]
    recipient: object | None = None  # pb.payments.repo.RecipientRow


def require_official(actor: Actor) -> None:
    if not actor.has(OFFICIAL):
        raise Forbidden("Only officials can do this.")


async def grant_or_404(actor: Actor, grant_id: int) -> GrantRow:
    found = await repo.grant(actor.organisation_id, grant_id)
    if found is None:
        raise NotFound("No such grant in this organisation.")
    return found


async def tranche_or_404(grant_id: int, tranche_id: int) -> TrancheRow:
    found = await repo.tranche(grant_id, tranche_id)
    if found is None:
        raise NotFound("No such tranche in this grant.")
    return found


def require_transition(status: str, action: str) -> str:
    """The status ``action`` leads to, or 409 naming what is possible from ``status``."""
    try:
        return next_status(status, action)
    except TransitionRefused as refused:
        raise Conflict(str(refused), code="tranche_state") from None


async def create_grant(actor: Actor, round_id: int, proposal_id: int, amount: int | None = None) -> GrantRow:
    """A selected proposal becomes a grant (default: its final cost) within what its budget has left.

    The first grant of a published round moves the round to ``funding`` in the same transaction.
    """
    require_official(actor)
    round_ = await rounds_repo.get_round(actor.organisation_id, round_id)
    if round_ is None:
        raise NotFound("No such round in this organisation.")
    if round_.phase not in GRANTABLE_PHASES:
        raise Conflict(f"Grants can be created once the round is published; it is {round_.phase!r}.",
                       code="wrong_phase")
    proposal = await proposals_repo.get_proposal(actor.organisation_id, proposal_id)
    if proposal is None or proposal.round_id != round_id:
        raise NotFound("No such proposal in this round.")
    if proposal.status != "selected":
        raise Conflict(f"Only selected proposals can become grants; this one is {proposal.status!r}.",
                       code="proposal_not_selected")
    final_cost = proposal.final_cost if proposal.final_cost is not None else 0
    amount = final_cost if amount is None else amount
    problem = grant_amount_problem(amount, final_cost)
    if problem:
        raise Invalid(problem, code="bad_grant_amount")
    async with write_transaction():
        if not await proposals_repo.change_status(proposal.id, "selected", "funded"):
            raise Conflict("This proposal already has a grant.", code="already_granted")
        if not await repo.reserve_budget(proposal.budget_id, amount):
            room = await repo.budget_room(proposal.budget_id)
            raise Invalid(f"A grant of {amount} does not fit in the budget: {room} is left.",
                          code="over_budget", extra={"budget_left": room})
        grant_id = await repo.insert_grant(actor.organisation_id, round_id, proposal.budget_id, proposal.id,
                                           proposal.author_id, amount, actor.user_id)
        await audit.record(actor.organisation_id, actor.pseudonym, "grant.created", f"grant:{grant_id}",
                           {"round": round_id, "budget": proposal.budget_id, "proposal": proposal.id,
                            "amount": amount})
        source, target = FIRST_GRANT_MOVES
        if await rounds_repo.change_phase(round_id, source, target):
            await audit.record(actor.organisation_id, actor.pseudonym, "round.phase_changed", f"round:{round_id}",
                               {"from": source, "to": target, "cause": f"grant:{grant_id}"})
        return await repo.grant(actor.organisation_id, grant_id)


async def list_grants(actor: Actor, round_id: int) -> list[GrantRow]:
    if await rounds_repo.get_round(actor.organisation_id, round_id) is None:
        raise NotFound("No such round in this organisation.")
    return await repo.grants_of_round(actor.organisation_id, round_id)


async def grant_detail(actor: Actor, grant_id: int) -> GrantDetail:
    from pb.payments.recipients import recipient_of  # payments builds on grants, not the other way round

    found = await grant_or_404(actor, grant_id)
    return GrantDetail(found, await repo.tranches_of(grant_id), await repo.reports_of(grant_id),
                       await recipient_of(actor.organisation_id, found.grantee_user_id))


async def plan_tranche(actor: Actor, grant_id: int, amount: int, condition: str,
                       requires_report: bool = False) -> TrancheRow:
    """A tranche reserves its share of the grant: planned tranches never add up to more than it."""
    require_official(actor)
    found = await grant_or_404(actor, grant_id)
    if found.status != ACTIVE:
        raise Conflict(f"The grant is {found.status!r}; tranches can be planned only for active grants.")
    async with write_transaction():
        if not await repo.reserve_plan(grant_id, amount):
            current = await grant_or_404(actor, grant_id)
            raise Invalid(
                f"A tranche of {amount} would plan more than the grant: {current.amount - current.planned} is left.",
                code="over_grant", extra={"grant_left": current.amount - current.planned},
            )
        position = await repo.next_position(grant_id)
        tranche_id = await repo.insert_tranche(grant_id, position, amount, condition, actor.user_id, requires_report)
        await audit.record(actor.organisation_id, actor.pseudonym, "tranche.planned", f"tranche:{tranche_id}",
                           {"grant": grant_id, "position": position, "amount": amount,
                            **({"requires_report": True} if requires_report else {})})
        return await tranche_or_404(grant_id, tranche_id)


async def approve_tranche(actor: Actor, grant_id: int, tranche_id: int) -> TrancheRow:
    """Four eyes: an official other than the planner approves; the DB refuses anything else."""
    require_official(actor)
    await grant_or_404(actor, grant_id)
    tranche = await tranche_or_404(grant_id, tranche_id)
    if not may_approve(tranche.planned_by, actor.user_id):
        raise Forbidden("You planned this tranche; another official must approve it (four eyes).",
                        code="four_eyes")
    target = require_transition(tranche.status, APPROVE)
    async with write_transaction():
        report_id = None
        if tranche.requires_report:
            report_id = tranche.report_id or await repo.link_accepted_report(grant_id, tranche_id)
            if report_id is None:
                raise Conflict("This tranche needs an accepted progress report first: the group reports progress "
                               "and an official accepts the report.", code="report_required")
        if not await repo.approve(tranche_id, actor.user_id):
            raise Conflict("The tranche changed meanwhile and is no longer planned.", code="tranche_state")
        await audit.record(actor.organisation_id, actor.pseudonym, "tranche.approved", f"tranche:{tranche_id}",
                           {"grant": grant_id, "amount": tranche.amount, "status": target,
                            **({"report": report_id} if report_id else {})})
        return await tranche_or_404(grant_id, tranche_id)


async def report_progress(actor: Actor, grant_id: int, body: str, completion_percent: int,
                          is_final: bool = False) -> ReportRow:
    """The grantee (the proposal's author) or a co-proposer tells how the project is going."""
    found = await grant_or_404(actor, grant_id)
    proposal = await proposals_repo.get_proposal(actor.organisation_id, found.proposal_id)
    if actor.user_id not in {found.grantee_user_id, *(proposal.proposers if proposal else ())}:
        raise Forbidden("Only the grantee's group (the proposal's author and co-proposers) can report progress.",
                        code="not_grantee")
    async with write_transaction():
        report = await repo.insert_report(grant_id, actor.user_id, body, completion_percent, is_final)
        await audit.record(actor.organisation_id, actor.pseudonym, "grant.progress_reported", f"grant:{grant_id}",
                           {"report": report.id, "completion_percent": completion_percent, "final": is_final})
    return report


async def review_report(actor: Actor, grant_id: int, report_id: int, accept: bool, note: str) -> ReportRow:
    """An official accepts or rejects a progress report; accepting the final report of a fully paid
    grant completes it in the same transaction."""
    require_official(actor)
    await grant_or_404(actor, grant_id)
    report = await repo.report(grant_id, report_id)
    if report is None:
        raise NotFound("No such progress report for this grant.")
    if report.author == actor.user_id:
        raise Forbidden("You wrote this report; another official must review it.", code="four_eyes")
    decision = ACCEPTED if accept else REJECTED
    async with write_transaction():
        if not await repo.review_report(report_id, decision, actor.user_id, note):
            raise Conflict(f"This report was already reviewed ({report.status}).", code="report_state")
        await audit.record(actor.organisation_id, actor.pseudonym, "grant.report_reviewed", f"grant:{grant_id}",
                           {"report": report_id, "decision": decision, "final": report.is_final})
        await complete_if_finished(actor.organisation_id, actor.pseudonym, grant_id)
    return await repo.report(grant_id, report_id)


async def complete_if_finished(organisation_id: int, actor_name: str, grant_id: int) -> bool:
    """active -> completed when every tranche is final and a final report is accepted (the DB
    checks both in the conditional update); call inside the write transaction of the last step."""
    if not await repo.complete_grant(grant_id, COMPLETED, FINAL_TRANCHE_STATUSES):
        return False
    await audit.record(organisation_id, actor_name, "grant.completed", f"grant:{grant_id}", {})
    return True


async def cancel_grant(actor: Actor, grant_id: int, reason: str) -> GrantRow:
    """The grant ends unfinished: unpaid tranches are withdrawn and the unpaid money returns to the
    budget. Refused while a payment is on its way (it must be answered first)."""
    require_official(actor)
    grant = await grant_or_404(actor, grant_id)
    if grant.status != ACTIVE:
        raise Conflict(f"The grant is already {grant.status!r}.", code="grant_state")
    async with write_transaction():
        withdrawn = await repo.withdraw_unpaid(grant_id, source_statuses(WITHDRAW), WITHDRAWN)
        unplanned = sum(row["amount"] for row in withdrawn)
        if not await repo.change_grant_status(grant_id, CANCELLED, unplanned):
            raise Conflict("A payment of this grant is on its way; cancel once it is answered.",
                           code="payment_in_flight")
        await repo.release_budget(grant.budget_id, grant.amount - grant.paid)
        for row in withdrawn:
            await audit.record(actor.organisation_id, actor.pseudonym, "tranche.withdrawn", f"tranche:{row['id']}",
                               {"grant": grant_id, "amount": row["amount"]})
        await audit.record(actor.organisation_id, actor.pseudonym, "grant.cancelled", f"grant:{grant_id}",
                           {"reason": reason, "withdrawn": len(withdrawn), "released": grant.amount - grant.paid})
    return await grant_or_404(actor, grant_id)


PUBLIC_FUNDING_PHASES = ("published", "funding", "completed")


async def funded_projects(organisation_id: int, round_id: int) -> list[repo.FundedProject]:
    """Public: a published round's grants, what was paid and how the work is going."""
    round_ = await rounds_repo.get_round(organisation_id, round_id)
    if round_ is None or round_.phase not in PUBLIC_FUNDING_PHASES:
        raise NotFound("No such round, or its results are not published yet.")
    return await repo.funded_projects(organisation_id, round_id)
