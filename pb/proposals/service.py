"""Proposal use cases: citizens draft, edit, submit, withdraw and appeal; reviewers decide.

Each use case locks the round row (pb.rounds.repo.lock_round) before checking the phase, so it
cannot interleave with a phase change or the freeze. Status changes go through the pure status
machine (pb.proposals.domain.apply) and then a conditional UPDATE on the expected status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from pb.accounts import repo as accounts_repo
from pb.accounts.domain import AUDITOR, OFFICIAL, REVIEWER, Actor
from pb.audit import service as audit
from pb.core.clock import utcnow
from pb.core.inputs import MAX_ID
from pb.core.errors import Conflict, Forbidden, Invalid, NotFound
from pb.db import write_transaction
from pb.proposals import domain, repo
from pb.proposals.domain import (
    APPEAL, APPEALED, CHANGES_REQUESTED, DECIDE, DECIDE_APPEAL, DRAFT, ELIGIBLE, INELIGIBLE, START_REVIEW, SUBMIT,
    SUBMITTED, WITHDRAW, CriterionResult, IllegalStatusChange, ProposalState, Viewer,
)
from pb.proposals.repo import ProposalRow, ReviewRow
from pb.rounds import repo as rounds_repo
from pb.rounds.domain import SUBMISSION
from pb.rounds.repo import RoundRow

REVIEW_STAGE, APPEAL_STAGE = "review", "appeal"


@dataclass(frozen=True, slots=True)
class ProposalView:
    proposal: ProposalRow
    reviews: list[ReviewRow]
    appeal_reason: str | None
    show_reviewers: bool


def _is_staff(actor: Actor) -> bool:
    return actor.has(OFFICIAL, REVIEWER, AUDITOR)


def _viewer(actor: Actor, proposal: ProposalRow) -> Viewer:
    return Viewer(is_proposer=actor.user_id in proposal.proposers, is_staff=_is_staff(actor))


async def _locked_round(actor: Actor, round_id: int) -> RoundRow:
    found = await rounds_repo.lock_round(actor.organisation_id, round_id)
    if found is None:
        raise NotFound("No such round in this organisation.")
    return found


async def _visible_proposal(actor: Actor, proposal_id: int) -> tuple[ProposalRow, RoundRow]:
    """The proposal if this actor may see it; otherwise 404, so drafts and other cities stay hidden."""
    proposal = await repo.get_proposal(actor.organisation_id, proposal_id)
    found = await rounds_repo.get_round(actor.organisation_id, proposal.round_id) if proposal else None
    if proposal is None or found is None or not domain.visible_to(
        _viewer(actor, proposal), proposal.status, proposal.submitted_at is not None, found.phase
    ):
        raise NotFound("No such proposal (or it is not visible to you).")
    return proposal, found


def _check_phase(found: RoundRow, action: str, status: str) -> None:
    phases = domain.phases_for(action, status)
    if found.phase not in phases:
        raise Conflict(f"The round is in phase {found.phase!r}; to {action.replace('_', ' ')} a {status!r} proposal "
                       f"it must be in {' or '.join(sorted(phases))}.", code="wrong_phase")


def _next(state: ProposalState, action: str, target: str | None = None) -> ProposalState:
    try:
        return domain.apply(state, action, target)
    except IllegalStatusChange as error:
        raise Conflict(str(error), code="illegal_status_change") from error


async def _checked_content(actor: Actor, found: RoundRow, content: dict[str, Any], author_id: int) -> dict[str, Any]:
    """Validate a proposal's content against the round: budget, amounts, cost lines, co-proposers."""
    budget = await rounds_repo.get_budget(found.id, content["budget_id"])
    if budget is None:
        raise Invalid("The budget is not one of this round's budgets.", code="unknown_budget")
    lines = [(line["label"], line["amount"]) for line in content["cost_lines"]]
    problems = domain.cost_line_problems(lines, content["requested_amount"], found.max_proposal_amount, budget.amount)
    co_proposers = sorted(set(content["co_proposers"]))
    if author_id in co_proposers:
        problems.append("The author is not also a co-proposer.")
    strangers = sorted(set(co_proposers) - await repo.members_among(actor.organisation_id, co_proposers))
    if strangers:
        problems.append(f"Co-proposers must be members of this organisation; not members: {strangers}.")
    if problems:
        raise Invalid(" ".join(problems), code="bad_proposal", extra={"problems": problems})
    values = {key: value for key, value in content.items() if key not in ("budget_id", "co_proposers")}
    return {**values, "budget": budget.id, "co_proposers": co_proposers}


