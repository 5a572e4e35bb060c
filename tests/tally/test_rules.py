"""Each rule on small hand-made elections with answers worked out by hand (and, where
noted, checked against pabutools as an oracle)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from pb.tally import RULES, Ballot, build_profile, tally
from pb.tally import explain
from test_rules_support import approval, make_instance, pabutools_outcome


# --- greedy ---------------------------------------------------------------------------------

def test_greedy_by_votes_skips_projects_that_no_longer_fit():
    inst = make_instance({"a": 6, "b": 5, "c": 3, "d": 1}, 10)
    prof = approval("ab", "ab", "abc", "bc", "cd")  # votes a3 b4 c3 d1
    result = tally(inst, prof, "greedy")
    assert result.winners == ("b", "c", "d")  # b (4 votes), a misfits (6 > 5), c, d
    assert result.spent == 9
    assert result.outcomes["a"].reason == explain.NOT_AFFORDABLE
    assert result.outcomes["a"].figures["money_left"] == 5
    assert result.outcomes["b"].figures["votes"] == 4


def test_greedy_stop_at_first_misfit():
    inst = make_instance({"a": 6, "b": 5, "c": 3, "d": 1}, 10)
    prof = approval("ab", "ab", "abc", "bc", "cd")
    result = tally(inst, prof, "greedy", stop_at_first_misfit=True)
    assert result.winners == ("b",)
    assert result.outcomes["a"].reason == explain.NOT_AFFORDABLE
    assert result.outcomes["c"].reason == explain.BUDGET_EXHAUSTED
    assert result.outcomes["d"].reason == explain.BUDGET_EXHAUSTED


def test_greedy_threshold_excludes_low_scores():
    inst = make_instance({"a": 6, "b": 5, "c": 3, "d": 1}, 10)
    prof = approval("ab", "ab", "abc", "bc", "cd")
    result = tally(inst, prof, "greedy", threshold=3)
    assert result.winners == ("b", "c")
    assert result.outcomes["d"].reason == explain.BELOW_THRESHOLD
    assert result.outcomes["d"].figures["score"] == 1


def test_greedy_cardinality_is_votes_per_cost():
    inst = make_instance({"big": 8, "s1": 2, "s2": 2}, 8)
    prof = approval(("big", "s1"), ("big", "s2"), ("big",), ("s1",))  # big 3/8, s1 2/2, s2 1/2
    assert tally(inst, prof, "greedy", satisfaction="cardinality").winners == ("s1", "s2")
    assert tally(inst, prof, "greedy").winners == ("big",)


def test_greedy_funds_unsupported_projects_last_like_pabutools():
    inst = make_instance({"a": 2, "z": 1}, 5)
    result = tally(inst, approval("a"), "greedy")
    assert result.winners == ("a", "z")
    assert tally(inst, approval("a"), "greedy", threshold=1).winners == ("a",)


def test_lexicographic_ties_compare_ids_as_strings():
    inst = make_instance({"9": 5, "10": 5}, 5)
    prof = approval(("9", "10"), ("9", "10"))
    assert tally(inst, prof, "greedy").winners == ("10",)  # "10" < "9"
    assert tally(inst, prof, "mes").winners == ("10",)
    assert tally(inst, prof, "phragmen").winners == ("10",)


def test_tie_break_chain_min_cost_then_votes():
    inst = make_instance({"a": 4, "b": 2, "c": 2}, 4)
    prof = approval("a", "b", "c", "c")  # b: 1 vote, c: 2 votes
    # cardinality: densities a 1/4, b 1/2, c 1 -> no tie; use votes-per-cost ties instead
    inst2 = make_instance({"a": 2, "b": 2, "c": 4}, 4)
    prof2 = approval("a", "b", "c", "c")  # cost sat: votes a1 b1 c2 -> c first (4), then nothing fits
    assert tally(inst2, prof2, "greedy").winners == ("c",)
    inst3 = make_instance({"a": 3, "b": 2}, 3)
    prof3 = approval("a", "b")  # tie on votes
    assert tally(inst3, prof3, "greedy").winners == ("a",)
    assert tally(inst3, prof3, "greedy", tie_break=("min_cost",)).winners == ("b",)
    assert tally(inst3, prof3, "greedy", tie_break=("max_cost",)).winners == ("a",)
    assert tally(inst, prof, "greedy", satisfaction="cardinality").winners == ("c", "b")


def test_lottery_tie_break_is_seeded_and_reproducible():
    inst = make_instance({f"p{i}": 1 for i in range(8)}, 1)
    prof = approval(*[(f"p{i}",) for i in range(8)])
    winners = {tally(inst, prof, "greedy", tie_break=("lottery",), seed=f"s{k}").winners for k in range(12)}
    assert len(winners) > 1  # different seeds pick different winners
    again = tally(inst, prof, "greedy", tie_break=("lottery",), seed="s3").winners
    assert again == tally(inst, prof, "greedy", tie_break=("lottery",), seed="s3").winners
    with pytest.raises(ValueError):
        tally(inst, prof, "greedy", tie_break=("lottery",))


# --- Method of Equal Shares -------------------------------------------------------------------

def test_mes_is_proportional_where_greedy_is_not():
    # 3 voters want a1..a3, 1 voter wants b1, b2; budget 4, all cost 1: per voter 1.
    inst = make_instance({"a1": 1, "a2": 1, "a3": 1, "b1": 1, "b2": 1}, 4)
    prof = approval(("a1", "a2", "a3"), ("a1", "a2", "a3"), ("a1", "a2", "a3"), ("b1", "b2"))
    result = tally(inst, prof, "mes")
    assert result.winners == ("a1", "a2", "a3", "b1")
    a1 = result.outcomes["a1"].figures
    assert a1["rho"] == Fraction(1, 3) and a1["effective_votes"] == 3
    assert a1["payments"] == ({"amount": Fraction(1, 3), "voters": 3},)
    assert result.outcomes["b2"].reason == explain.MES_INSUFFICIENT_SUPPORT
    assert result.outcomes["b2"].figures["supporters_money"] == 0


def test_mes_add1_returns_last_feasible_and_greedy_completes():
    # per voter 3/4: a1, a2 bought (a-voters pay 1/3 each twice), a3 then unaffordable.
    inst = make_instance({"a1": 1, "a2": 1, "a3": 1, "b1": 1, "b2": 1}, 3)
    prof = approval(("a1", "a2", "a3"), ("a1", "a2", "a3"), ("a1", "a2", "a3"), ("b1", "b2"))
    assert tally(inst, prof, "mes").winners == ("a1", "a2")
    # per voter 7/4 would buy a1 a2 a3 b1 (cost 4 > 3): add1 keeps the previous outcome
    add1 = tally(inst, prof, "mes", completion="add1")
    assert add1.winners == ("a1", "a2") and add1.options["iterations"] == 2
    completed = tally(inst, prof, "mes", completion="add1_greedy")
    assert completed.winners == ("a1", "a2", "a3")
    assert completed.outcomes["a3"].figures["phase"] == "completion"
    assert completed.outcomes["a3"].figures["mes_reason"] == explain.MES_INSUFFICIENT_SUPPORT


def test_mes_poor_supporters_pay_everything_they_have():
    # x costs 3; v1 has spent most of her share on y. Per voter 2 (budget 6, 3 voters).
    inst = make_instance({"y": Fraction(3, 2), "x": 3}, 6)
    prof = approval(("x", "y"), ("x",), ("x",))
    result = tally(inst, prof, "mes", satisfaction="cardinality")
    # round 1: x rho = 1 (3 supporters pay 1), y rho = 3/2 -> x; then y: v1 has 1 < 3/2 -> dropped
    assert result.winners == ("x",)
    inst2 = make_instance({"y": Fraction(1, 2), "x": 5}, 6)
    result2 = tally(inst2, prof, "mes", satisfaction="cardinality")
    # y first (rho 1/2); then x: v1 has 3/2, others 2 each -> v1 pays all 3/2, others 7/4
    assert result2.winners == ("y", "x")
    assert result2.outcomes["x"].figures["rho"] == Fraction(7, 4)
    assert result2.outcomes["x"].figures["payments"] == (
        {"amount": Fraction(7, 4), "voters": 2}, {"amount": Fraction(3, 2), "voters": 1})


def test_mes_budget_increase_matches_pabutools():
    pytest.importorskip("pabutools")
    inst = make_instance({"a1": 1, "a2": 1, "a3": 1, "b1": 1, "b2": 2, "c": 3}, 5)
    prof = approval(("a1", "a2", "a3"), ("a1", "a2", "a3"), ("a1", "a2", "a3", "c"), ("b1", "b2"), ("c",))
    ours = tally(inst, prof, "mes", completion="budget_increase")
    assert sorted(ours.winners) == pabutools_outcome(inst, prof, "mes", completion="budget_increase")
    assert ours.spent <= inst.budget


def test_mes_free_projects_funded_up_front_and_unsupported_never():
    inst = make_instance({"free": 0, "a": 2, "nobody": 1}, 4)
    result = tally(inst, approval(("free", "a"), ("a",)), "mes", satisfaction="cardinality")
    assert result.winners == ("free", "a")
    assert result.outcomes["nobody"].reason == explain.NO_SUPPORT


def test_mes_points_satisfaction_on_cumulative_ballots():
    pytest.importorskip("pabutools")
    inst = make_instance({"a": 4, "b": 4, "c": 2}, 6)
    prof = build_profile("cumulative", [Ballot(("a", "c"), (3, 1)), Ballot(("b",), (4,)),
                                        Ballot(("a", "b"), (2, 2)), Ballot(("c",), (1,))])
    for completion in ("none", "add1", "add1_greedy"):
        ours = tally(inst, prof, "mes", satisfaction="points", completion=completion)
        assert sorted(ours.winners) == pabutools_outcome(inst, prof, "mes", "points", completion)


def test_no_voters_gives_empty_mes_and_all_greedy_ties():
    inst = make_instance({"a": 1, "b": 1}, 1)
    empty = build_profile("approval", [])
    assert tally(inst, empty, "mes").winners == ()
    assert tally(inst, empty, "mes", completion="add1").winners == ()
    assert tally(inst, empty, "greedy").winners == ("a",)


# --- Phragmén --------------------------------------------------------------------------------

def test_phragmen_balances_loads():
    inst = make_instance({"a1": 1, "a2": 1, "a3": 1, "b1": 1, "b2": 1}, 4)
    prof = approval(("a1", "a2", "a3"), ("a1", "a2", "a3"), ("a1", "a2", "a3"), ("b1", "b2"))
    result = tally(inst, prof, "phragmen")
    # loads: a1 1/3, a2 2/3, b1 1 vs a3 1 -> tie at 1, lexico picks a3 then b1
    assert result.winners == ("a1", "a2", "a3", "b1")
    assert result.outcomes["a2"].figures["load"] == Fraction(2, 3)
    assert result.outcomes["b2"].reason == explain.NOT_AFFORDABLE


def test_phragmen_stops_at_first_unaffordable_minimiser():
    inst = make_instance({"big": 5, "small": 1}, 4)
    prof = approval(("big",), ("big",), ("big",), ("small",))  # big load 5/3 < small load 1? no: 5/3 > 1
    assert tally(inst, prof, "phragmen").winners == ("small",)  # big costs 5 > 4: never a candidate
    inst2 = make_instance({"big": 4, "small": 1}, 4)
    prof2 = approval(*[("big",)] * 5, ("small",))  # big load 4/5 < 1
    result = tally(inst2, prof2, "phragmen")
    assert result.winners == ("big",)  # then small (load 1) no longer fits: stop
    assert result.outcomes["small"].reason == explain.NOT_AFFORDABLE


# --- max welfare -------------------------------------------------------------------------------

def test_max_welfare_beats_greedy_on_a_knapsack():
    inst = make_instance({"a": 6, "b": 5, "c": 5}, 10)
    prof = approval("a", "a", "a", "b", "b", "c", "c")  # cardinality welfare: a 3, b 2, c 2
    assert tally(inst, prof, "greedy", satisfaction="cardinality").winners == ("a",)
    result = tally(inst, prof, "max_welfare", satisfaction="cardinality")
    assert sorted(result.winners) == ["b", "c"]
    assert result.options["welfare"] == 4
    assert result.outcomes["a"].reason == explain.NOT_OPTIMAL


def test_max_welfare_cost_satisfaction_maximises_cost_times_votes():
    inst = make_instance({"a": Fraction(11, 2), "b": 5, "c": 5}, 10)
    prof = approval("a", "a", "b", "b", "c")  # a: 11, b: 10, c: 5
    result = tally(inst, prof, "max_welfare")
    assert sorted(result.winners) == ["b", "c"] and result.options["welfare"] == 15


# --- API ---------------------------------------------------------------------------------------

def test_every_project_gets_an_explanation_for_every_rule():
    inst = make_instance({"a": 3, "b": 2, "c": 2, "d": 9, "z": 1}, 6)
    prof = approval("ab", "ab", "bc", "c", "a")
    for rule, options in [("greedy", {}), ("phragmen", {}), ("max_welfare", {}), ("mes", {}),
                          ("mes", {"completion": "add1_greedy"}), ("mes", {"completion": "budget_increase"})]:
        result = tally(inst, prof, rule, **options)
        assert set(result.outcomes) == set(inst.projects)
        assert {p for p, o in result.outcomes.items() if o.selected} == set(result.winners)
        assert all(o.reason in explain.REASONS for o in result.outcomes.values())
        assert result.spent == sum(inst.projects[p].cost for p in result.winners)


def test_rules_table_lists_every_rule_and_bad_options_are_refused():
    assert set(RULES) == {"greedy", "mes", "phragmen", "max_welfare"}
    inst = make_instance({"a": 1}, 1)
    prof = approval("a")
    for bad in [dict(rule="nope"), dict(rule="greedy", completion="add1"),
                dict(rule="mes", completion="nope"), dict(rule="mes", satisfaction="nope"),
                dict(rule="mes", satisfaction="points"), dict(rule="greedy", tie_break=("nope",)),
                dict(rule="mes", threshold=1)]:
        rule = bad.pop("rule")
        with pytest.raises(ValueError):
            tally(inst, prof, rule, **bad)
    with pytest.raises(TypeError):
        tally(make_instance({"a": 1.5}, 1), prof, "greedy")


# --- other ballot kinds ------------------------------------------------------------------------

def test_ranked_and_points_ballots_count_every_listed_project_as_approved():
    inst = make_instance({"a": 2, "b": 2, "c": 2}, 4)
    ordinal = build_profile("ordinal", [Ballot(("c", "a")), Ballot(("c", "b")), Ballot(("a",))])
    assert tally(inst, ordinal, "greedy").winners == ("a", "c")  # votes a2 c2 b1; tie -> lexico
    assert sorted(tally(inst, ordinal, "phragmen").winners) == ["a", "c"]
    scoring = build_profile("scoring", [Ballot(("a", "b"), (5, -1)), Ballot(("b", "c"), (2, 1))])
    by_points = tally(inst, scoring, "greedy", satisfaction="points")
    assert by_points.winners == ("a", "b")  # points/cost: a 5/2, then b (-1+2)/2 ties c 1/2: lexico
    assert by_points.outcomes["b"].figures["score"] == 1


def test_greedy_on_total_points_of_cumulative_ballots_with_threshold():
    inst = make_instance({"a": 3, "b": 3, "c": 3}, 6)
    prof = build_profile("cumulative", [Ballot(("a", "b"), (7, 3)), Ballot(("c", "a"), (6, 4)), Ballot(("b",), (1,))])
    result = tally(inst, prof, "greedy", satisfaction="points", threshold=5)
    assert result.winners == ("a", "c")  # totals a 11, c 6, b 4 (below the threshold of 5)
    assert result.outcomes["b"].reason == explain.BELOW_THRESHOLD
