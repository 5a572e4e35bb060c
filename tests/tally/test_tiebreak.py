"""The tie-break chain: total, explicit, and independent of listing order."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pb.tally.tiebreak import TIE_BREAKERS, lottery_key, priority_order

COSTS = {"9": 5, "10": 5, "K2": 3, "K10": 8}
VOTES = {"9": 4, "10": 2, "K2": 4, "K10": 1}


def test_lexico_compares_ids_as_strings_like_pabutools():
    assert priority_order(COSTS, VOTES, ("lexico",)) == ["10", "9", "K10", "K2"]


def test_chain_applies_criteria_in_order_and_ends_with_the_id():
    assert priority_order(COSTS, VOTES, ("min_cost",)) == ["K2", "10", "9", "K10"]
    assert priority_order(COSTS, VOTES, ("max_cost",)) == ["K10", "10", "9", "K2"]
    assert priority_order(COSTS, VOTES, ("max_votes",)) == ["9", "K2", "10", "K10"]
    assert priority_order(COSTS, VOTES, ("min_cost", "max_votes")) == ["K2", "9", "10", "K10"]
    assert priority_order(COSTS, VOTES, ("max_votes", "min_cost")) == ["K2", "9", "10", "K10"]


def test_lottery_key_is_sha256_of_seed_then_id():
    assert lottery_key(b"seed", "p1") == hashlib.sha256(b"seedp1").digest()
    order = priority_order(COSTS, VOTES, ("lottery",), seed="seed")
    assert order == sorted(COSTS, key=lambda pid: hashlib.sha256(b"seed" + pid.encode()).digest())
    assert priority_order(COSTS, VOTES, ("lottery",), seed=b"seed") == order


def test_unknown_criterion_or_missing_seed_is_refused():
    with pytest.raises(ValueError):
        priority_order(COSTS, VOTES, ("random",))
    with pytest.raises(ValueError):
        priority_order(COSTS, VOTES, ("lottery",))
    assert set(TIE_BREAKERS) == {"lexico", "min_cost", "max_cost", "max_votes", "lottery"}


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.text("ab1", min_size=1, max_size=3), st.tuples(st.integers(0, 3), st.integers(0, 3)),
                       min_size=1, max_size=6),
       st.lists(st.sampled_from(sorted(TIE_BREAKERS)), max_size=3), st.text(max_size=4), st.randoms())
def test_order_is_total_and_independent_of_project_listing_order(data, chain, seed, rnd):
    """Invariant: the priority order is a permutation of the ids and does not depend on the
    order in which projects are listed (same seed -> same order)."""
    items = list(data.items())
    rnd.shuffle(items)
    costs = {pid: c for pid, (c, _) in items}
    votes = {pid: v for pid, (_, v) in items}
    first = priority_order(costs, votes, chain, seed=seed)
    assert sorted(first) == sorted(data)
    assert first == priority_order(dict(sorted(costs.items())), votes, chain, seed=seed)
