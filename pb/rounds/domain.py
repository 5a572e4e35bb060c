"""Rounds as pure rules: the phase machine, budget and ballot-format checks, tally choice, the frozen config.

No I/O here: services load rows, ask these functions, and write what they answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from pb.core.canonical import canonical_json, sha256_hex

DRAFT, SUBMISSION, REVIEW, VOTING = "draft", "submission", "review", "voting"
CLOSED, TALLIED, PUBLISHED, FUNDING, COMPLETED, CANCELLED = (
    "closed", "tallied", "published", "funding", "completed", "cancelled",
)
PHASES = (DRAFT, SUBMISSION, REVIEW, VOTING, CLOSED, TALLIED, PUBLISHED, FUNDING, COMPLETED, CANCELLED)
BEFORE_VOTING = frozenset({DRAFT, SUBMISSION, REVIEW})
# Phases in which the round is frozen: from opening the vote onwards (a cancelled round never froze).
FROZEN_PHASES = frozenset({VOTING, CLOSED, TALLIED, PUBLISHED, FUNDING, COMPLETED})
RESULTS_PUBLIC_PHASES = frozenset({PUBLISHED, FUNDING, COMPLETED})

TRANSITIONS: Mapping[str, frozenset[str]] = {
    DRAFT: frozenset({SUBMISSION, CANCELLED}),
    SUBMISSION: frozenset({REVIEW, CANCELLED}),
    REVIEW: frozenset({VOTING, CANCELLED}),
    VOTING: frozenset({CLOSED}),
    CLOSED: frozenset({TALLIED}),
    TALLIED: frozenset({PUBLISHED}),
    PUBLISHED: frozenset({FUNDING}),
    FUNDING: frozenset({COMPLETED}),
    COMPLETED: frozenset(),
    CANCELLED: frozenset(),
}
# Transitions that carry work of another context: the tally writes results, publishing exposes them.
DONE_BY_RESULTS = {(CLOSED, TALLIED): "run the tally", (TALLIED, PUBLISHED): "publish the results"}

DISTRICT, CITYWIDE = "district", "citywide"
APPROVAL, CHOOSE_ONE, KNAPSACK = "approval", "choose-1", "knapsack"
CUMULATIVE, SCORING, ORDINAL = "cumulative", "scoring", "ordinal"
BALLOT_FORMATS = (APPROVAL, CHOOSE_ONE, KNAPSACK, CUMULATIVE, SCORING, ORDINAL)
POINTS_FORMATS = (CUMULATIVE, SCORING)
# What a voter does on each ballot format (offered to officials with the rules).
BALLOT_FORMAT_HELP: Mapping[str, str] = {
    APPROVAL: "Tick the projects you support (optionally at least min_projects, at most max_projects).",
    CHOOSE_ONE: "Choose exactly one project.",
    KNAPSACK: "Tick projects whose total cost fits the budget (optionally spending at least min_spend_percent).",
    CUMULATIVE: "Share points_per_voter points among projects (at least 1 point for each project listed).",
    SCORING: "Give each project you list a score from score_min to score_max.",
    ORDINAL: "Rank projects, most preferred first (optionally at least min_projects, at most max_projects).",
}
DEFAULT_RULES: Mapping[str, Mapping[str, Any]] = {"greedy": {"options": {}}}


class IllegalTransition(ValueError):
    """The phase machine does not allow this move."""


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def move(current: str, target: str) -> str:
    """The next phase, or IllegalTransition naming both phases and what is allowed instead."""
    if target not in TRANSITIONS:
        raise IllegalTransition(f"Unknown phase {target!r}; phases are {', '.join(PHASES)}.")
    if not can_move(current, target):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "none (final phase)"
        raise IllegalTransition(f"A round in phase {current!r} cannot move to {target!r}; allowed: {allowed}.")
    return target


def is_frozen(phase: str) -> bool:
    return phase in FROZEN_PHASES


@dataclass(frozen=True, slots=True)
class BudgetSpec:
    name: str
    kind: str
    district: str | None
    amount: int
    ballot_format: str = APPROVAL
    min_projects: int | None = None
    max_projects: int | None = None
    min_spend_percent: int | None = None
    points_per_voter: int | None = None  # cumulative: points each voter shares out
    score_min: int | None = None  # scoring: lowest score a listed project may get (default 1)
    score_max: int | None = None  # scoring: highest score


# the settings each ballot format takes (anything else set is refused by name)
FORMAT_SETTINGS: Mapping[str, tuple[str, ...]] = {
    APPROVAL: ("min_projects", "max_projects"),
    CHOOSE_ONE: (),
    KNAPSACK: ("min_spend_percent",),
    CUMULATIVE: ("points_per_voter", "min_projects", "max_projects"),
    SCORING: ("score_min", "score_max", "min_projects", "max_projects"),
    ORDINAL: ("min_projects", "max_projects"),
}
_SETTINGS = ("min_projects", "max_projects", "min_spend_percent", "points_per_voter", "score_min", "score_max")


def budget_problems(spec: BudgetSpec) -> list[str]:
    """Every rule a budget breaks, as sentences (empty when it is fine)."""
    problems = []
    if spec.amount <= 0:
        problems.append("The budget amount must be positive (minor units).")
    if spec.kind == DISTRICT and not spec.district:
        problems.append("A district budget needs a district code.")
    if spec.kind == CITYWIDE and spec.district:
        problems.append("A city-wide budget has no district.")
    if spec.kind not in (DISTRICT, CITYWIDE):
        problems.append(f"Budget kind must be {DISTRICT!r} or {CITYWIDE!r}.")
    if spec.ballot_format not in BALLOT_FORMATS:
        problems.append(f"Ballot format must be one of {', '.join(BALLOT_FORMATS)}.")
        return problems
    allowed = FORMAT_SETTINGS[spec.ballot_format]
    for name in _SETTINGS:
        if getattr(spec, name) is not None and name not in allowed:
            takers = [f for f, names in FORMAT_SETTINGS.items() if name in names]
            listed = takers[0] if len(takers) == 1 else f"{', '.join(takers[:-1])} or {takers[-1]}"
            problems.append(f"{name} applies to {listed} ballots only, not {spec.ballot_format}.")
    if spec.min_projects is not None and spec.max_projects is not None and spec.min_projects > spec.max_projects:
        problems.append("min_projects cannot exceed max_projects.")
    if spec.ballot_format == CUMULATIVE and not spec.points_per_voter:
        problems.append("A cumulative ballot needs points_per_voter (at least 1).")
    if spec.ballot_format == SCORING:
        if not spec.score_max:
            problems.append("A scoring ballot needs score_max (at least 1).")
        elif spec.score_min is not None and spec.score_min > spec.score_max:
            problems.append("score_min cannot exceed score_max.")
    return problems


def rule_format_problems(options: Mapping[str, Any], formats: Sequence[str]) -> list[str]:
    """Tally settings that cannot run on these ballot formats (points need points ballots)."""
    if options.get("satisfaction") == "points":
        wrong = sorted({f for f in formats if f not in POINTS_FORMATS})
        if wrong:
            return [f"Points satisfaction needs {' or '.join(POINTS_FORMATS)} ballots in every budget; "
                    f"this round also has {', '.join(wrong)} ballots."]
    return []


def budget_set_problems(specs: Sequence[BudgetSpec]) -> list[str]:
    """Rules across a round's budgets: one budget per district, at most one city-wide budget."""
    problems = []
    districts = [spec.district for spec in specs if spec.kind == DISTRICT]
    duplicated = sorted({d for d in districts if districts.count(d) > 1 and d})
    if duplicated:
        problems.append(f"One budget per district; repeated: {', '.join(duplicated)}.")
    if sum(spec.kind == CITYWIDE for spec in specs) > 1:
        problems.append("A round has at most one city-wide budget.")
    return problems


