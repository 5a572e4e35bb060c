"""The tally through our conversion: within budget, independent of ballot order, votes conserved."""

from __future__ import annotations

import json
import random
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from pb.results import domain

RULES = [("greedy", {}), ("mes", {"completion": "add1_greedy"}), ("mes", {}), ("phragmen", {}),
         ("max_welfare", {}), ("greedy", {"stop_at_first_misfit": True, "tie_break": ["min_cost", "lexico"]})]


@st.composite
def elections(draw):
    costs = draw(st.lists(st.integers(1, 60), min_size=1, max_size=6))
    ids = [100 + n for n in range(len(costs))]
    budget = {"id": 7, "name": "North", "kind": "district", "district": "north",
              "amount": draw(st.integers(1, 150)), "ballot_format": "approval",
              "projects": [{"proposal_id": pid, "title": f"p{pid}", "cost": c} for pid, c in zip(ids, costs)]}
    ballots = draw(st.lists(st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids), unique=True),
                            max_size=12))
    rule, options = draw(st.sampled_from(RULES))
    config = {"tally": {"rule": rule, "options": options}, "budgets": [budget]}
    contents = [json.dumps({"projects": chosen, "nonce": f"{n:032x}"}) for n, chosen in enumerate(ballots)]
    receipts = [f"{n:064x}" for n in range(len(contents))]
    return config, budget, contents, receipts


@settings(max_examples=80, deadline=None)
@given(elections())
def test_tally_never_spends_more_than_the_budget(election):
    """T1: the selected projects' costs add up to ``spent`` and never exceed the budget amount."""
    config, budget, contents, receipts = election
    document = domain.tally_budget(config, budget, contents, receipts)
    costs = {p["proposal_id"]: p["cost"] for p in budget["projects"]}
    assert document["spent"] == sum(costs[pid] for pid in document["winners"]) <= budget["amount"]
    assert {p["proposal_id"] for p in document["projects"] if p["selected"]} == set(document["winners"])


@settings(max_examples=80, deadline=None)
@given(elections(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_ballot_order(election, rng: random.Random):
    """T3: shuffling the stored ballots gives the same document and the same hash."""
    config, budget, contents, receipts = election
    pairs = list(zip(contents, receipts))
    rng.shuffle(pairs)
    shuffled = domain.tally_budget(config, budget, [c for c, _ in pairs], [r for _, r in pairs])
    original = domain.tally_budget(config, budget, contents, receipts)
    assert shuffled == original
    assert domain.result_hash(shuffled) == domain.result_hash(original)


@settings(max_examples=60, deadline=None)
@given(elections())
def test_votes_per_project_are_conserved(election):
    """T4: each project's vote count is the number of ballots listing it."""
    config, budget, contents, receipts = election
    document = domain.tally_budget(config, budget, contents, receipts)
    listed = [json.loads(c)["projects"] for c in contents]
    for project in document["projects"]:
        assert project["votes"] == sum(project["proposal_id"] in chosen for chosen in listed)
    assert document["ballots"] == len(contents)


def test_known_greedy_example_explains_each_project():
    budget = {"id": 1, "name": "b", "kind": "district", "district": "n", "amount": 10, "ballot_format": "approval",
              "projects": [{"proposal_id": 1, "cost": 6}, {"proposal_id": 2, "cost": 5}, {"proposal_id": 3, "cost": 4}]}
    contents = [json.dumps({"projects": p}) for p in ([1, 2, 3], [1, 2], [1])]
    document = domain.tally_budget({"tally": {"rule": "greedy", "options": {}}}, budget, contents, ["a", "b", "c"])
    assert document["winners"] == [1, 3] and document["spent"] == 10
    assert [(p["votes"], p["reason"], p["rank"]) for p in document["projects"]] == [
        (3, "selected", 1), (2, "not_affordable", None), (1, "selected", 2)]


def test_jsonable_writes_exact_fractions():
    assert domain.jsonable({"a": Fraction(1, 3), "b": Fraction(4, 2), "c": (1, True, None)}) == {
        "a": "1/3", "b": 2, "c": [1, True, None]}


def test_ballots_digest_ignores_storage_order():
    assert domain.ballots_digest(["b", "a"]) == domain.ballots_digest(["a", "b"])
