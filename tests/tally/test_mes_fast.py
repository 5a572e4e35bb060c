"""The float-screened MES run (``mes_fast``) must pick exactly the winners of the exact
``mes.mes_run``: same projects, same order, same money spent, for any money per voter,
including exact ties and decimal costs."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pb.tally import Ballot, build_profile, completion, explain
from pb.tally.pabulib import load
from pb.tally.rules.mes import mes_outcomes, mes_run
from pb.tally.rules.mes_fast import exact_run, fast_run
from pb.tally.satisfaction import prepare
from pabulib_files import DATA
from test_rules_support import approval_elections, make_instance

MANY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def same_winners(el, per_voter) -> None:
    exact, fast = mes_run(el, per_voter), fast_run(el, per_voter)
    assert fast.winners == exact.winners
    assert fast.spent == exact.spent
    assert fast.candidates == exact.candidates
    for p in fast.winners:
        assert fast.selected[p]["rho"] == exact.selected[p]["rho"]


@MANY
@given(approval_elections(max_projects=7, max_voters=12), st.sampled_from(["cost", "cardinality"]),
       st.integers(0, 6), st.integers(1, 4))
def test_fast_run_has_the_exact_winners_order_and_rho(election, satisfaction, extra, denominator):
    """Invariant: for every money per voter, fast MES funds the same projects in the same
    order with the same ρ as exact MES (small integers make exact ties frequent)."""
    instance, profile = election
    el = prepare(instance, profile, satisfaction)
    same_winners(el, Fraction(el.budget) / el.num_voters + Fraction(extra, denominator))


@MANY
@given(approval_elections(max_projects=6, max_voters=10, fractional=True), st.integers(0, 3))
def test_fast_run_matches_exact_with_decimal_costs(election, extra):
    """Invariant: decimal costs and budgets (quarters) give the same winners on both paths."""
    instance, profile = election
    el = prepare(instance, profile)
    same_winners(el, Fraction(el.budget) / el.num_voters + extra)


def test_identical_projects_tie_exactly_and_the_tie_break_decides():
    """Two projects with the same cost and the same supporters have the same ρ exactly:
    the fast path must not let rounding pick one; the tie-break order does."""
    instance = make_instance({"a": 300, "b": 300, "c": 200, "d": 500}, 900)
    ballots = [Ballot(("a", "b"))] * 4 + [Ballot(("a", "b", "c"))] * 3 + [Ballot(("c", "d"))] * 2
    el = prepare(instance, build_profile("approval", ballots))
    for extra in (0, 1, Fraction(1, 3), 50):
        same_winners(el, Fraction(el.budget) / el.num_voters + extra)
    fast = fast_run(el, Fraction(el.budget) / el.num_voters)
    assert el.ids[fast.winners[0]] == "a"  # lexicographic tie-break: "a" before "b"


@pytest.mark.parametrize("name", [
    "Poland_Warszawa_2021_Wola.pb",  # 8,647 voters, 107 projects
    "Poland_Warszawa_2019_Kamionek.pb",  # decimal budget
    "Poland_Warszawa_2026_Blonia_Wilanowskie.pb",  # a project listed twice in some votes
    "US_Stanford_Dataset_PB_North_East_San_Fernando_Valley_2021_vote_approvals.pb",
])
@pytest.mark.parametrize("satisfaction", ["cost", "cardinality"])
def test_fast_run_matches_exact_on_real_elections(name, satisfaction):
    """On real elections, at the plain share and at several add-one steps above it."""
    instance, profile = load(DATA / name)
    el = prepare(instance, profile, satisfaction)
    start = Fraction(el.budget) / el.num_voters
    for extra in (0, 1, 7, 30, Fraction(el.budget) / el.num_voters):
        same_winners(el, start + extra)


def test_completions_return_the_exact_run_with_its_explanations():
    """add-one steps run on the fast path, but the run returned is the exact one."""
    instance, profile = load(DATA / "Poland_Warszawa_2019_Kamionek.pb")
    el = prepare(instance, profile)
    run, iterations = completion.add_one(el)
    assert iterations > 1 and run.exact
    assert all("payments" in run.selected[p] for p in run.winners)
    reference, reference_iterations = completion.add_one(el, skip=False)
    assert (run.winners, run.per_voter, iterations) == (reference.winners, reference.per_voter,
                                                        reference_iterations)


def same_run(el, per_voter) -> None:
    """exact_run and mes_run: the same run, so the same outcome of every project (figures
    included: rounds, ρ, payments, supporters' money)."""
    reference, run = mes_run(el, per_voter), exact_run(el, per_voter)
    assert (run.winners, run.spent, run.candidates) == (reference.winners, reference.spent, reference.candidates)
    assert mes_outcomes(el, run) == mes_outcomes(el, reference)


@MANY
@given(approval_elections(max_projects=7, max_voters=12), st.sampled_from(["cost", "cardinality"]),
       st.integers(0, 6), st.integers(1, 4))
def test_exact_run_is_mes_run_with_the_same_explanations(election, satisfaction, extra, denominator):
    """Invariant: the ledger's exact run gives the same winners, rounds, ρ, payments and
    dropped projects' figures as mes_run, for any money per voter (small integers make
    exact ties, payments exactly at the cap and equal budgets frequent)."""
    instance, profile = election
    el = prepare(instance, profile, satisfaction)
    same_run(el, Fraction(el.budget) / el.num_voters + Fraction(extra, denominator))


@pytest.mark.parametrize("name", [
    "Poland_Warszawa_2021_Wola.pb",
    "Poland_Warszawa_2026_Blonia_Wilanowskie.pb",
    "US_Stanford_Dataset_PB_North_East_San_Fernando_Valley_2021_vote_approvals.pb",
])
@pytest.mark.parametrize("satisfaction", ["cost", "cardinality"])
def test_exact_run_matches_mes_run_on_real_elections(name, satisfaction):
    """On real elections (large ones: mpq on both sides, so even the types of the published
    figures agree), at the plain share and above it."""
    instance, profile = load(DATA / name)
    el = prepare(instance, profile, satisfaction)
    start = Fraction(el.budget) / el.num_voters
    for extra in (0, 3, Fraction(el.budget) / el.num_voters):
        same_run(el, start + extra)
        if not el.small:
            assert repr(published(mes_outcomes(el, exact_run(el, start + extra)))) == repr(
                published(mes_outcomes(el, mes_run(el, start + extra))))


def published(outcomes: dict) -> dict:
    """The figures of each outcome as ``pb.tally.tally`` publishes them (int and Fraction)."""
    return {p: explain.public_figures(outcome.figures) for p, outcome in outcomes.items()}
