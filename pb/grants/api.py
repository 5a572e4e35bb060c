"""JSON API for grants: create from a selected proposal, plan and approve tranches, report progress."""

from __future__ import annotations

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from pb.accounts.domain import CITIZEN, OFFICIAL, REVIEWER, Actor
from pb.accounts.guards import ANY_MEMBER, requires_role
from pb.grants import service
from pb.grants.schemas import (
    CancelGrant, CreateGrant, FundedProjectOut, GrantDetailOut, GrantOut, PlanTranche, RecipientStateOut, ReportOut,
    ReportProgress, ReviewReport, TrancheOut,
)

GRANT = "/api/orgs/{org_id:int}/grants/{grant_id:int}"
# Members who may write anything at all: auditors read everything and change nothing.
GRANTEE_ROLES = (CITIZEN, REVIEWER, OFFICIAL)


def as_out(row: msgspec.Struct, out_type: type):
    """A repo row shown through its explicit output Struct (only the listed fields leave)."""
    return msgspec.convert(row, out_type, from_attributes=True)


@post("/api/orgs/{org_id:int}/rounds/{round_id:int}/grants", guards=[requires_role(OFFICIAL)], tags=["grants"],
      summary="Turn a selected proposal into a grant (amount defaults to its final cost)", status_code=201)
async def create_grant(actor: NamedDependency[Actor], round_id: FromPath[int], data: JSONBody[CreateGrant]) -> GrantOut:
    return as_out(await service.create_grant(actor, round_id, data.proposal_id, data.amount), GrantOut)


@get("/api/orgs/{org_id:int}/rounds/{round_id:int}/grants", guards=[requires_role(*ANY_MEMBER)], tags=["grants"],
     summary="The grants of a round (public money: every member may see them)")
async def list_grants(actor: NamedDependency[Actor], round_id: FromPath[int]) -> list[GrantOut]:
    return [as_out(row, GrantOut) for row in await service.list_grants(actor, round_id)]


@get(GRANT, guards=[requires_role(*ANY_MEMBER)], tags=["grants"],
     summary="A grant with its tranches and progress reports")
async def grant_detail(actor: NamedDependency[Actor], grant_id: FromPath[int]) -> GrantDetailOut:
    detail = await service.grant_detail(actor, grant_id)
    return GrantDetailOut(
        as_out(detail.grant, GrantOut), [as_out(t, TrancheOut) for t in detail.tranches],
        [as_out(r, ReportOut) for r in detail.reports],
        as_out(detail.recipient, RecipientStateOut) if detail.recipient else None,
    )


@post(GRANT + "/tranches", guards=[requires_role(OFFICIAL)], tags=["grants"],
      summary="Plan a tranche (amount and condition) within the grant", status_code=201)
async def plan_tranche(actor: NamedDependency[Actor], grant_id: FromPath[int], data: JSONBody[PlanTranche]) -> TrancheOut:
    return as_out(await service.plan_tranche(actor, grant_id, data.amount, data.condition, data.requires_report),
                  TrancheOut)


@post(GRANT + "/tranches/{tranche_id:int}/approve", guards=[requires_role(OFFICIAL)], tags=["grants"],
      summary="Approve a planned tranche (four eyes: not the official who planned it)", status_code=200)
async def approve_tranche(actor: NamedDependency[Actor], grant_id: FromPath[int], tranche_id: FromPath[int]) -> TrancheOut:
    return as_out(await service.approve_tranche(actor, grant_id, tranche_id), TrancheOut)


@post(GRANT + "/reports", guards=[requires_role(*GRANTEE_ROLES)], tags=["grants"],
      summary="Report progress (the grantee: the proposal's author or a co-proposer)", status_code=201)
async def report_progress(actor: NamedDependency[Actor], grant_id: FromPath[int], data: JSONBody[ReportProgress]) -> ReportOut:
    return as_out(await service.report_progress(actor, grant_id, data.body, data.completion_percent, data.final),
                  ReportOut)


@post(GRANT + "/reports/{report_id:int}/review", guards=[requires_role(OFFICIAL)], tags=["grants"], status_code=200,
      summary="Accept or reject a progress report; an accepted final report completes a fully paid grant")
async def review_report(actor: NamedDependency[Actor], grant_id: FromPath[int], report_id: FromPath[int],
                        data: JSONBody[ReviewReport]) -> ReportOut:
    return as_out(await service.review_report(actor, grant_id, report_id, data.accept, data.note), ReportOut)


@post(GRANT + "/cancel", guards=[requires_role(OFFICIAL)], tags=["grants"], status_code=200,
      summary="Cancel a grant: unpaid tranches are withdrawn and the unpaid money returns to the budget")
async def cancel_grant(actor: NamedDependency[Actor], grant_id: FromPath[int], data: JSONBody[CancelGrant]) -> GrantOut:
    return as_out(await service.cancel_grant(actor, grant_id, data.reason), GrantOut)


@get("/api/orgs/{org_id:int}/rounds/{round_id:int}/funded", opt={"public": True}, tags=["grants"],
     summary="Funded projects of a published round, public: tranches paid and progress reports")
async def funded_projects(org_id: FromPath[int], round_id: FromPath[int]) -> list[FundedProjectOut]:
    return [as_out(project, FundedProjectOut) for project in await service.funded_projects(org_id, round_id)]


ROUTES = [funded_projects, create_grant, list_grants, grant_detail, plan_tranche, approve_tranche, report_progress,
          review_report, cancel_grant]
