"""The two Add1 stop rules on real Pabulib elections (fixtures in data/add1/, see its README).

pabutools' Add1 (``add1``) stops at the first exhaustive outcome; Pabulib's and
equalshares.net's (``add1_last_feasible``) raises the voters' money while the outcome
fits the budget. Each is checked against an outside reference: pabutools 1.2.3's Add1,
a loop of pabutools' plain MES with the voters' money raised one unit at a time, and
the outcome the city published (the PROJECTS ``selected`` column of the files whose
META ``rule`` is ``equalshares/add1``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pb.tally import RULES, completion, tally
from pb.tally.cli import COMPLETION_NAMES, parse_rule_spec
from pb.tally.pabulib import load
from pb.tally.satisfaction import prepare
from test_completion import in_cents, summary
from test_rules_support import approval_elections

DATA = Path(__file__).parent / "data" / "add1"
OFFICIAL = ["Netherlands_Assen_2024.pb", "Poland_Swiecie_2023.pb"]
# real elections (the city used greedy) where the two stop rules fund different projects
DIFFERENT = [
    "Poland_Gdansk_2020_Mlyniska.pb",
    "Poland_Gdynia_2024_Dzialki_Lesne__small.pb",
    "US_Stanford_Dataset_Participatory_Budgeting_Project_PB2_2021_Ballot_vote_approvals.pb",
]


def official_winners(instance) -> list[str]:
    return sorted(pid for pid, project in instance.projects.items() if project.extra.get("selected") == "1")


@pytest.mark.parametrize("name", OFFICIAL)
def test_both_add1_stop_rules_reproduce_the_published_equal_shares_outcome(name):
    instance, profile = load(DATA / name)
    assert instance.meta["rule"] == "equalshares/add1"
    published = official_winners(instance)
    for how in ("add1", "add1_last_feasible"):
        assert sorted(tally(instance, profile, "mes", completion=how).winners) == published, how


def test_the_published_equal_shares_outcome_has_no_greedy_completion():
    """Assen 2024 left money a project would fit in: its Add1 was not completed by greedy."""
    instance, profile = load(DATA / "Netherlands_Assen_2024.pb")
    completed = tally(instance, profile, "mes", completion="add1_last_feasible_greedy")
    assert sorted(completed.winners) != official_winners(instance)
    assert set(official_winners(instance)) < set(completed.winners)


def pabutools_last_feasible(path: Path) -> list[str]:
    """Pabulib's Add1 on pabutools' plain MES: per-voter money B/n + k for k = 0, 1, ...
    while the outcome fits B; the last such outcome (or the one funding every supported
    project)."""
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import method_of_equal_shares

    instance, profile = parse_pabulib(str(path))
    profile = profile.as_multiprofile()
    budget, voters = instance.budget_limit, profile.num_ballots()
    supported = {p for p in instance if p.cost > 0 and any(p in ballot for ballot in profile)}
    previous, k = None, 0
    while True:
        instance.budget_limit = budget + k * voters
        outcome = method_of_equal_shares(instance, profile, sat_class=Cost_Sat)
        if sum(p.cost for p in outcome) > budget:
            return sorted(p.name for p in previous)
        if supported <= set(outcome):
            return sorted(p.name for p in outcome)
        previous, k = outcome, k + 1


def pabutools_add1(path: Path) -> list[str]:
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import method_of_equal_shares

    instance, profile = parse_pabulib(str(path))
    outcome = method_of_equal_shares(instance, profile.as_multiprofile(), sat_class=Cost_Sat, voter_budget_increment=1)
    return sorted(p.name for p in outcome)


@pytest.mark.parametrize("name", DIFFERENT)
def test_the_stop_rules_differ_on_real_elections_and_each_matches_its_reference(name):
    instance, profile = load(DATA / name)
    first_exhaustive = tally(instance, profile, "mes", completion="add1")
    last_feasible = tally(instance, profile, "mes", completion="add1_last_feasible")
    assert sorted(first_exhaustive.winners) != sorted(last_feasible.winners)
    assert sorted(first_exhaustive.winners) == pabutools_add1(DATA / name)
    assert sorted(last_feasible.winners) == pabutools_last_feasible(DATA / name)
    # the explanation says why each stopped, and the later stop ran more steps
    assert first_exhaustive.options["stopped"] in ("exhaustive", "next_overspends")
    assert last_feasible.options["stopped"] in ("next_overspends", "all_funded")
    assert last_feasible.options["iterations"] > first_exhaustive.options["iterations"]
    assert last_feasible.spent <= instance.budget


ITERATED = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ITERATED
@given(approval_elections(max_projects=5, max_voters=7), st.sampled_from([1, 37, 1000]),
       st.sampled_from(["cost", "cardinality"]))
def test_skipping_unchanged_runs_never_changes_add1_last_feasible(election, factor, satisfaction):
    """Invariant: Pabulib's Add1 gives the same winners, money per voter, payments and
    iteration count whether provably-unchanged runs are skipped or run."""
    instance, profile = election
    el = prepare(in_cents(instance, factor), profile, satisfaction)
    fast = completion.add_one(el, skip=True, stop="last_feasible")
    every = completion.add_one(el, skip=False, stop="last_feasible")
    assert summary(*fast) == summary(*every)
    assert fast[0].stopped == every[0].stopped


@ITERATED
@given(approval_elections(max_projects=5, max_voters=7))
def test_add1_last_feasible_keeps_the_budget_and_never_stops_at_an_outcome_it_could_grow(election):
    """Invariant: the outcome fits the budget, and unless every supported project is funded,
    one more unit per voter would overspend."""
    instance, profile = election
    el = prepare(instance, profile)
    run, iterations = completion.add_one(el, stop="last_feasible")
    assert run.spent <= el.budget
    if run.stopped == "next_overspends" and iterations:
        assert completion.mes_run(el, run.per_voter + 1).spent > el.budget
    elif run.stopped == "all_funded":
        assert set(run.candidates) <= set(run.winners)


def test_every_add1_completion_is_offered_by_the_cli_and_to_rounds():
    assert COMPLETION_NAMES == completion.COMPLETIONS
    assert set(completion.ADD_ONE_STOPS) <= set(RULES["mes"]["options"]["completion"])
    spec = parse_rule_spec("mes:add1_last_feasible_greedy")
    assert (spec.rule, spec.completion) == ("mes", "add1_last_feasible_greedy")
    with pytest.raises(ValueError, match="stop rule"):
        completion.add_one(prepare(*load(DATA / OFFICIAL[0])), stop="whenever")
