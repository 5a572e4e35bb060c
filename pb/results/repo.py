"""Stored tally runs and per-project results."""

from __future__ import annotations

from typing import Any

import msgspec

from pb.core.canonical import canonical_json
from pb.core.clock import utcnow
from pb.results.tables import ProjectResult, TallyRun


class StoredRun(msgspec.Struct):
    budget_id: int
    rule: str
    spent: int
    result: str
    result_hash: str


class SelectedProject(msgspec.Struct):
    """A winning project, as the grants context needs it."""

    proposal_id: int
    budget_id: int
    cost: int


async def insert_run(round_id: int, document: dict[str, Any], digest: str, created_by: int) -> None:
    """One budget's result: the run with the whole document, and one row per project.

    ``TallyRun.budget`` is unique, so a budget can never hold two results.
    """
    await TallyRun.insert(TallyRun(
        round=round_id, budget=document["budget_id"], rule=document["rule"],
        options=canonical_json(document["options"]), spent=int(document["spent"]),
        result=canonical_json(document), result_hash=digest, created_by=created_by, created_at=utcnow(),
    ))
    if not document["projects"]:
        return
    await ProjectResult.insert(*(
        ProjectResult(
            round=round_id, budget=document["budget_id"], proposal_id=project["proposal_id"],
            votes=project["votes"], cost=project["cost"], selected=project["selected"], rank=project["rank"],
            reason=project["reason"], figures=canonical_json(project["figures"]),
        )
        for project in document["projects"]
    ))


async def runs(round_id: int) -> list[StoredRun]:
    rows = await TallyRun.select(
        TallyRun.budget.as_alias("budget_id"), TallyRun.rule, TallyRun.spent, TallyRun.result,
        TallyRun.result_hash,
    ).where(TallyRun.round == round_id).order_by(TallyRun.budget)
    return [msgspec.convert(row, StoredRun) for row in rows]


async def selected_projects(round_id: int) -> list[SelectedProject]:
    """The winners of a tallied round (proposal, budget, cost), for creating grants."""
    rows = await ProjectResult.select(
        ProjectResult.proposal_id, ProjectResult.budget.as_alias("budget_id"), ProjectResult.cost,
    ).where((ProjectResult.round == round_id) & (ProjectResult.selected == True)).order_by(  # noqa: E712
        ProjectResult.budget, ProjectResult.rank
    )
    return [msgspec.convert(row, SelectedProject) for row in rows]
