"""Queries for proposals, co-proposers, reviews and appeals. Status changes are conditional UPDATEs."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Sequence

import msgspec

from pb.accounts.tables import Membership
from pb.core.canonical import canonical_json
from pb.core.clock import utcnow
from pb.proposals.tables import Appeal, Proposal, ProposalCoProposer, Review


class ProposalRow(msgspec.Struct):
    id: int
    organisation_id: int
    round_id: int
    budget_id: int
    author_id: int
    title: str
    summary: str
    description: str
    category: str
    status: str
    requested_amount: int
    cost_lines: str
    final_cost: int | None
    appealed: bool
    submitted_at: datetime | None
    co_proposers: list[int] = []

    @property
    def proposers(self) -> set[int]:
        return {self.author_id, *self.co_proposers}

    @property
    def cost_line_list(self) -> list[dict[str, Any]]:
        return json.loads(self.cost_lines)


class ReviewRow(msgspec.Struct):
    id: int
    proposal_id: int
    reviewer_id: int
    stage: str
    criteria_results: str
    decision: str
    public_reason: str
    adjusted_cost: int | None
    cost_explanation: str
    created_at: datetime


class BallotProject(msgspec.Struct):
    proposal_id: int
    budget_id: int
    title: str
    cost: int


_COLUMNS = (
    Proposal.id, Proposal.organisation_id, Proposal.round.as_alias("round_id"),
    Proposal.budget.as_alias("budget_id"), Proposal.author.as_alias("author_id"), Proposal.title, Proposal.summary,
    Proposal.description, Proposal.category, Proposal.status, Proposal.requested_amount, Proposal.cost_lines,
    Proposal.final_cost, Proposal.appealed, Proposal.submitted_at,
)
_REVIEW_COLUMNS = (
    Review.id, Review.proposal.as_alias("proposal_id"), Review.reviewer.as_alias("reviewer_id"), Review.stage,
    Review.criteria_results, Review.decision, Review.public_reason, Review.adjusted_cost, Review.cost_explanation,
    Review.created_at,
)


def _content_values(content: dict[str, Any]) -> dict[Any, Any]:
    values = dict(content)
    values["cost_lines"] = canonical_json(values["cost_lines"])
    return {getattr(Proposal, key): value for key, value in values.items()}


async def insert_proposal(organisation_id: int, round_id: int, author_id: int, content: dict[str, Any]) -> int:
    now = utcnow()
    rows = await Proposal.insert(
        Proposal(organisation_id=organisation_id, round=round_id, author=author_id, created_at=now, updated_at=now,
                 **{column._meta.name: value for column, value in _content_values(content).items()})
    ).returning(Proposal.id)
    return rows[0]["id"]


async def update_content(proposal_id: int, statuses: Sequence[str], content: dict[str, Any]) -> bool:
    """Replace a proposal's content while it is still in one of ``statuses`` (an edit window)."""
    rows = await Proposal.update({**_content_values(content), Proposal.updated_at: utcnow()}).where(
        (Proposal.id == proposal_id) & Proposal.status.is_in(list(statuses))
    ).returning(Proposal.id)
    return bool(rows)


async def change_status(proposal_id: int, expected: str, target: str, **values: Any) -> bool:
    """Move one proposal from ``expected`` to ``target`` (plus column ``values``); False if it moved on."""
    changes = {Proposal.status: target, Proposal.updated_at: utcnow(),
               **{getattr(Proposal, key): value for key, value in values.items()}}
    rows = await Proposal.update(changes).where(
        (Proposal.id == proposal_id) & (Proposal.status == expected)
    ).returning(Proposal.id)
    return bool(rows)