async def create_proposal(actor: Actor, round_id: int, content: dict[str, Any]) -> int:
    """A citizen starts a draft while the round takes submissions."""
    async with write_transaction():
        found = await _locked_round(actor, round_id)
        if found.phase != SUBMISSION:
            raise Conflict(f"Proposals can be created only while the round takes submissions, not in "
                           f"{found.phase!r}.", code="wrong_phase")
        values = await _checked_content(actor, found, content, actor.user_id)
        co_proposers = values.pop("co_proposers")
        proposal_id = await repo.insert_proposal(actor.organisation_id, found.id, actor.user_id, values)
        await repo.set_co_proposers(proposal_id, co_proposers)
    return proposal_id


async def update_proposal(actor: Actor, proposal_id: int, content: dict[str, Any]) -> None:
    """Authors and co-proposers edit a draft (submission phase) or a proposal sent back for changes."""
    proposal, _ = await _visible_proposal(actor, proposal_id)
    if actor.user_id not in proposal.proposers:
        raise Forbidden("Only the author and co-proposers can edit a proposal.")
    if actor.user_id != proposal.author_id and sorted(set(content["co_proposers"])) != proposal.co_proposers:
        raise Forbidden("Only the author can change the co-proposers.")
    async with write_transaction():
        found = await _locked_round(actor, proposal.round_id)
        if not domain.editable_in(proposal.status, found.phase):
            raise Conflict(f"A {proposal.status!r} proposal cannot be edited while the round is in "
                           f"{found.phase!r}: drafts during submission, sent-back proposals until review ends.",
                           code="not_editable")
        values = await _checked_content(actor, found, content, proposal.author_id)
        co_proposers = values.pop("co_proposers")
        if not await repo.update_content(proposal.id, [proposal.status], values):
            raise Conflict("The proposal changed meanwhile; reload it.", code="status_changed")
        await repo.set_co_proposers(proposal.id, co_proposers)


def _author_only(actor: Actor, proposal: ProposalRow, what: str) -> None:
    if actor.user_id != proposal.author_id:
        raise Forbidden(f"Only the author can {what} this proposal.")


async def submit(actor: Actor, proposal_id: int) -> str:
    """Submit a draft, or resubmit after changes were requested (also during review)."""
    proposal, _ = await _visible_proposal(actor, proposal_id)
    _author_only(actor, proposal, "submit")
    async with write_transaction():
        found = await _locked_round(actor, proposal.round_id)
        _check_phase(found, SUBMIT, proposal.status)
        _next(ProposalState(proposal.status, proposal.appealed), SUBMIT)
        await _checked_content(actor, found, {
            "budget_id": proposal.budget_id, "requested_amount": proposal.requested_amount,
            "cost_lines": proposal.cost_line_list, "co_proposers": proposal.co_proposers,
        }, proposal.author_id)
        if not await repo.change_status(proposal.id, proposal.status, SUBMITTED, submitted_at=utcnow(),
                                        final_cost=None):
            raise Conflict("The proposal changed meanwhile; reload it.", code="status_changed")
        action = "proposal.resubmitted" if proposal.status == CHANGES_REQUESTED else "proposal.submitted"
        await audit.record(actor.organisation_id, actor.pseudonym, action, f"proposal:{proposal.id}",
                           {"round": found.id, "budget": proposal.budget_id, "amount": proposal.requested_amount})
    return SUBMITTED


async def withdraw(actor: Actor, proposal_id: int) -> str:
    proposal, _ = await _visible_proposal(actor, proposal_id)
    _author_only(actor, proposal, "withdraw")
    async with write_transaction():
        found = await _locked_round(actor, proposal.round_id)
        _check_phase(found, WITHDRAW, proposal.status)
        state = _next(ProposalState(proposal.status, proposal.appealed), WITHDRAW)
        if not await repo.change_status(proposal.id, proposal.status, state.status):
            raise Conflict("The proposal changed meanwhile; reload it.", code="status_changed")
        if proposal.status != DRAFT:
            await audit.record(actor.organisation_id, actor.pseudonym, "proposal.withdrawn",
                               f"proposal:{proposal.id}", {"round": found.id})
    return state.status


