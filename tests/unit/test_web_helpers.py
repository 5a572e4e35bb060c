"""Pure helpers of the pages: money typed by people, language negotiation, ballot form state."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pb.voting.views import Choices, apply_rank_move, read_choices, summary
from pb.web.forms import amount_input, parse_amount
from pb.web.i18n import negotiate


def test_money_is_read_as_people_type_it():
    assert parse_amount("1500") == 150_000
    assert parse_amount("1500.5") == 150_050
    assert parse_amount("1 500,50") == 150_050
    assert parse_amount("1.500,50") == 150_050
    assert parse_amount("1,500.50") == 150_050
    for bad in ("", "abc", "1.505", "NaN", "1e3x"):
        assert parse_amount(bad) is None, bad


@given(st.integers(min_value=0, max_value=10**12))
def test_an_amount_shown_in_a_form_reads_back_as_the_same_minor_units(minor):
    """Invariant: what the edit form shows is what the next save stores (no cent lost)."""
    assert parse_amount(amount_input(minor)) == minor


def test_the_language_is_the_remembered_choice_then_the_best_accepted_one():
    assert negotiate("pl", "de") == "pl"
    assert negotiate(None, "fr-CA,fr;q=0.9,en;q=0.8") == "fr"
    assert negotiate(None, "ja,de;q=0.5,es;q=0.7") == "es"
    assert negotiate("xx", "zz") == "en"
    assert negotiate(None, None) == "en"


BUDGET = {"id": 1, "amount": 50_000, "ballot_format": "knapsack", "projects": [
    {"proposal_id": 10, "cost": 20_000, "title": "a"}, {"proposal_id": 11, "cost": 25_000, "title": "b"},
    {"proposal_id": 12, "cost": 15_000, "title": "c"}]}


def test_the_running_total_is_exact_and_flags_an_overspend():
    figures = summary(BUDGET, read_choices(BUDGET, {"project": ["10", "11", "12", "999", "10"]}))
    assert (figures["spent"], figures["left"], figures["over"]) == (60_000, -10_000, True)
    assert summary(BUDGET, read_choices(BUDGET, {"project": "12"}))["left"] == 35_000


def test_points_typed_badly_are_kept_as_typed_and_flagged():
    budget = {**BUDGET, "ballot_format": "cumulative", "points_per_voter": 5}
    choices = read_choices(budget, {"points-10": "3", "points-11": "x", "points-12": "0"})
    assert choices.projects == [10] and choices.points == {10: 3} and choices.bad_points
    assert choices.typed[11] == "x"


@given(st.lists(st.sampled_from(["add", "remove", "up", "down"]).flatmap(
    lambda verb: st.sampled_from([f"{verb}:10", f"{verb}:11", f"{verb}:12", f"{verb}:99"])), max_size=30))
def test_rank_moves_keep_a_ranking_of_distinct_projects_from_the_ballot(moves):
    """Invariant: whatever buttons are pressed, the ranking lists ballot projects, each once."""
    choices = Choices()
    for move in moves:
        apply_rank_move(choices, move, [10, 11, 12])
    assert len(set(choices.projects)) == len(choices.projects)
    assert set(choices.projects) <= {10, 11, 12}