async def set_status_many(round_id: int, from_status: str, to_status: str,
                          ids: Sequence[int] | None = None) -> list[int]:
    """Move every proposal of a round in ``from_status`` (optionally only ``ids``); returns the moved ids."""
    where = (Proposal.round == round_id) & (Proposal.status == from_status)
    if ids is not None:
        if not ids:
            return []
        where = where & Proposal.id.is_in(list(ids))
    rows = await Proposal.update({Proposal.status: to_status, Proposal.updated_at: utcnow()}).where(
        where
    ).returning(Proposal.id)
    return sorted(row["id"] for row in rows)


async def put_eligible_on_ballot(round_id: int) -> list[BallotProject]:
    """Voting opens: eligible proposals go on the ballot with their final cost fixed."""
    rows = await Proposal.raw(
        "UPDATE proposal SET status = 'on_ballot', final_cost = COALESCE(final_cost, requested_amount) "
        "WHERE round = {} AND status = 'eligible' RETURNING id, budget, title, final_cost",
        round_id,
    )
    return sorted((BallotProject(r["id"], r["budget"], r["title"], r["final_cost"]) for r in rows),
                  key=lambda p: p.proposal_id)


async def _with_co_proposers(rows: list[dict[str, Any]]) -> list[ProposalRow]:
    proposals = [msgspec.convert(row, ProposalRow) for row in rows]
    if proposals:
        links = await ProposalCoProposer.select(ProposalCoProposer.proposal, ProposalCoProposer.user).where(
            ProposalCoProposer.proposal.is_in([p.id for p in proposals])
        ).order_by(ProposalCoProposer.user)
        by_proposal: dict[int, list[int]] = {}
        for link in links:
            by_proposal.setdefault(link["proposal"], []).append(link["user"])
        for proposal in proposals:
            proposal.co_proposers = by_proposal.get(proposal.id, [])
    return proposals


async def get_proposal(organisation_id: int, proposal_id: int) -> ProposalRow | None:
    """A proposal of this organisation (another organisation's proposal is simply not found)."""
    row = await Proposal.select(*_COLUMNS).where(
        (Proposal.id == proposal_id) & (Proposal.organisation_id == organisation_id)
    ).first()
    return (await _with_co_proposers([row]))[0] if row else None


async def list_proposals(round_id: int) -> list[ProposalRow]:
    rows = await Proposal.select(*_COLUMNS).where(Proposal.round == round_id).order_by(Proposal.id)
    return await _with_co_proposers(rows)


async def count_in_budget(budget_id: int) -> int:
    return await Proposal.count().where(Proposal.budget == budget_id)


async def set_co_proposers(proposal_id: int, user_ids: Sequence[int]) -> None:
    await ProposalCoProposer.delete().where(ProposalCoProposer.proposal == proposal_id)
    if user_ids:
        await ProposalCoProposer.insert(
            *(ProposalCoProposer(proposal=proposal_id, user=user_id) for user_id in sorted(set(user_ids)))
        )


async def members_among(organisation_id: int, user_ids: Sequence[int]) -> set[int]:
    if not user_ids:
        return set()
    rows = await Membership.select(Membership.user).where(
        (Membership.organisation == organisation_id) & Membership.user.is_in(list(user_ids))
    )
    return {row["user"] for row in rows}


async def insert_review(proposal_id: int, reviewer_id: int, stage: str, criteria_results: list[dict[str, Any]],
                        decision: str, public_reason: str, adjusted_cost: int | None, cost_explanation: str) -> int:
    rows = await Review.insert(
        Review(proposal=proposal_id, reviewer=reviewer_id, stage=stage,
               criteria_results=canonical_json(criteria_results), decision=decision, public_reason=public_reason,
               adjusted_cost=adjusted_cost, cost_explanation=cost_explanation, created_at=utcnow())
    ).returning(Review.id)
    return rows[0]["id"]


async def list_reviews(proposal_id: int) -> list[ReviewRow]:
    rows = await Review.select(*_REVIEW_COLUMNS).where(Review.proposal == proposal_id).order_by(Review.id)
    return [msgspec.convert(row, ReviewRow) for row in rows]