def _check_review(found: RoundRow, criteria: list[CriterionResult], decision: str, public_reason: str,
                  adjusted_cost: int | None, cost_explanation: str, allowed: tuple[str, ...]) -> None:
    problems = domain.review_problems([c["key"] for c in found.criteria_list], criteria, decision, public_reason,
                                      adjusted_cost, cost_explanation, allowed)
    if problems:
        raise Invalid(" ".join(problems), code="bad_review", extra={"problems": problems})


async def _reviewable(actor: Actor, proposal_id: int) -> ProposalRow:
    proposal, _ = await _visible_proposal(actor, proposal_id)
    if actor.user_id in proposal.proposers:
        raise Forbidden("You cannot review your own or a co-authored proposal.", code="own_proposal")
    return proposal


async def _record_decision(actor: Actor, proposal: ProposalRow, stage: str, criteria: list[CriterionResult],
                           decision: str, public_reason: str, adjusted_cost: int | None,
                           cost_explanation: str) -> int:
    cost = domain.final_cost(proposal.requested_amount, adjusted_cost) if decision == ELIGIBLE else None
    if not await repo.change_status(proposal.id, proposal.status, decision, final_cost=cost):
        raise Conflict("The proposal changed meanwhile; reload it.", code="status_changed")
    review_id = await repo.insert_review(
        proposal.id, actor.user_id, stage, [{"key": c.key, "passed": c.passed, "note": c.note} for c in criteria],
        decision, public_reason, adjusted_cost, cost_explanation,
    )
    action = "proposal.reviewed" if stage == REVIEW_STAGE else "proposal.appeal_decided"
    await audit.record(actor.organisation_id, actor.pseudonym, action, f"proposal:{proposal.id}", {
        "review": review_id, "decision": decision, "adjusted_cost": adjusted_cost, "final_cost": cost,
    })
    return review_id


async def review(actor: Actor, proposal_id: int, criteria: list[CriterionResult], decision: str,
                 public_reason: str, adjusted_cost: int | None, cost_explanation: str) -> int:
    """A reviewer judges a proposal during review. A proposal resubmitted during review is taken into
    review by this act (submitted -> in_review -> decision in one transaction)."""
    proposal = await _reviewable(actor, proposal_id)
    async with write_transaction():
        found = await _locked_round(actor, proposal.round_id)
        _check_phase(found, DECIDE, proposal.status)
        state = ProposalState(proposal.status, proposal.appealed)
        if state.status == SUBMITTED:
            state = _next(state, START_REVIEW)
        _next(state, DECIDE, decision)
        _check_review(found, criteria, decision, public_reason, adjusted_cost, cost_explanation, domain.DECISIONS)
        return await _record_decision(actor, proposal, REVIEW_STAGE, criteria, decision, public_reason,
                                      adjusted_cost, cost_explanation)


async def appeal(actor: Actor, proposal_id: int, reason: str) -> str:
    """The author appeals an ineligible decision, once, while the round is in review."""
    proposal, _ = await _visible_proposal(actor, proposal_id)
    _author_only(actor, proposal, "appeal")
    async with write_transaction():
        found = await _locked_round(actor, proposal.round_id)
        state = _next(ProposalState(proposal.status, proposal.appealed), APPEAL)
        _check_phase(found, APPEAL, proposal.status)
        if not await repo.change_status(proposal.id, INELIGIBLE, APPEALED, appealed=True):
            raise Conflict("The proposal changed meanwhile; reload it.", code="status_changed")
        await repo.insert_appeal(proposal.id, reason)
        await audit.record(actor.organisation_id, actor.pseudonym, "proposal.appealed", f"proposal:{proposal.id}",
                           {"round": found.id})
    return state.status


async def decide_appeal(actor: Actor, proposal_id: int, criteria: list[CriterionResult], decision: str,
                        public_reason: str, adjusted_cost: int | None, cost_explanation: str) -> int:
    """A reviewer other than the one whose decision is appealed makes the final decision."""
    proposal = await _reviewable(actor, proposal_id)
    async with write_transaction():
        found = await _locked_round(actor, proposal.round_id)
        _next(ProposalState(proposal.status, proposal.appealed), DECIDE_APPEAL, decision)
        _check_phase(found, DECIDE_APPEAL, proposal.status)
        appealed_review = await repo.latest_review(proposal.id, REVIEW_STAGE)
        if appealed_review is not None and appealed_review.reviewer_id == actor.user_id:
            raise Forbidden("You made the decision under appeal; another reviewer must decide the appeal.",
                            code="same_reviewer")
        _check_review(found, criteria, decision, public_reason, adjusted_cost, cost_explanation,
                      domain.APPEAL_DECISIONS)
        return await _record_decision(actor, proposal, APPEAL_STAGE, criteria, decision, public_reason,
                                      adjusted_cost, cost_explanation)


