"""MES completions that rerun MES many times (add-one, budget increase): skipping the
runs whose outcome is provably unchanged must never change the result."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pb.tally import Ballot, build_profile, completion
from pb.tally.rules import mes
from pb.tally.rules.mes import merge_payments
from pb.tally.satisfaction import prepare
from test_rules_support import approval_elections, make_instance

ITERATED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def in_cents(instance, factor: int):
    """The same election with every amount multiplied (amounts in cents: many more steps)."""
    costs = {pid: project.cost * factor for pid, project in instance.projects.items()}
    return make_instance(costs, instance.budget * factor)


def _published_payments(info) -> tuple:
    """A selected project's payments as ``mes_outcomes`` publishes them: merged by amount (the cap
    ledger of the large path hands them over merged already, with plain ints where mpq are equal)."""
    paid = info["payments"] if info.get("merged") else merge_payments(info["payments"])
    return tuple((amount, int(voters)) for amount, voters in paid)


def summary(run, iterations):
    """What the invariants compare: winners, money per voter, spent, iterations, and each
    selected project's round, price and payments (as published, whichever path computed them)."""
    selected = {p: (info["round"], info["rho"], _published_payments(info)) for p, info in run.selected.items()}
    return list(run.winners), run.per_voter, run.spent, iterations, selected


@ITERATED
@given(approval_elections(max_projects=5, max_voters=7), st.sampled_from([1, 37, 100, 1000]),
       st.sampled_from(["cost", "cardinality"]))
def test_skipping_unchanged_runs_never_changes_add_one_or_budget_increase(election, factor, satisfaction):
    """Invariant: add-one and budget increase give the same winners, money per voter,
    payments and iteration count whether provably-unchanged runs are skipped or run."""
    instance, profile = election
    instance = in_cents(instance, factor)
    el = prepare(instance, profile, satisfaction)
    assert summary(*completion.add_one(el, skip=True)) == summary(*completion.add_one(el, skip=False))
    assert summary(*completion.budget_increase(el, skip=True)) == summary(
        *completion.budget_increase(el, skip=False))


def test_add_one_in_cents_with_few_voters_skips_most_runs(monkeypatch):
    """Amounts in cents and 30 voters: thousands of add-one steps, few actual MES runs,
    the same outcome as running every step."""
    costs = {"a": 120_000_00, "b": 95_000_00, "c": 60_000_00, "d": 45_000_00, "e": 30_000_00}
    instance = make_instance(costs, 200_000_00)
    ballots = [Ballot(("a", "b"))] * 9 + [Ballot(("b", "c", "d"))] * 8 + [Ballot(("d", "e"))] * 7 \
        + [Ballot(("a", "e"))] * 4 + [Ballot(("c",))] * 2
    el = prepare(instance, build_profile("approval", ballots))
    runs = []
    real_run = completion.mes_run

    def counted(*args, **kwargs):
        runs.append(kwargs.get("stability", False))
        return real_run(*args, **kwargs)

    monkeypatch.setattr(completion, "mes_run", counted)
    skipped = completion.add_one(el, skip=True)
    skipping_runs = len(runs)
    runs.clear()
    every = completion.add_one(el, skip=False)
    assert summary(*skipped) == summary(*every)
    assert len(runs) == every[1] > 1000  # every step run: thousands of runs
    assert skipping_runs * 20 < every[1]


def test_a_stable_run_states_a_positive_horizon_and_its_outcome_holds_there():
    """The horizon a tracked run reports is real: the run at the far end of it (just
    inside) has the same winners, and some run beyond it may differ."""
    costs = {"a": 700, "b": 500, "c": 300}
    instance = make_instance(costs, 1000)
    ballots = [Ballot(("a",))] * 3 + [Ballot(("b", "c"))] * 2 + [Ballot(("a", "c"))] * 2
    el = prepare(instance, build_profile("approval", ballots))
    start = mes.mes_run(el, 100, stability=True)
    assert start.stable_for is not None and start.stable_for > 0
    inside = mes.mes_run(el, 100 + start.stable_for * 0.999)
    assert inside.winners == start.winners


@pytest.mark.parametrize("satisfaction", ["points"])
def test_points_satisfaction_is_never_skipped(satisfaction):
    """Points satisfaction has no single value per supporter: no horizon is claimed."""
    costs = {"a": 5, "b": 3}
    instance = make_instance(costs, 6)
    profile = build_profile("cumulative", [Ballot(("a", "b"), (2, 1)), Ballot(("b",), (3,))])
    el = prepare(instance, profile, satisfaction)
    assert mes.mes_run(el, 3, stability=True).stable_for is None
