"""The round phase machine and the pure round rules (budgets, tally choice, dates, frozen config)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pb.rounds import domain
from pb.rounds.domain import (
    BEFORE_VOTING, CANCELLED, COMPLETED, DRAFT, PHASES, TRANSITIONS, BudgetSpec, FrozenBudget, FrozenProject,
)
from pb.tally import RULES

ORDER = {phase: index for index, phase in enumerate(PHASES)}


def run(targets: list[str], start: str = DRAFT) -> list[str]:
    """Apply each requested move when the machine allows it; return the phases visited."""
    phase, visited = start, [start]
    for target in targets:
        try:
            phase = domain.move(phase, target)
        except domain.IllegalTransition:
            continue
        visited.append(phase)
    return visited


@settings(max_examples=300)
@given(st.lists(st.sampled_from(PHASES + ("nonsense",)), max_size=40))
def test_no_sequence_of_phase_moves_reaches_a_forbidden_state(targets):
    """Invariant: every step is an edge of the table; phases only go forward; cancelling happens only
    before voting; once frozen a round never thaws; completed and cancelled are final."""
    visited = run(targets)
    for before, after in zip(visited, visited[1:]):
        assert after in TRANSITIONS[before]
        if after == CANCELLED:
            assert before in BEFORE_VOTING
        else:
            assert ORDER[after] == ORDER[before] + 1
        assert not (domain.is_frozen(before) and not domain.is_frozen(after))
        assert before not in (COMPLETED, CANCELLED)


@given(st.sampled_from(PHASES), st.sampled_from(PHASES))
def test_an_illegal_move_raises_and_names_both_phases(current, target):
    if target in TRANSITIONS[current]:
        assert domain.move(current, target) == target
    else:
        with pytest.raises(domain.IllegalTransition) as error:
            domain.move(current, target)
        assert repr(current) in str(error.value) and repr(target) in str(error.value)


def test_the_happy_path_visits_every_phase_but_cancelled_in_order():
    assert run(list(PHASES)) == [p for p in PHASES if p != CANCELLED]


def test_cancelled_is_reachable_from_each_phase_before_voting_only():
    assert {p for p in PHASES if domain.can_move(p, CANCELLED)} == set(BEFORE_VOTING)


def test_budget_rules_name_each_problem():
    assert domain.budget_problems(BudgetSpec("N", "district", "north", 1000)) == []
    assert domain.budget_problems(BudgetSpec("N", "district", None, 1000)) == ["A district budget needs a district code."]
    assert domain.budget_problems(BudgetSpec("C", "citywide", "north", 1000)) == ["A city-wide budget has no district."]
    assert domain.budget_problems(BudgetSpec("N", "district", "n", 10, "approval", 3, 2)) == [
        "min_projects cannot exceed max_projects."]
    assert domain.budget_problems(BudgetSpec("N", "district", "n", 10, "approval", min_spend_percent=5)) == [
        "min_spend_percent applies to knapsack ballots only, not approval."]
    assert domain.budget_problems(BudgetSpec("N", "district", "n", 10, "knapsack", max_projects=2)) == [
        "max_projects applies to approval, cumulative, scoring or ordinal ballots only, not knapsack."]
    assert domain.budget_problems(BudgetSpec("N", "district", "n", 10, "choose-1", min_projects=1)) == [
        "min_projects applies to approval, cumulative, scoring or ordinal ballots only, not choose-1."]
    assert domain.budget_problems(BudgetSpec("N", "district", "n", 10, "cumulative")) == [
        "A cumulative ballot needs points_per_voter (at least 1)."]
    assert domain.budget_problems(BudgetSpec("N", "district", "n", 10, "scoring", score_min=3, score_max=2)) == [
        "score_min cannot exceed score_max."]
    assert domain.budget_problems(BudgetSpec("N", "district", "n", 10, "scoring")) == [
        "A scoring ballot needs score_max (at least 1)."]
    assert domain.budget_problems(BudgetSpec("N", "district", "n", 10, "ordinal", points_per_voter=5)) == [
        "points_per_voter applies to cumulative ballots only, not ordinal."]
    assert domain.budget_problems(BudgetSpec("N", "district", "n", 10, "cumulative", points_per_voter=10,
                                             max_projects=3)) == []
    assert domain.budget_problems(BudgetSpec("N", "district", "n", 10, "ranked")) == [
        "Ballot format must be one of approval, choose-1, knapsack, cumulative, scoring, ordinal."]
    assert domain.budget_problems(BudgetSpec("N", "district", "n", 0)) == [
        "The budget amount must be positive (minor units)."]


def test_one_budget_per_district_and_one_citywide():
    specs = [BudgetSpec("A", "district", "north", 1), BudgetSpec("B", "district", "north", 1),
             BudgetSpec("C", "citywide", None, 1), BudgetSpec("D", "citywide", None, 1)]
    problems = domain.budget_set_problems(specs)
    assert problems == ["One budget per district; repeated: north.", "A round has at most one city-wide budget."]
    assert domain.budget_set_problems(specs[::2]) == []


def test_every_rule_of_the_tally_engine_is_accepted_and_unknown_ones_are_named():
    for rule in RULES:
        assert domain.tally_problems(rule, {}, RULES) == []
    assert "Unknown tally rule 'borda'" in domain.tally_problems("borda", {}, RULES)[0]
    assert "has no option 'colour'" in domain.tally_problems("greedy", {"colour": "red"}, RULES)[0]
    assert "must be among" in domain.tally_problems("mes", {"completion": "magic"}, RULES)[0]
    assert domain.tally_problems("mes", {"completion": "add1", "tie_break": ["min_cost", "lexico"]}, RULES) == []


def test_dates_must_run_in_order():
    t0 = datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert domain.date_problems(t0, t0 + timedelta(days=1), None, t0 + timedelta(days=9)) == []
    assert domain.date_problems(t0, None, t0 - timedelta(days=1), None) == [
        "submission_start must not be after voting_start."]


def _budgets(rng: random.Random) -> list[FrozenBudget]:
    return [
        FrozenBudget(7, "North", "district", "north", 1000, "approval", 1, 2, None,
                     [FrozenProject(3, "a", 100), FrozenProject(1, "b", 200)]),
        FrozenBudget(2, "City", "citywide", None, 5000, "knapsack", None, None, 10,
                     [FrozenProject(9, "c", 900), FrozenProject(4, "d", 300)]),
    ][:: rng.choice([1, -1])]


@given(st.randoms(use_true_random=False))
def test_frozen_config_and_its_hash_do_not_depend_on_input_order(rng):
    """Invariant: anyone recomputing the frozen config from the same facts gets the same hash."""
    budgets = _budgets(rng)
    shuffled = [FrozenBudget(**{**{f: getattr(b, f) for f in b.__slots__},
                                "projects": rng.sample(b.projects, len(b.projects))}) for b in budgets]
    counts = {"north": 4, "south": 6}
    make = lambda bs: domain.frozen_config(round_id=1, organisation_id=2, title="R", currency="EUR",  # noqa: E731
                                           rule="greedy", options={}, budgets=bs, counts=counts)
    config = make(budgets)
    assert domain.config_hash(config) == domain.config_hash(make(shuffled))
    assert [b["id"] for b in config["budgets"]] == [2, 7]
    assert [p["proposal_id"] for p in config["budgets"][1]["projects"]] == [1, 3]
    assert config["budgets"][0]["eligible_count"] == 10  # city-wide: every district
    assert config["budgets"][1]["eligible_count"] == 4


def test_ballots_that_cannot_be_filled_are_named():
    budgets = [FrozenBudget(1, "North", "district", "north", 1000, "approval", 2, None, None, [FrozenProject(1, "a", 5)]),
               FrozenBudget(2, "City", "citywide", None, 1000, "knapsack", None, None, 50, [FrozenProject(2, "b", 400)])]
    problems = domain.ballot_problems(budgets)
    assert "at least 2 projects but only 1" in problems[0]
    assert "spend at least 500" in problems[1]


NOON = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize("start, end, now, words", [
    (NOON, NOON + HOUR, NOON - timedelta(seconds=1),
     "has not started yet: ballots are accepted from 2027-03-01 12:00 UTC"),
    (NOON, NOON + HOUR, NOON + HOUR, "ended at 2027-03-01 13:00 UTC"),
    (None, NOON, NOON + 2 * HOUR, "no longer accepted"),
    (NOON, None, NOON - HOUR, "not started"),
])
def test_casting_outside_the_voting_window_is_refused_in_words(start, end, now, words):
    assert words in domain.voting_window_problem(start, end, now)


@pytest.mark.parametrize("start, end, now", [
    (NOON, NOON + HOUR, NOON), (NOON, NOON + HOUR, NOON + HOUR - timedelta(microseconds=1)),
    (None, None, NOON), (None, NOON + HOUR, NOON), (NOON, None, NOON + 100 * HOUR),
])
def test_casting_inside_the_window_or_without_dates_is_allowed(start, end, now):
    assert domain.voting_window_problem(start, end, now) is None


def test_the_next_phase_due_follows_the_calendar_and_says_when_it_is_overdue():
    dates = {"submission_start": NOON, "submission_end": NOON + HOUR, "voting_start": NOON + 2 * HOUR,
             "voting_end": NOON + 3 * HOUR}
    due = {phase: domain.next_phase_due(phase, dates, NOON + 2 * HOUR) for phase in PHASES}
    assert due[DRAFT] == domain.PhaseDue("submission", NOON, True)
    assert due["submission"] == domain.PhaseDue("review", NOON + HOUR, True)
    assert due["review"] == domain.PhaseDue("voting", NOON + 2 * HOUR, True)  # due now
    assert due["voting"] == domain.PhaseDue("closed", NOON + 3 * HOUR, False)
    assert all(due[phase] is None for phase in PHASES if phase not in domain.SCHEDULE)
    assert domain.next_phase_due("voting", {**dates, "voting_end": None}, NOON) is None
    assert all(domain.can_move(phase, target) for phase, (target, _) in domain.SCHEDULE.items())