def tally_problems(rule: str, options: Mapping[str, Any], rules: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Is ``rule`` offered, and is every option one the rule knows with an allowed value?"""
    if rule not in rules:
        return [f"Unknown tally rule {rule!r}; available: {', '.join(sorted(rules))}."]
    known = rules[rule].get("options", {})
    problems = []
    for name, value in sorted(options.items()):
        if name not in known:
            problems.append(f"Rule {rule!r} has no option {name!r}; options: {', '.join(sorted(known)) or 'none'}.")
            continue
        allowed = known[name]
        values = value if isinstance(value, list) else [value]
        if isinstance(allowed, tuple) and any(v not in allowed for v in values):
            problems.append(f"Option {name!r} of rule {rule!r} must be among {', '.join(map(str, allowed))}.")
    return problems


def date_problems(submission_start: datetime | None, submission_end: datetime | None,
                  voting_start: datetime | None, voting_end: datetime | None) -> list[str]:
    """Dates that are given must run in order: submission start/end, then voting start/end."""
    ordered = [("submission_start", submission_start), ("submission_end", submission_end),
               ("voting_start", voting_start), ("voting_end", voting_end)]
    given = [(name, value) for name, value in ordered if value is not None]
    return [f"{earlier} must not be after {later}."
            for (earlier, a), (later, b) in zip(given, given[1:]) if a > b]


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"


def voting_window_problem(voting_start: datetime | None, voting_end: datetime | None, now: datetime) -> str | None:
    """Why a ballot cast at ``now`` falls outside the round's voting dates, or None when inside.

    The dates bound casting even while the phase is ``voting``: officials open and close the phase
    by hand, and a late close must not let ballots in after the announced end.
    """
    if voting_start is not None and now < voting_start:
        return f"Voting has not started yet: ballots are accepted from {_when(voting_start)}."
    if voting_end is not None and now >= voting_end:
        return f"Voting ended at {_when(voting_end)}: ballots are no longer accepted."
    return None


@dataclass(frozen=True, slots=True)
class PhaseDue:
    """The next phase the round's dates call for, when it is due, and whether that time has passed."""

    phase: str
    due_at: datetime
    overdue: bool


# phase -> (the phase that follows by the calendar, the date field that says when)
SCHEDULE: Mapping[str, tuple[str, str]] = {
    DRAFT: (SUBMISSION, "submission_start"),
    SUBMISSION: (REVIEW, "submission_end"),
    REVIEW: (VOTING, "voting_start"),
    VOTING: (CLOSED, "voting_end"),
}


def next_phase_due(phase: str, dates: Mapping[str, datetime | None], now: datetime) -> PhaseDue | None:
    """What officials should do next by the round's dates (None: no date set for the next step)."""
    if phase not in SCHEDULE:
        return None
    target, date_field = SCHEDULE[phase]
    due_at = dates.get(date_field)
    if due_at is None:
        return None
    return PhaseDue(target, due_at, now >= due_at)


def criteria_problems(criteria: Sequence[Mapping[str, str]]) -> list[str]:
    keys = [criterion["key"] for criterion in criteria]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    return [f"Criterion keys must be unique; repeated: {', '.join(duplicated)}."] if duplicated else []


@dataclass(frozen=True, slots=True)
class FrozenProject:
    proposal_id: int
    title: str
    cost: int


@dataclass(frozen=True, slots=True)
class FrozenBudget:
    id: int
    name: str
    kind: str
    district: str | None
    amount: int
    ballot_format: str
    min_projects: int | None
    max_projects: int | None
    min_spend_percent: int | None
    projects: list[FrozenProject] = field(default_factory=list)
    points_per_voter: int | None = None
    score_min: int | None = None
    score_max: int | None = None


def eligible_count_for(budget: FrozenBudget, counts: Mapping[str, int]) -> int:
    """Census entries who may vote in a budget: the district's residents, or everyone for city-wide."""
    if budget.kind == CITYWIDE:
        return sum(counts.values())
    return counts.get(budget.district or "", 0)


def frozen_config(*, round_id: int, organisation_id: int, title: str, currency: str, rule: str,
                  options: Mapping[str, Any], budgets: Sequence[FrozenBudget],
                  counts: Mapping[str, int], allow_revision: bool = False) -> dict[str, Any]:
    """The canonical record of what voting runs on (shape agreed with voting and results)."""
    return {
        "allow_revision": allow_revision,
        "round_id": round_id,
        "organisation_id": organisation_id,
        "title": title,
        "currency": currency,
        "tally": {"rule": rule, "options": dict(options)},
        "budgets": [
            {
                "id": b.id, "name": b.name, "kind": b.kind, "district": b.district, "amount": b.amount,
                "ballot_format": b.ballot_format, "min_projects": b.min_projects, "max_projects": b.max_projects,
                "min_spend_percent": b.min_spend_percent, "points_per_voter": b.points_per_voter,
                "score_min": b.score_min, "score_max": b.score_max, "eligible_count": eligible_count_for(b, counts),
                "projects": [
                    {"proposal_id": p.proposal_id, "title": p.title, "cost": p.cost}
                    for p in sorted(b.projects, key=lambda p: p.proposal_id)
                ],
            }
            for b in sorted(budgets, key=lambda b: b.id)
        ],
    }


def config_hash(config: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(config))


def ballot_problems(budgets: Sequence[FrozenBudget]) -> list[str]:
    """Budgets whose ballot could not be filled in validly with the projects that made it."""
    problems = []
    for budget in budgets:
        if budget.ballot_format == CHOOSE_ONE and not budget.projects:
            problems.append(f"Budget {budget.name!r} asks voters to choose one project but none is eligible.")
        if budget.min_projects and len(budget.projects) < budget.min_projects:
            problems.append(f"Budget {budget.name!r} asks voters for at least {budget.min_projects} projects "
                            f"but only {len(budget.projects)} are eligible.")
        if budget.min_spend_percent:
            minimum = -(-budget.amount * budget.min_spend_percent // 100)
            if sum(p.cost for p in budget.projects) < minimum:
                problems.append(f"Budget {budget.name!r} asks voters to spend at least {minimum} but its "
                                "eligible projects cost less than that together.")
    return problems


def tally_run_problems(config: Mapping[str, Any], lottery_seed: str | None) -> list[str]:
    """Tally settings the engine would refuse, found by a dry run on each frozen budget with no
    ballots, so a round never opens voting with a rule it could not tally (and get stuck closed)."""
    from pb.record.spec import tally_budget

    problems = []
    for budget in config["budgets"]:
        try:
            tally_budget(config, budget, [], [], lottery_seed)
        except (ValueError, KeyError) as error:
            problems.append(f"The tally settings cannot run on budget {budget.get('name', budget['id'])!r}: {error}.")
    return problems


def tally_settings_problems(rule: str, options: Mapping[str, Any]) -> list[str]:
    """The same dry run as at voting open, on a one-project budget: refuses at once settings no
    budget could ever be tallied with (e.g. a threshold that is not a number)."""
    ballot_format = CUMULATIVE if options.get("satisfaction") == "points" else APPROVAL  # formats: checked apart
    probe = {"tally": {"rule": rule, "options": dict(options)}, "budgets": [
        {"id": 0, "name": "any", "amount": 1, "ballot_format": ballot_format,
         "projects": [{"proposal_id": 1, "cost": 1}]}]}
    return [problem.replace(" on budget 'any'", "") for problem in tally_run_problems(probe, "00" * 32)]
