"""Request and response bodies for rounds and budgets (explicit allow-lists)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from pb.core.inputs import Input, line, text
from pb.core.fields import MinorUnits, MinorUnitsIn, Sha256Hex, UtcTime, UtcTimeIn, choices, doc, money, utc
from pb.rounds.domain import BALLOT_FORMAT_HELP
from pb.tally import RULES

Title = line(200)
Text = text(20_000)
Minor = MinorUnitsIn
When = UtcTimeIn
Count = Annotated[int, msgspec.Meta(ge=0, le=1000)]
Percent = Annotated[int, msgspec.Meta(ge=0, le=100)]
District = line(80)
Points = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]

PHASE_MEANINGS = {
    "draft": "being prepared by officials, not public",
    "submission": "citizens submit proposals",
    "review": "officials judge proposals' eligibility",
    "voting": "residents vote; the configuration is frozen",
    "closed": "voting ended, not yet tallied",
    "tallied": "results computed, visible to staff",
    "published": "results public",
    "funding": "grants being paid to the winners",
    "completed": "everything paid and reported",
    "cancelled": "stopped before voting",
}
Phase = Annotated[str, doc(choices("The round's phase (phases only move forward, each move is audited).",
                                   PHASE_MEANINGS), "voting")]
BUDGET_KINDS = {"district": "for the residents of one district", "citywide": "for every resident"}
BallotFormat = Annotated[str, doc(choices("How voters fill in this budget's ballot.", BALLOT_FORMAT_HELP), "approval")]
RULE_MEANINGS = {name: str(rule["title"]) for name, rule in RULES.items()}
TallyRule = Annotated[str, doc(choices("The voting rule that picks the winners (details and options: "
                                       "GET /api/orgs/{org_id}/staff/tally-options).", RULE_MEANINGS), "mes")]
TallyOptions = Annotated[dict[str, Any], doc(
    "The rule's options, e.g. {\"satisfaction\": \"cost\", \"completion\": \"add1\"}; the allowed keys and values "
    "per rule are listed at GET /api/orgs/{org_id}/staff/tally-options.", {"completion": "add1"})]
SUBMISSION_START = "Submission opens (informative: officials move phases explicitly)."


class CriterionIn(Input):
    key: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_]{1,40}$"),
                   doc("Short id of the criterion, used in reviews (a-z, 0-9, _).", "public_land")]
    label: Annotated[Title,
                     doc("The criterion as citizens read it.", "The project is on public land")]
    description: text(2000) = ""


class BudgetIn(Input):
    name: Annotated[Title, doc("The budget's name.", "North district")]
    kind: Annotated[Literal["district", "citywide"], doc(choices("Who votes in it.", BUDGET_KINDS), "district")]
    amount: Annotated[Minor, money("The money to share among winning projects.")]
    district: Annotated[District, doc("For kind `district`: the census district whose residents vote here.",
                                      "north")] | None = None
    ballot_format: Annotated[Literal["approval", "choose-1", "knapsack", "cumulative", "scoring", "ordinal"],
                             doc(choices("How voters fill in this budget's ballot.", BALLOT_FORMAT_HELP))] = "approval"
    min_projects: Annotated[Count, doc("approval, ordinal: fewest projects a ballot lists.")] | None = None
    max_projects: Annotated[int, msgspec.Meta(ge=1, le=1000),
                            doc("approval, ordinal: most projects a ballot lists.")] | None = None
    min_spend_percent: Annotated[Percent, doc("knapsack: a ballot spends at least this % of the budget.")] | None = None
    points_per_voter: Annotated[Points, doc("cumulative: points each voter shares among projects.")] | None = None
    score_min: Annotated[int, msgspec.Meta(ge=0, le=1_000_000), doc("scoring: lowest score.")] | None = None
    score_max: Annotated[Points, doc("scoring: highest score.")] | None = None


class RoundCreate(Input):
    title: Annotated[Title, doc("The round's public title.", "Riverton decides 2026")]
    max_proposal_amount: Annotated[Minor, money("The most a single proposal may request.", 2_500_000)]
    budgets: list[BudgetIn] = []
    description: Text = ""
    criteria: list[CriterionIn] = []
    tally_rule: Annotated[TallyRule, msgspec.Meta(min_length=1, max_length=40)] = "greedy"
    tally_options: TallyOptions = {}
    allow_revision: Annotated[bool, doc("May a voter replace their ballot until voting closes?")] = False
    submission_start: Annotated[When, utc(SUBMISSION_START)] | None = None
    submission_end: When | None = None
    voting_start: When | None = None
    voting_end: When | None = None


class RoundUpdate(Input, omit_defaults=True):
    """Only the fields sent are changed (absent = unchanged)."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    description: Text | msgspec.UnsetType = msgspec.UNSET
    max_proposal_amount: Minor | msgspec.UnsetType = msgspec.UNSET
    criteria: list[CriterionIn] | msgspec.UnsetType = msgspec.UNSET
    tally_rule: Annotated[TallyRule, msgspec.Meta(min_length=1, max_length=40)] | msgspec.UnsetType = msgspec.UNSET
    tally_options: TallyOptions | msgspec.UnsetType = msgspec.UNSET
    allow_revision: bool | msgspec.UnsetType = msgspec.UNSET
    submission_start: When | None | msgspec.UnsetType = msgspec.UNSET
    submission_end: When | None | msgspec.UnsetType = msgspec.UNSET
    voting_start: When | None | msgspec.UnsetType = msgspec.UNSET
    voting_end: When | None | msgspec.UnsetType = msgspec.UNSET