async def get_proposal(actor: Actor, proposal_id: int) -> ProposalView:
    proposal, _ = await _visible_proposal(actor, proposal_id)
    return ProposalView(proposal, await repo.list_reviews(proposal.id), await repo.appeal_reason(proposal.id),
                        show_reviewers=_is_staff(actor))


async def list_proposals(actor: Actor, round_id: int) -> list[ProposalRow]:
    """The round's proposals this actor may see (own drafts, submitted ones for staff, the ballot for all)."""
    found = await rounds_repo.get_round(actor.organisation_id, round_id)
    if found is None:
        raise NotFound("No such round in this organisation.")
    return [p for p in await repo.list_proposals(found.id)
            if domain.visible_to(_viewer(actor, p), p.status, p.submitted_at is not None, found.phase)]


# --- public reading (visitors included): submitted proposals are public, drafts never -------------

PAGE_SIZE = 20


@dataclass(frozen=True, slots=True)
class ProposalPage:
    proposals: list[ProposalRow]
    total: int
    page: int
    pages: int
    reasons: dict[int, str]  # public reason of the latest decision, for proposals found ineligible


async def _public_round(organisation_id: int, round_id: int) -> RoundRow:
    found = await rounds_repo.get_round(organisation_id, round_id)
    if found is None or found.phase == "draft":
        raise NotFound("No such round in this organisation.")
    return found


MAX_PAGE = 100_000
MAX_AMOUNT = 10**15  # the largest amount any proposal can carry (schemas); filters beyond it match the same


def _within_column_range(search: repo.PublicSearch) -> repo.PublicSearch:
    """Filters clamped to what the columns can hold: a filter of 10**20 must not reach the database
    (PostgreSQL refuses it as a bigint), and it matches exactly what 10**15 matches."""
    def clamp(amount: int | None) -> int | None:
        return None if amount is None else min(max(amount, -MAX_AMOUNT), MAX_AMOUNT)

    budget_id = search.budget_id if search.budget_id is None or 0 < search.budget_id <= MAX_ID else 0
    return msgspec.structs.replace(search, min_cost=clamp(search.min_cost), max_cost=clamp(search.max_cost),
                                   budget_id=budget_id)


async def search_public(organisation_id: int, round_id: int, search: repo.PublicSearch, page: int = 1) -> ProposalPage:
    """A page of the round's submitted proposals matching ``search`` (drafts never appear)."""
    found = await _public_round(organisation_id, round_id)
    page = min(max(page, 1), MAX_PAGE)
    rows, total = await repo.search_submitted(found.id, msgspec.structs.replace(
        _within_column_range(search), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE))
    reasons = {}
    for proposal in rows:
        if proposal.status == INELIGIBLE:
            decision = (await repo.list_reviews(proposal.id) or [None])[-1]
            reasons[proposal.id] = decision.public_reason if decision else ""
    return ProposalPage(rows, total, page, max(1, -(-total // PAGE_SIZE)), reasons)


async def public_proposal(organisation_id: int, proposal_id: int, user_id: int | None = None) -> ProposalView:
    """A proposal as the public sees it; its own proposers (``user_id``) also see it as a draft."""
    proposal = await repo.get_proposal(organisation_id, proposal_id)
    found = await rounds_repo.get_round(organisation_id, proposal.round_id) if proposal else None
    if proposal is None or found is None or not domain.visible_to(
        Viewer(is_proposer=user_id in proposal.proposers, is_staff=False), proposal.status,
        proposal.submitted_at is not None, found.phase,
    ):
        raise NotFound("No such proposal (or it is not visible to you).")
    return ProposalView(proposal, await repo.list_reviews(proposal.id), await repo.appeal_reason(proposal.id),
                        show_reviewers=False)


async def proposer_names(proposal: ProposalRow) -> tuple[str, list[str]]:
    """The author's and co-proposers' display names (public, like the proposal)."""
    names = await accounts_repo.display_names([proposal.author_id, *proposal.co_proposers])
    return names.get(proposal.author_id, ""), [names.get(uid, "") for uid in proposal.co_proposers]


async def my_proposals(actor: Actor) -> list[ProposalRow]:
    return await repo.proposals_of_user(actor.organisation_id, actor.user_id)
