"""Request and response bodies for rounds and budgets (explicit allow-lists)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from pb.core.inputs import Input, line, text

Title = line(200)
Text = text(20_000)
Minor = Annotated[int, msgspec.Meta(ge=1, le=10**15)]  # money in minor units
When = Annotated[datetime, msgspec.Meta(tz=True)]
Count = Annotated[int, msgspec.Meta(ge=0, le=1000)]
Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]
District = line(80)
Points = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]


class CriterionIn(Input):
    key: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,40}$")]
    label: Title
    description: text(2000) = ""


class BudgetIn(Input):
    name: Title
    kind: Literal["district", "citywide"]
    amount: Minor
    district: District | None = None
    ballot_format: Literal["approval", "choose-1", "knapsack", "cumulative", "scoring", "ordinal"] = "approval"
    min_projects: Count | None = None
    max_projects: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    min_spend_percent: Percent | None = None
    points_per_voter: Points | None = None
    score_min: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None = None
    score_max: Points | None = None


class RoundCreate(Input):
    title: Title
    max_proposal_amount: Minor
    budgets: list[BudgetIn] = []
    description: Text = ""
    criteria: list[CriterionIn] = []
    tally_rule: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] = "greedy"
    tally_options: dict[str, Any] = {}
    allow_revision: bool = False
    submission_start: When | None = None
    submission_end: When | None = None
    voting_start: When | None = None
    voting_end: When | None = None


class RoundUpdate(Input, omit_defaults=True):
    """Only the fields sent are changed (absent = unchanged)."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Text | msgspec.UnsetType = msgspec.UNSET
    max_proposal_amount: Minor | msgspec.UnsetType = msgspec.UNSET
    criteria: list[CriterionIn] | msgspec.UnsetType = msgspec.UNSET
    tally_rule: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | msgspec.UnsetType = msgspec.UNSET
    tally_options: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    allow_revision: bool | msgspec.UnsetType = msgspec.UNSET
    submission_start: When | None | msgspec.UnsetType = msgspec.UNSET
    submission_end: When | None | msgspec.UnsetType = msgspec.UNSET
    voting_start: When | None | msgspec.UnsetType = msgspec.UNSET
    voting_end: When | None | msgspec.UnsetType = msgspec.UNSET


class PhaseChange(Input):
    target: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]


class CriterionOut(msgspec.Struct):
    key: str
    label: str
    description: str


class BallotProjectOut(msgspec.Struct):
    proposal_id: int
    title: str
    cost: int


class BudgetOut(msgspec.Struct):
    id: int
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
    ballot: list[BallotProjectOut] | None  # the frozen ballot once voting opened


class RoundOut(msgspec.Struct):
    id: int
    organisation_id: int
    title: str
    description: str
    phase: str
    currency: str
    max_proposal_amount: int
    tally_rule: str
    tally_options: dict[str, Any]
    criteria: list[CriterionOut]
    allow_revision: bool
    submission_start: datetime | None
    submission_end: datetime | None
    voting_start: datetime | None
    voting_end: datetime | None
    frozen_config_hash: str | None
    budgets: list[BudgetOut]


class RoundSummaryOut(msgspec.Struct):
    id: int
    title: str
    phase: str


class Created(msgspec.Struct):
    id: int


class BallotFormatOut(msgspec.Struct):
    format: str
    description: str
    settings: list[str]  # the budget fields this format takes


class TallyOptionsOut(msgspec.Struct):
    rules: dict[str, Any]  # rule -> title, description, options (allowed values or a description)
    ballot_formats: list[BallotFormatOut]
