"""Ballot validation (the web app's gate when a citizen votes) and profile building."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pb.tally import CONSTRAINTS, Ballot, BallotError, BallotGroup, build_profile, profile_from_groups, tally
from pb.tally import validate_ballot
from test_rules_support import make_instance

INST = make_instance({"a": 100, "b": 250, "c": 400, "d": Fraction(1001, 10)}, 500)


def error(ballot: Ballot, kind: str = "approval", **limits) -> BallotError:
    with pytest.raises(BallotError) as caught:
        validate_ballot(ballot, kind, INST, limits)
    assert isinstance(caught.value, ValueError)
    assert caught.value.constraint in CONSTRAINTS
    assert str(caught.value) == caught.value.message and caught.value.message
    return caught.value


@pytest.mark.parametrize("ballot, kind, limits, constraint", [
    (Ballot(("a", "x")), "approval", {}, "unknown_project"),
    (Ballot(("a", "a")), "ordinal", {}, "duplicate_project"),
    (Ballot(("a", "b", "c")), "approval", {"max_length": 2}, "too_many_projects"),
    (Ballot(("a",)), "approval", {"min_length": 2}, "too_few_projects"),
    (Ballot(("a", "b")), "choose-1", {}, "too_many_projects"),
    (Ballot(()), "choose-1", {}, "too_few_projects"),
    (Ballot(("b", "c")), "approval", {"max_sum_cost": 500}, "over_budget"),
    (Ballot(("a",)), "approval", {"min_sum_cost": 200}, "below_minimum_spend"),
    (Ballot(("a", "b"), (6, 5)), "cumulative", {"max_sum_points": 10}, "too_many_points"),
    (Ballot(("a",), (2,)), "cumulative", {"min_sum_points": 3}, "too_few_points"),
    (Ballot(("a", "b"), (6, 1)), "cumulative", {"max_points": 5}, "points_per_project_exceeded"),
    (Ballot(("a",), (-1,)), "cumulative", {}, "points_below_minimum"),
    (Ballot(("a",), (1,)), "scoring", {"min_points": 2}, "points_below_minimum"),
    (Ballot(("a", "b"), (1,)), "cumulative", {}, "malformed_points"),
    (Ballot(("a",), (1.5,)), "cumulative", {}, "malformed_points"),
    (Ballot(("a",), (1,)), "approval", {}, "malformed_points"),
    (Ballot(("a",)), "plurality", {}, "unknown_kind"),
])
def test_each_broken_constraint_is_named(ballot, kind, limits, constraint):
    assert error(ballot, kind, **limits).constraint == constraint


def test_messages_speak_to_the_voter():
    message = error(Ballot(("b", "c")), max_sum_cost=Fraction(4999, 10)).message
    assert "650" in message and "499.90" in message
    assert "'x'" in error(Ballot(("x",))).message


def test_valid_ballots_pass():
    validate_ballot(Ballot(("a", "d")), "approval", INST, {"max_length": 2, "max_sum_cost": Fraction(2001, 10)})
    validate_ballot(Ballot(("c",)), "choose-1", INST, {})
    validate_ballot(Ballot(("c", "a"), (7, 3)), "cumulative", INST, {"max_sum_points": 10, "max_points": 7})
    validate_ballot(Ballot(("c", "a", "b")), "ordinal", INST, {"min_length": 3})
    validate_ballot(Ballot(("a",), (-2,)), "scoring", INST, {"min_points": -2})


def test_build_profile_groups_identical_ballots_canonically():
    ballots = [Ballot(("b", "a")), Ballot(("a", "b")), Ballot(("c",)), Ballot(("a", "b", "b"))]
    profile = build_profile("approval", ballots, {"max_length": 3})
    assert profile.groups == (BallotGroup(Ballot(("a", "b")), 3), BallotGroup(Ballot(("c",)), 1))
    assert profile.num_voters == 4 and profile.limits == {"max_length": 3}
    assert build_profile("approval", reversed(ballots), {"max_length": 3}) == profile


def test_build_profile_can_validate_every_ballot():
    with pytest.raises(BallotError) as caught:
        build_profile("approval", [Ballot(("a",)), Ballot(("a", "b", "c"))], {"max_length": 2},
                      instance=INST, validate=True)
    assert caught.value.constraint == "too_many_projects"
    with pytest.raises(ValueError):
        build_profile("approval", [], validate=True)


def test_profile_from_groups_merges_repeated_groups():
    g = BallotGroup(Ballot(("a",)), 2)
    profile = profile_from_groups("approval", [g, BallotGroup(Ballot(("b",)), 1), g])
    assert profile.groups == (BallotGroup(Ballot(("a",)), 4), BallotGroup(Ballot(("b",)), 1))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcd"), unique=True, max_size=4), max_size=12), st.randoms())
def test_profile_does_not_depend_on_ballot_order(ballots, rnd):
    """Invariant: shuffling the ballots gives the identical Profile (and hence tally)."""
    as_ballots = [Ballot(tuple(b)) for b in ballots]
    shuffled = list(as_ballots)
    rnd.shuffle(shuffled)
    one, two = build_profile("approval", as_ballots), build_profile("approval", shuffled)
    assert one == two
    assert tally(INST, one, "mes") == tally(INST, two, "mes")
