"""JSON API for the census (import, binding) and voting (cast, my budgets, receipt lookup)."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, RawBody

from pb.accounts.domain import AUDITOR, CITIZEN, OFFICIAL, Actor
from pb.accounts.guards import ANY_MEMBER, requires_role
from pb.core.keyring import RoundKeyStore
from pb.core.ratelimit import rate_limited
from pb.voting import service
from pb.voting.guards import requires_voter, voter_check_of
from pb.voting.schemas import (
    BindCensus, BudgetChoiceOut, CastBallot, CastOut, CensusBindingOut, CensusImportOut, DistrictCountOut,
    LookUpReceipt, ReceiptOut,
)

ROUND = "/api/orgs/{org_id:int}/rounds/{round_id:int}"


def _census_key(request: Request) -> bytes:
    return request.app.state.census_key


def _round_keys(request: Request) -> RoundKeyStore:
    return request.app.state.round_keys


@post("/api/orgs/{org_id:int}/census/import", guards=[requires_role(OFFICIAL)], tags=["census"], status_code=201,
      summary="Import residents from CSV (identifier,district); all or nothing, bad lines are named")
async def import_census(request: Request, actor: NamedDependency[Actor], body: RawBody) -> CensusImportOut:
    """The request body is the CSV itself (``text/csv``), header ``identifier,district``."""
    result = await service.import_census(actor, _census_key(request), body)
    return CensusImportOut(result.lines, result.imported, result.duplicates_skipped)


@get("/api/orgs/{org_id:int}/census", guards=[requires_role(OFFICIAL, AUDITOR)], tags=["census"],
     summary="Census entries and bound accounts per district")
async def census_summary(actor: NamedDependency[Actor]) -> list[DistrictCountOut]:
    return [DistrictCountOut(c.district, c.entries, c.bound) for c in await service.census_summary(actor)]


@post("/api/orgs/{org_id:int}/census/binding", guards=[requires_role(CITIZEN), rate_limited("census-binding")],
      tags=["census"], status_code=200,
      summary="Bind your account to your census entry by giving your resident identifier")
async def bind_census(request: Request, actor: NamedDependency[Actor], data: JSONBody[BindCensus]) -> CensusBindingOut:
    entry = await service.bind_census_entry(actor, _census_key(request), data.identifier)
    return CensusBindingOut(entry.district)


@get("/api/orgs/{org_id:int}/census/binding", guards=[requires_role(*ANY_MEMBER)], tags=["census"],
     summary="Your census binding (your district)")
async def my_binding(actor: NamedDependency[Actor]) -> CensusBindingOut:
    return CensusBindingOut((await service.my_census_entry(actor)).district)


@get(ROUND + "/my-budgets", guards=[requires_role(*ANY_MEMBER)], tags=["voting"],
     summary="The budgets you may vote in this round, and whether you already did")
async def my_budgets(request: Request, actor: NamedDependency[Actor], round_id: FromPath[int]) -> list[BudgetChoiceOut]:
    choices = await service.my_budgets(actor, _census_key(request), round_id)
    return [BudgetChoiceOut(c.budget_id, c.name, c.voted) for c in choices]


@post(ROUND + "/budgets/{budget_id:int}/ballots", guards=[requires_voter(CITIZEN), rate_limited("casting")],
      tags=["voting"], status_code=201,
      summary="Cast your ballot in one budget (once); the receipt is the SHA-256 of the returned content",
      description="Refusals: 403 not_in_census (no bound census entry), 403 not_eligible_for_budget (another "
                  "district's budget), 409 not_voting, 409 already_voted, 422 with the broken constraint: "
                  "too_many_projects, too_few_projects, over_budget, below_minimum_spend, unknown_project, "
                  "duplicate_project, malformed_points, too_many_points, points_per_project_exceeded, "
                  "points_below_minimum. Ranked (ordinal) ballots list projects most preferred first; "
                  "cumulative and scoring ballots send ``points``, one per listed project, in the same order.")
async def cast_ballot(request: Request, actor: NamedDependency[Actor], round_id: FromPath[int],
                      budget_id: FromPath[int], data: JSONBody[CastBallot]) -> CastOut:
    cast = await service.cast_ballot(actor, _census_key(request), round_id, budget_id, data.projects, data.points,
                                     round_keys=_round_keys(request), checked=voter_check_of(request))
    return CastOut(cast.receipt, cast.content)


async def _receipt_out(request: Request, org_id: int, round_id: int, receipt: str) -> ReceiptOut:
    found = await service.look_up_receipt(org_id, round_id, receipt, round_keys=_round_keys(request))
    return ReceiptOut(found.receipt, found.status, found.budget_id, found.content)


@get(ROUND + "/receipts/{receipt:str}", opt={"public": True}, tags=["voting"],
     summary="Look a receipt up: 'received' during voting, the ballot content after close",
     description="Prefer POST .../receipts/lookup: a receipt in a URL can end up in proxy access logs.")
async def look_up_receipt(request: Request, org_id: FromPath[int], round_id: FromPath[int],
                          receipt: FromPath[str]) -> ReceiptOut:
    return await _receipt_out(request, org_id, round_id, receipt)


@post(ROUND + "/receipts/lookup", opt={"public": True}, tags=["voting"], status_code=200,
      summary="Look a receipt up (receipt in the body): 'received' during voting, the content after close")
async def look_up_receipt_in_body(request: Request, org_id: FromPath[int], round_id: FromPath[int],
                                  data: JSONBody[LookUpReceipt]) -> ReceiptOut:
    return await _receipt_out(request, org_id, round_id, data.receipt)


ROUTES = [import_census, census_summary, bind_census, my_binding, my_budgets, cast_ballot, look_up_receipt,
          look_up_receipt_in_body]
