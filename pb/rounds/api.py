"""JSON API for rounds: officials configure rounds and move phases; the public reads non-draft rounds."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from pb.accounts.domain import AUDITOR, OFFICIAL, REVIEWER, Actor
from pb.accounts.guards import requires_role
from pb.rounds import service
from pb.rounds.domain import BALLOT_FORMAT_HELP, BALLOT_FORMATS, FORMAT_SETTINGS, BudgetSpec, PhaseDue
from pb.rounds.repo import RoundRow
from pb.tally import RULES
from pb.rounds.schemas import (
    BallotFormatOut, TallyOptionsOut,
    BallotProjectOut, BudgetIn, BudgetOut, Created, CriterionOut, NextPhaseOut, PhaseChange, RoundCreate, RoundOut,
    RoundSummaryOut, RoundUpdate,
)

STAFF = (OFFICIAL, REVIEWER, AUDITOR)
ROUNDS = "/api/orgs/{org_id:int}/rounds"
STAFF_ROUNDS = "/api/orgs/{org_id:int}/staff/rounds"


def budget_spec(budget: BudgetIn) -> BudgetSpec:
    """A budget Struct of the API (and the staff pages) as the domain's BudgetSpec."""
    return BudgetSpec(budget.name, budget.kind, budget.district, budget.amount, budget.ballot_format,
                      budget.min_projects, budget.max_projects, budget.min_spend_percent,
                      budget.points_per_voter, budget.score_min, budget.score_max)


def _round_out(view: service.RoundView) -> RoundOut:
    found = view.round
    budgets = [
        BudgetOut(b.id, b.name, b.kind, b.district, b.amount, b.ballot_format, b.min_projects, b.max_projects,
                  b.min_spend_percent, b.points_per_voter, b.score_min, b.score_max, b.eligible_count,
                  None if view.ballot is None else [msgspec.convert(p, BallotProjectOut)
                                                    for p in view.ballot.get(b.id, [])])
        for b in view.budgets
    ]
    return RoundOut(
        found.id, found.organisation_id, found.title, found.description, found.phase, found.currency,
        found.max_proposal_amount, found.tally_rule, found.options,
        [msgspec.convert(c, CriterionOut) for c in found.criteria_list], found.allow_revision,
        found.submission_start, found.submission_end, found.voting_start, found.voting_end,
        found.frozen_config_hash, budgets, _next_phase_out(view.next_phase),
    )


def _next_phase_out(due: PhaseDue | None) -> NextPhaseOut | None:
    return None if due is None else NextPhaseOut(due.phase, due.due_at, due.overdue)


def _summaries(rounds: list[RoundRow]) -> list[RoundSummaryOut]:
    return [RoundSummaryOut(r.id, r.title, r.phase, _next_phase_out(service.next_phase_due(r))) for r in rounds]


@post(ROUNDS, guards=[requires_role(OFFICIAL)], tags=["rounds"], summary="Create a draft round with its budgets",
      status_code=201)
async def create_round(actor: NamedDependency[Actor], data: JSONBody[RoundCreate]) -> Created:
    values = msgspec.structs.asdict(data)
    budgets = [budget_spec(b) for b in values.pop("budgets")]
    values["criteria"] = [msgspec.structs.asdict(c) for c in data.criteria]
    return Created(await service.create_round(actor, values, budgets))


@patch(ROUNDS + "/{round_id:int}", guards=[requires_role(OFFICIAL)], tags=["rounds"],
       summary="Change round settings (before voting opens; criteria and maximum amount before review)")
async def update_round(actor: NamedDependency[Actor], round_id: FromPath[int],
                       data: JSONBody[RoundUpdate]) -> RoundOut:
    changes: dict[str, Any] = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    if "criteria" in changes:
        changes["criteria"] = [msgspec.structs.asdict(c) for c in changes["criteria"]]
    await service.update_round(actor, round_id, changes)
    return _round_out(await service.round_view(actor.organisation_id, round_id, include_draft=True))