async def latest_review(proposal_id: int, stage: str) -> ReviewRow | None:
    row = await Review.select(*_REVIEW_COLUMNS).where(
        (Review.proposal == proposal_id) & (Review.stage == stage)
    ).order_by(Review.id, ascending=False).first()
    return msgspec.convert(row, ReviewRow) if row else None


async def insert_appeal(proposal_id: int, reason: str) -> None:
    """Fails on the unique proposal column if this proposal was appealed before."""
    await Appeal.insert(Appeal(proposal=proposal_id, reason=reason, created_at=utcnow()))


async def appeal_reason(proposal_id: int) -> str | None:
    row = await Appeal.select(Appeal.reason).where(Appeal.proposal == proposal_id).first()
    return row["reason"] if row else None


class PublicSearch(msgspec.Struct, frozen=True):
    """Filters of the public proposal list (all optional)."""

    text: str = ""
    budget_id: int | None = None
    status: str | None = None
    min_cost: int | None = None
    max_cost: int | None = None
    sort: str = "newest"  # newest | oldest | cost_asc | cost_desc | title
    limit: int = 20
    offset: int = 0


_COST = "COALESCE(final_cost, requested_amount)"
_SORTS = {
    "newest": "submitted_at DESC, id DESC", "oldest": "submitted_at ASC, id ASC",
    "cost_asc": f"{_COST} ASC, id ASC", "cost_desc": f"{_COST} DESC, id ASC", "title": "LOWER(title) ASC, id ASC",
}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search_submitted(round_id: int, search: PublicSearch) -> tuple[list[ProposalRow], int]:
    """One page of a round's ever-submitted proposals (drafts never), with the total count.

    Filtering, sorting and paging happen in the database, so a round with thousands of proposals
    costs one indexed query per page on either engine.
    """
    where = ["round = {}", "submitted_at IS NOT NULL"]
    args: list[Any] = [round_id]
    if search.text.strip():
        pattern = f"%{_escape_like(search.text.strip().lower())}%"
        where.append("(LOWER(title) LIKE {} ESCAPE '\\' OR LOWER(summary) LIKE {} ESCAPE '\\')")
        args += [pattern, pattern]
    if search.budget_id is not None:
        where.append("budget = {}")
        args.append(search.budget_id)
    if search.status:
        where.append("status = {}")
        args.append(search.status)
    if search.min_cost is not None:
        where.append(f"{_COST} >= {{}}")
        args.append(search.min_cost)
    if search.max_cost is not None:
        where.append(f"{_COST} <= {{}}")
        args.append(search.max_cost)
    condition = " AND ".join(where)
    total = (await Proposal.raw(f"SELECT COUNT(*) AS n FROM proposal WHERE {condition}", *args))[0]["n"]
    rows = await Proposal.raw(
        "SELECT id, organisation_id, round AS round_id, budget AS budget_id, author AS author_id, title, summary, "
        "description, category, status, requested_amount, cost_lines, final_cost, appealed, submitted_at "
        f"FROM proposal WHERE {condition} ORDER BY {_SORTS.get(search.sort, _SORTS['newest'])} "
        "LIMIT {} OFFSET {}", *args, search.limit, search.offset,
    )
    return await _with_co_proposers(rows), int(total)


async def proposals_of_user(organisation_id: int, user_id: int) -> list[ProposalRow]:
    """Proposals a user wrote or co-proposes in an organisation (for "My pb")."""
    co = await ProposalCoProposer.select(ProposalCoProposer.proposal).where(ProposalCoProposer.user == user_id)
    ids = [row["proposal"] for row in co]
    condition = Proposal.author == user_id
    if ids:
        condition = condition | Proposal.id.is_in(ids)
    rows = await Proposal.select(*_COLUMNS).where(
        (Proposal.organisation_id == organisation_id) & condition
    ).order_by(Proposal.id, ascending=False)
    return await _with_co_proposers(rows)