class PhaseChange(Input):
    target: Annotated[str, msgspec.Meta(min_length=1, max_length=20),
                      doc(choices("The phase to move to: the next one, or `cancelled` before voting.", PHASE_MEANINGS),
                          "submission")]


class CriterionOut(msgspec.Struct):
    key: str
    label: str
    description: str


class BallotProjectOut(msgspec.Struct):
    proposal_id: int
    title: str
    cost: Annotated[MinorUnits, money("The project's final cost on the ballot (after review).", 1_250_000)]


class BudgetOut(msgspec.Struct):
    id: int
    name: str
    kind: Annotated[str, doc(choices("Who votes in it.", BUDGET_KINDS), "district")]
    district: str | None
    amount: Annotated[MinorUnits, money("The money to share among winning projects.")]
    ballot_format: BallotFormat
    min_projects: int | None
    max_projects: int | None
    min_spend_percent: int | None
    points_per_voter: int | None
    score_min: int | None
    score_max: int | None
    eligible_count: Annotated[int, doc("Residents allowed to vote in this budget, committed when voting opened.")] | None
    ballot: Annotated[list[BallotProjectOut], doc("The frozen ballot (projects and costs), once voting opened.")] | None


class NextPhaseOut(msgspec.Struct):
    """The phase the round's dates call for next; ``overdue`` once its date has passed."""

    phase: Annotated[str, doc("The phase the round's dates call for next.", "voting")]
    due_at: Annotated[UtcTime, utc("When that phase is due by the round's dates.")]
    overdue: Annotated[bool, doc("true once due_at has passed and the round has not moved yet.")]


class RoundOut(msgspec.Struct):
    id: int
    organisation_id: int
    title: str
    description: str
    phase: Phase
    currency: Annotated[str, doc("ISO 4217 code of every amount in this round.", "EUR")]
    max_proposal_amount: Annotated[MinorUnits, money("The most a single proposal may request.", 2_500_000)]
    tally_rule: TallyRule
    tally_options: TallyOptions
    criteria: list[CriterionOut]
    allow_revision: bool
    submission_start: Annotated[UtcTime, utc(SUBMISSION_START)] | None
    submission_end: UtcTime | None
    voting_start: UtcTime | None
    voting_end: UtcTime | None
    frozen_config_hash: Annotated[Sha256Hex, doc(
        "SHA-256 of the canonical configuration frozen when voting opened (rules, budgets, ballot); null before."
    )] | None
    budgets: list[BudgetOut]
    next_phase: NextPhaseOut | None = None  # officials move phases by hand; this says when one is due


class RoundSummaryOut(msgspec.Struct, omit_defaults=True):
    id: int
    title: str
    phase: Phase
    next_phase: NextPhaseOut | None = None  # left out when the round's dates call for nothing


class Created(msgspec.Struct):
    id: int


class BallotFormatOut(msgspec.Struct):
    format: BallotFormat
    description: str
    settings: Annotated[list[str], doc("The budget fields this format takes.", ["min_projects", "max_projects"])]


class TallyOptionsOut(msgspec.Struct):
    rules: Annotated[dict[str, Any], doc(
        "Rule name -> {title, description, options}; each option lists its allowed values or describes them.")]
    ballot_formats: list[BallotFormatOut]
