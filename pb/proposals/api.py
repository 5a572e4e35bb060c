"""JSON API for proposals, reviews and appeals."""

from __future__ import annotations

import json
from typing import Literal

import msgspec
from litestar import get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from pb.accounts.domain import CITIZEN, OFFICIAL, REVIEWER, Actor
from pb.accounts.guards import ANY_MEMBER, requires_role
from pb.core.ratelimit import rate_limited
from pb.proposals import service
from pb.proposals.domain import CriterionResult
from pb.proposals.schemas import (
    AppealDecisionIn, AppealIn, CostLineOut, Created, CriterionResultIn, CriterionResultOut, ProposalIn, ProposalOut,
    ProposalSummaryOut, PublicProposalPageOut, ReviewIn, ReviewOut,
)
from pb.proposals.repo import PublicSearch

PROPOSAL = "/api/orgs/{org_id:int}/proposals/{proposal_id:int}"
REVIEWERS = (REVIEWER, OFFICIAL)


def _content(data: ProposalIn) -> dict:
    content = msgspec.structs.asdict(data)
    content["cost_lines"] = [msgspec.structs.asdict(line) for line in data.cost_lines]
    return content


def _criteria(results: list[CriterionResultIn]) -> list[CriterionResult]:
    return [CriterionResult(r.key, r.passed, r.note) for r in results]


def _proposal_out(view: service.ProposalView) -> ProposalOut:
    p = view.proposal
    reviews = [
        ReviewOut(r.id, r.stage, r.decision, r.public_reason,
                  [msgspec.convert(c, CriterionResultOut) for c in json.loads(r.criteria_results)],
                  r.adjusted_cost, r.cost_explanation, r.created_at, r.reviewer_id if view.show_reviewers else None)
        for r in view.reviews
    ]
    return ProposalOut(
        p.id, p.round_id, p.budget_id, p.author_id, p.co_proposers, p.title, p.summary, p.description, p.category,
        p.status, p.requested_amount, [msgspec.convert(c, CostLineOut) for c in p.cost_line_list], p.final_cost,
        p.appealed, p.submitted_at, view.appeal_reason, reviews,
    )


async def _detail(actor: Actor, proposal_id: int) -> ProposalOut:
    return _proposal_out(await service.get_proposal(actor, proposal_id))


@post("/api/orgs/{org_id:int}/rounds/{round_id:int}/proposals",
      guards=[requires_role(CITIZEN), rate_limited("submission")],
      tags=["proposals"], summary="Start a draft proposal (round in submission)", status_code=201)
async def create_proposal(actor: NamedDependency[Actor], round_id: FromPath[int],
                          data: JSONBody[ProposalIn]) -> Created:
    return Created(await service.create_proposal(actor, round_id, _content(data)))


@get("/api/orgs/{org_id:int}/rounds/{round_id:int}/proposals", guards=[requires_role(*ANY_MEMBER)],
     tags=["proposals"], summary="The round's proposals you may see")
async def list_proposals(actor: NamedDependency[Actor], round_id: FromPath[int]) -> list[ProposalSummaryOut]:
    return [ProposalSummaryOut(p.id, p.budget_id, p.title, p.summary, p.category, p.status, p.requested_amount,
                               p.final_cost)
            for p in await service.list_proposals(actor, round_id)]


@get(PROPOSAL, guards=[requires_role(*ANY_MEMBER)], tags=["proposals"], summary="A proposal with its reviews")
async def get_proposal(actor: NamedDependency[Actor], proposal_id: FromPath[int]) -> ProposalOut:
    return await _detail(actor, proposal_id)


@put(PROPOSAL, guards=[requires_role(CITIZEN)], tags=["proposals"],
     summary="Replace a proposal's content (draft, or after changes were requested)")
async def update_proposal(actor: NamedDependency[Actor], proposal_id: FromPath[int],
                          data: JSONBody[ProposalIn]) -> ProposalOut:
    await service.update_proposal(actor, proposal_id, _content(data))
    return await _detail(actor, proposal_id)