@post(ROUNDS + "/{round_id:int}/budgets", guards=[requires_role(OFFICIAL)], tags=["rounds"],
      summary="Add a budget (draft or submission phase)", status_code=201)
async def add_budget(actor: NamedDependency[Actor], round_id: FromPath[int], data: JSONBody[BudgetIn]) -> Created:
    return Created(await service.add_budget(actor, round_id, budget_spec(data)))


@patch(ROUNDS + "/{round_id:int}/budgets/{budget_id:int}", guards=[requires_role(OFFICIAL)], tags=["rounds"],
       summary="Replace a budget's settings (before voting opens)")
async def update_budget(actor: NamedDependency[Actor], round_id: FromPath[int], budget_id: FromPath[int],
                        data: JSONBody[BudgetIn]) -> RoundOut:
    await service.update_budget(actor, round_id, budget_id, budget_spec(data))
    return _round_out(await service.round_view(actor.organisation_id, round_id, include_draft=True))


@post(ROUNDS + "/{round_id:int}/phase", guards=[requires_role(OFFICIAL)], tags=["rounds"], status_code=200,
      summary="Move the round to its next phase (opening voting freezes it)")
async def move_phase(request: Request, actor: NamedDependency[Actor], round_id: FromPath[int],
                     data: JSONBody[PhaseChange]) -> RoundOut:
    await service.move_phase(actor, round_id, data.target, round_keys=request.app.state.round_keys)
    return _round_out(await service.round_view(actor.organisation_id, round_id, include_draft=True))


@get(ROUNDS, opt={"public": True}, tags=["rounds"], summary="Public: the organisation's rounds (no drafts)")
async def list_public_rounds(org_id: FromPath[int]) -> list[RoundSummaryOut]:
    return _summaries(await service.list_rounds(org_id, include_drafts=False))


@get(ROUNDS + "/{round_id:int}", opt={"public": True}, tags=["rounds"],
     summary="Public: a round with its budgets and, once voting opened, the ballot")
async def public_round(org_id: FromPath[int], round_id: FromPath[int]) -> RoundOut:
    return _round_out(await service.round_view(org_id, round_id, include_draft=False))


@get(ROUNDS + "/{round_id:int}/frozen-config", opt={"public": True}, tags=["rounds"],
     summary="Public: the frozen configuration voting runs on (canonical JSON; its SHA-256 is logged)")
async def frozen_config(org_id: FromPath[int], round_id: FromPath[int]) -> dict[str, Any]:
    return await service.frozen_config(org_id, round_id)


@get("/api/orgs/{org_id:int}/staff/tally-options", guards=[requires_role(*STAFF)], tags=["rounds"],
     summary="Staff: every tally rule with its options, and every ballot format with its settings")
async def tally_options() -> TallyOptionsOut:
    return TallyOptionsOut(
        rules={name: msgspec.to_builtins(info) for name, info in RULES.items()},
        ballot_formats=[BallotFormatOut(name, BALLOT_FORMAT_HELP[name], list(FORMAT_SETTINGS[name]))
                        for name in BALLOT_FORMATS],
    )


@get(STAFF_ROUNDS, guards=[requires_role(*STAFF)], tags=["rounds"],
     summary="Staff: every round including drafts")
async def list_all_rounds(actor: NamedDependency[Actor]) -> list[RoundSummaryOut]:
    return _summaries(await service.list_rounds(actor.organisation_id, include_drafts=True))


@get(STAFF_ROUNDS + "/{round_id:int}", guards=[requires_role(*STAFF)], tags=["rounds"],
     summary="Staff: a round including a draft one")
async def staff_round(actor: NamedDependency[Actor], round_id: FromPath[int]) -> RoundOut:
    return _round_out(await service.round_view(actor.organisation_id, round_id, include_draft=True))


ROUTES = [create_round, update_round, add_budget, update_budget, move_phase, list_public_rounds, public_round,
          frozen_config, list_all_rounds, staff_round, tally_options]
