"""JSON API for results: tally, publish, read (staff from tallied, public once published), verify."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from pb.accounts.domain import AUDITOR, OFFICIAL, Actor
from pb.accounts.guards import requires_role
from pb.results import service
from pb.results.schemas import BudgetCheckOut, BudgetResultOut, ProjectResultOut, RoundResultsOut, VerificationOut

ROUND = "/api/orgs/{org_id:int}/rounds/{round_id:int}"


def _out(results: service.RoundResults) -> RoundResultsOut:
    budgets = [
        BudgetResultOut(
            budget_id=doc["budget_id"], name=doc["name"], amount=doc["amount"], rule=doc["rule"],
            options=doc["options"], ballots=doc["ballots"], ballots_digest=doc["ballots_digest"],
            winners=doc["winners"], spent=doc["spent"],
            projects=[ProjectResultOut(**project) for project in doc["projects"]],
            result_hash=results.hashes[doc["budget_id"]],
        )
        for doc in results.budgets
    ]
    return RoundResultsOut(results.round_id, results.phase, budgets)


@post(ROUND + "/tally", guards=[requires_role(OFFICIAL)], tags=["results"], status_code=200,
      summary="Tally a closed round with its frozen rule (closed -> tallied)")
async def tally_round(request: Request, actor: NamedDependency[Actor], round_id: FromPath[int]) -> RoundResultsOut:
    return _out(await service.tally_round(actor, round_id, round_keys=request.app.state.round_keys))


@get(ROUND + "/tally", guards=[requires_role(OFFICIAL, AUDITOR)], tags=["results"],
     summary="The stored results with their hashes, from the tally on (staff)")
async def staff_results(actor: NamedDependency[Actor], round_id: FromPath[int]) -> RoundResultsOut:
    return _out(await service.results(actor.organisation_id, round_id, staff=True))


@get(ROUND + "/tally/verification", guards=[requires_role(OFFICIAL, AUDITOR)], tags=["results"],
     summary="Recompute the tally from the stored ballots and compare with the stored result hashes")
async def verify_tally(actor: NamedDependency[Actor], round_id: FromPath[int]) -> VerificationOut:
    checks = await service.verify(actor, round_id)
    budgets = [BudgetCheckOut(c.budget_id, c.ok, c.stored_hash, c.recomputed_hash, c.ballots, c.participations,
                              c.receipts_intact) for c in checks]
    return VerificationOut(round_id, all(c.ok for c in checks), budgets)


@post(ROUND + "/results/publish", guards=[requires_role(OFFICIAL)], tags=["results"], status_code=200,
      summary="Publish the results (tallied -> published)")
async def publish(actor: NamedDependency[Actor], round_id: FromPath[int]) -> RoundResultsOut:
    return _out(await service.publish(actor, round_id))


@get(ROUND + "/results", opt={"public": True}, tags=["results"],
     summary="Published results: winners, money spent, every project's votes and reason")
async def public_results(org_id: FromPath[int], round_id: FromPath[int]) -> RoundResultsOut:
    return _out(await service.results(org_id, round_id, staff=False))


ROUTES = [tally_round, staff_results, verify_tally, publish, public_results]