@post(PROPOSAL + "/submit", guards=[requires_role(CITIZEN), rate_limited("submission")], tags=["proposals"],
      status_code=200,
      summary="Submit (or resubmit after changes were requested)")
async def submit(actor: NamedDependency[Actor], proposal_id: FromPath[int]) -> ProposalOut:
    await service.submit(actor, proposal_id)
    return await _detail(actor, proposal_id)


@post(PROPOSAL + "/withdraw", guards=[requires_role(CITIZEN)], tags=["proposals"], status_code=200,
      summary="Withdraw a draft or submitted proposal")
async def withdraw(actor: NamedDependency[Actor], proposal_id: FromPath[int]) -> ProposalOut:
    await service.withdraw(actor, proposal_id)
    return await _detail(actor, proposal_id)


@post(PROPOSAL + "/reviews", guards=[requires_role(*REVIEWERS)], tags=["reviews"], status_code=201,
      summary="Review: each criterion, a decision, a public reason, an optional adjusted cost")
async def review(actor: NamedDependency[Actor], proposal_id: FromPath[int], data: JSONBody[ReviewIn]) -> Created:
    return Created(await service.review(actor, proposal_id, _criteria(data.criteria), data.decision,
                                        data.public_reason, data.adjusted_cost, data.cost_explanation))


@post(PROPOSAL + "/appeal", guards=[requires_role(CITIZEN)], tags=["reviews"], status_code=200,
      summary="The author appeals an ineligible decision (once)")
async def appeal(actor: NamedDependency[Actor], proposal_id: FromPath[int], data: JSONBody[AppealIn]) -> ProposalOut:
    await service.appeal(actor, proposal_id, data.reason)
    return await _detail(actor, proposal_id)


@post(PROPOSAL + "/appeal/decision", guards=[requires_role(*REVIEWERS)], tags=["reviews"], status_code=201,
      summary="Final decision on an appeal, by a reviewer other than the one appealed against")
async def decide_appeal(actor: NamedDependency[Actor], proposal_id: FromPath[int],
                        data: JSONBody[AppealDecisionIn]) -> Created:
    return Created(await service.decide_appeal(actor, proposal_id, _criteria(data.criteria), data.decision,
                                               data.public_reason, data.adjusted_cost, data.cost_explanation))


PUBLIC_SORTS = ("newest", "oldest", "cost_asc", "cost_desc", "title")


@get("/api/orgs/{org_id:int}/rounds/{round_id:int}/public-proposals", opt={"public": True}, tags=["proposals"],
     summary="Submitted proposals, public: search (title and summary), filters, sorting, 20 per page")
async def public_proposals(
    org_id: FromPath[int], round_id: FromPath[int], q: FromQuery[str] = "", budget_id: FromQuery[int | None] = None,
    status: FromQuery[str | None] = None, min_cost: FromQuery[int | None] = None,
    max_cost: FromQuery[int | None] = None,
    sort: FromQuery[Literal["newest", "oldest", "cost_asc", "cost_desc", "title"]] = "newest",
    page: FromQuery[int] = 1,
) -> PublicProposalPageOut:
    """Drafts are never listed; everything else (ineligible and withdrawn too) is public once submitted."""
    search = PublicSearch(text=q[:200], budget_id=budget_id, status=status, min_cost=min_cost, max_cost=max_cost,
                          sort=sort)
    found = await service.search_public(org_id, round_id, search, page)
    return PublicProposalPageOut(
        [ProposalSummaryOut(p.id, p.budget_id, p.title, p.summary, p.category, p.status, p.requested_amount,
                            p.final_cost) for p in found.proposals],
        found.total, found.page, found.pages,
    )


@get("/api/orgs/{org_id:int}/public-proposals/{proposal_id:int}", opt={"public": True}, tags=["proposals"],
     summary="A submitted proposal with its public review outcome (no reviewer identities)")
async def public_proposal(org_id: FromPath[int], proposal_id: FromPath[int]) -> ProposalOut:
    return _proposal_out(await service.public_proposal(org_id, proposal_id))


ROUTES = [public_proposals, public_proposal, create_proposal, list_proposals, get_proposal, update_proposal, submit, withdraw, review, appeal,
          decide_appeal]
