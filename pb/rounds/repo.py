"""Queries for rounds and budgets. Phase changes are conditional UPDATEs; writers lock the round row."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw

from pb.core.canonical import sha256_hex
from pb.core.clock import utcnow
from pb.db import is_postgres
from pb.rounds.domain import DRAFT, BudgetSpec
from pb.rounds.tables import Budget, Round


class RoundRow(msgspec.Struct):
    id: int
    organisation_id: int
    title: str
    description: str
    phase: str
    currency: str
    max_proposal_amount: int
    tally_rule: str
    tally_options: str
    criteria: str
    allow_revision: bool
    submission_start: datetime | None
    submission_end: datetime | None
    voting_start: datetime | None
    voting_end: datetime | None
    frozen_config_hash: str | None
    created_by: int

    @property
    def criteria_list(self) -> list[dict[str, str]]:
        return json.loads(self.criteria)

    @property
    def options(self) -> dict[str, Any]:
        return json.loads(self.tally_options)


class BudgetRow(msgspec.Struct):
    id: int
    round_id: int
    name: str
    kind: str
    district: str | None
    amount: int
    ballot_format: str
    min_projects: int | None
    max_projects: int | None
    min_spend_percent: int | None
    points_per_voter: int | None
    score_min: int | None
    score_max: int | None
    eligible_count: int | None
    granted: int

    def spec(self) -> BudgetSpec:
        return BudgetSpec(self.name, self.kind, self.district, self.amount, self.ballot_format,
                          self.min_projects, self.max_projects, self.min_spend_percent,
                          self.points_per_voter, self.score_min, self.score_max)


class PublicRound(msgspec.Struct):
    id: int
    title: str
    phase: str


_ROUND_COLUMNS = (
    Round.id, Round.organisation.as_alias("organisation_id"), Round.title, Round.description, Round.phase,
    Round.currency, Round.max_proposal_amount, Round.tally_rule, Round.tally_options, Round.criteria,
    Round.allow_revision, Round.submission_start, Round.submission_end, Round.voting_start, Round.voting_end,
    Round.frozen_config_hash, Round.created_by,
)
_BUDGET_COLUMNS = (
    Budget.id, Budget.round.as_alias("round_id"), Budget.name, Budget.kind, Budget.district, Budget.amount,
    Budget.ballot_format, Budget.min_projects, Budget.max_projects, Budget.min_spend_percent,
    Budget.points_per_voter, Budget.score_min, Budget.score_max, Budget.eligible_count, Budget.granted,
)


async def insert_round(organisation_id: int, created_by: int, values: dict[str, Any]) -> int:
    now = utcnow()
    rows = await Round.insert(
        Round(organisation=organisation_id, created_by=created_by, created_at=now, updated_at=now, **values)
    ).returning(Round.id)
    return rows[0]["id"]


async def get_round(organisation_id: int, round_id: int) -> RoundRow | None:
    """A round of this organisation (another organisation's round is simply not found)."""
    row = await Round.select(*_ROUND_COLUMNS).where(
        (Round.id == round_id) & (Round.organisation == organisation_id)
    ).first()
    return msgspec.convert(row, RoundRow) if row else None


async def lock_round(organisation_id: int, round_id: int) -> RoundRow | None:
    """Read a round for a change that depends on its phase, holding its row until the transaction ends.

    PostgreSQL: ``SELECT … FOR UPDATE``, so a concurrent freeze (which updates this row) and this
    change serialise and the change sees the frozen phase. SQLite: the write transaction is
    ``BEGIN IMMEDIATE`` already, which serialises all writers.
    """
    query = Round.select(*_ROUND_COLUMNS).where((Round.id == round_id) & (Round.organisation == organisation_id))
    if is_postgres():
        query = query.lock_rows()
    row = await query.first()
    return msgspec.convert(row, RoundRow) if row else None


async def list_rounds(organisation_id: int, include_drafts: bool) -> list[RoundRow]:
    query = Round.select(*_ROUND_COLUMNS).where(Round.organisation == organisation_id)
    if not include_drafts:
        query = query.where(Round.phase != DRAFT)
    return [msgspec.convert(row, RoundRow) for row in await query.order_by(Round.id)]


async def list_public_rounds(organisation_id: int) -> list[PublicRound]:
    """Rounds the public may see (every phase but draft), for the home page."""
    rows = await Round.select(Round.id, Round.title, Round.phase).where(
        (Round.organisation == organisation_id) & (Round.phase != DRAFT)
    ).order_by(Round.id)
    return [msgspec.convert(row, PublicRound) for row in rows]


async def update_round(round_id: int, values: dict[str, Any]) -> bool:
    """Change round settings unless the round is frozen (the guard is in the statement itself)."""
    rows = await Round.update({**values, Round.updated_at: utcnow()}).where(
        (Round.id == round_id) & Round.frozen_config_hash.is_null()
    ).returning(Round.id)
    return bool(rows)


async def change_phase(round_id: int, expected: str, target: str) -> bool:
    """Move a round from ``expected`` to ``target``; False when it was not in ``expected`` any more."""
    rows = await Round.update({Round.phase: target, Round.updated_at: utcnow()}).where(
        (Round.id == round_id) & (Round.phase == expected)
    ).returning(Round.id)
    return bool(rows)


async def store_frozen_config(round_id: int, config_json: str, config_hash: str) -> bool:
    rows = await Round.update({Round.frozen_config: config_json, Round.frozen_config_hash: config_hash}).where(
        (Round.id == round_id) & Round.frozen_config_hash.is_null()
    ).returning(Round.id)
    return bool(rows)


async def frozen_config(round_id: int) -> dict | None:
    """The configuration voting runs on, as written when voting opened (None before)."""
    row = await Round.select(Round.frozen_config).where(Round.id == round_id).first()
    return json.loads(row["frozen_config"]) if row and row["frozen_config"] else None


FROZEN_CONFIGS_KEPT = 64  # rounds voting at once in one process, with room to spare
_frozen_configs: dict[tuple[int, str], dict] = {}


async def frozen_config_by_hash(round_id: int, config_hash: str) -> dict | None:
    """The round's frozen configuration if its hash is ``config_hash``, cached in this process.

    Every cast and ballot page needs the configuration; reading and parsing it each time was a
    statement and a JSON parse per request. Safe to cache because it is addressed by content: the
    caller reads the hash fresh (with the phase, in the statement it needs anyway), and an entry is
    stored only under the hash of the text actually loaded. A round frozen again, or a stored
    configuration changed behind our back, has another hash and is read anew; nothing about the
    phase is cached. None if the round's configuration (now) has another hash or none.

    Callers must not modify the returned dict: it is shared by every request of the process.
    """
    key = (round_id, config_hash)
    config = _frozen_configs.get(key)
    if config is not None:
        return config
    row = await Round.select(Round.frozen_config).where(Round.id == round_id).first()
    if not row or not row["frozen_config"] or sha256_hex(row["frozen_config"]) != config_hash:
        return None
    config = json.loads(row["frozen_config"])
    if len(_frozen_configs) >= FROZEN_CONFIGS_KEPT:
        _frozen_configs.pop(next(iter(_frozen_configs)))  # the oldest entry
    _frozen_configs[key] = config
    return config


async def insert_budget(round_id: int, spec: BudgetSpec) -> int:
    rows = await Budget.insert(Budget(round=round_id, **_budget_values(spec))).returning(Budget.id)
    return rows[0]["id"]


def _budget_values(spec: BudgetSpec) -> dict[str, Any]:
    return {
        "name": spec.name, "kind": spec.kind, "district": spec.district, "amount": spec.amount,
        "ballot_format": spec.ballot_format, "min_projects": spec.min_projects,
        "max_projects": spec.max_projects, "min_spend_percent": spec.min_spend_percent,
        "points_per_voter": spec.points_per_voter, "score_min": spec.score_min, "score_max": spec.score_max,
    }


async def update_budget(round_id: int, budget_id: int, spec: BudgetSpec) -> bool:
    """Change a budget unless its round is frozen (checked in the same statement)."""
    rows = await Budget.update({getattr(Budget, k): v for k, v in _budget_values(spec).items()}).where(
        (Budget.id == budget_id) & (Budget.round == round_id)
        & WhereRaw("\"round\" IN (SELECT \"id\" FROM \"round\" WHERE frozen_config_hash IS NULL)")
    ).returning(Budget.id)
    return bool(rows)


async def set_eligible_count(budget_id: int, count: int) -> None:
    await Budget.update({Budget.eligible_count: count}).where(Budget.id == budget_id)


async def list_budgets(round_id: int) -> list[BudgetRow]:
    rows = await Budget.select(*_BUDGET_COLUMNS).where(Budget.round == round_id).order_by(Budget.id)
    return [msgspec.convert(row, BudgetRow) for row in rows]


async def get_budget(round_id: int, budget_id: int) -> BudgetRow | None:
    row = await Budget.select(*_BUDGET_COLUMNS).where((Budget.id == budget_id) & (Budget.round == round_id)).first()
    return msgspec.convert(row, BudgetRow) if row else None


async def rounds_in_phase(phase: str) -> list[tuple[int, int]]:
    """(organisation id, round id) of every round in ``phase``, across organisations (for jobs)."""
    rows = await Round.select(Round.organisation, Round.id).where(Round.phase == phase).order_by(Round.id)
    return [(row["organisation"], row["id"]) for row in rows]
