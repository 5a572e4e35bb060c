"""Response bodies for results and their verification."""

from __future__ import annotations

from typing import Any

import msgspec


class ProjectResultOut(msgspec.Struct):
    proposal_id: int
    title: str
    cost: int
    votes: int
    selected: bool
    rank: int | None
    reason: str  # selected, not_affordable, budget_exhausted, no_support, ... (pb.tally.explain)
    figures: dict[str, Any]


class BudgetResultOut(msgspec.Struct):
    budget_id: int
    name: str
    amount: int
    rule: str
    options: dict[str, Any]
    ballots: int
    ballots_digest: str
    winners: list[int]
    spent: int | str
    projects: list[ProjectResultOut]
    result_hash: str


class RoundResultsOut(msgspec.Struct):
    round_id: int
    phase: str
    budgets: list[BudgetResultOut]


class BudgetCheckOut(msgspec.Struct):
    budget_id: int
    match: bool
    stored_hash: str | None
    recomputed_hash: str
    ballots: int
    participations: int
    receipts_intact: bool


class VerificationOut(msgspec.Struct):
    round_id: int
    match: bool
    budgets: list[BudgetCheckOut]
