"""Inputs at the edges: amounts beyond float range, negative amounts, misspelt section
titles, non-UTF-8 bytes, truncated files and options that do not apply. Each gets an
exact result or one clear message, never a traceback."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pb.tally import completion, tally
from pb.tally.cli import human, main, parse_rule_spec
from pb.tally.pabulib import PbFormatError, read_pb
from pb.tally.satisfaction import prepare
from test_completion import in_cents
from test_rules_support import approval_elections

HUGE = 10**400
MES_COMPLETIONS = ("none", "add1", "add1_greedy", "add1_last_feasible", "budget_increase")


def pb_text(budget="100", costs=("10", "20", "30"), *, num_votes=4, projects_title="PROJECTS",
            votes_title="VOTES") -> str:
    rows = "\n".join(f"{pid};{cost}" for pid, cost in zip("abc", costs))
    return (f"META\nkey;value\nnum_projects;3\nnum_votes;{num_votes}\nbudget;{budget}\nvote_type;approval\n"
            f"{projects_title}\nproject_id;cost\n{rows}\n"
            f"{votes_title}\nvoter_id;vote\n1;a,b\n2;a\n3;b,c\n4;c\n")


@pytest.mark.parametrize("budget, costs", [
    ("1e400", ("10", "20", "30")),
    ("9" * 400, ("10", "20", "30")),
    ("100", ("1" + "0" * 400, "20", "30")),
    ("3" + "0" * 400, ("1" + "0" * 400, "2" + "0" * 399, "1" + "0" * 399)),
])
@pytest.mark.parametrize("how", MES_COMPLETIONS)
def test_mes_with_amounts_beyond_float_range_is_exact(budget, costs, how):
    election = read_pb(pb_text(budget, costs))
    result = tally(election.instance, election.profile, "mes", completion=how)
    assert result.spent <= result.budget == Fraction(budget)
    # every supported project fits and its supporters hold its cost: MES funds it
    affordable = [pid for pid, p in election.instance.projects.items() if 2 * Fraction(budget) / 4 >= p.cost]
    assert set(affordable) <= set(result.winners)


ITERATED = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ITERATED
@given(approval_elections(max_projects=5, max_voters=7), st.sampled_from(["cost", "cardinality"]),
       st.sampled_from(["none", "budget_increase"]))
def test_mes_scaled_beyond_float_range_funds_the_same_projects(election, satisfaction, how):
    """Invariant: plain MES and budget increase (steps of 1 % of the budget) do not depend on
    the unit of money, so the exact path taken beyond float range (every amount times
    10**400) funds the projects the float-screened path funds."""
    instance, profile = election
    plain = tally(instance, profile, "mes", satisfaction=satisfaction, completion=how)
    scaled = tally(in_cents(instance, HUGE), profile, "mes", satisfaction=satisfaction, completion=how)
    assert scaled.winners == plain.winners


@ITERATED
@given(approval_elections(max_projects=4, max_voters=5), st.sampled_from(["first_exhaustive", "last_feasible"]))
def test_add_one_beyond_float_range_matches_add_one_in_float_range(election, stop):
    """Invariant: add-one with every amount and the step times 10**400 (the exact path)
    funds the same projects after the same number of runs as add-one in float range."""
    instance, profile = election
    plain, plain_runs = completion.add_one(prepare(instance, profile), stop=stop)
    scaled, scaled_runs = completion.add_one(prepare(in_cents(instance, HUGE), profile), HUGE, stop=stop)
    assert (scaled.winners, scaled.per_voter, scaled_runs) == (plain.winners, plain.per_voter * HUGE, plain_runs)


def test_cli_prints_mes_results_beyond_float_range(tmp_path, capsys):
    path = tmp_path / "huge.pb"
    path.write_text(pb_text("9" * 400))
    assert main([str(path), "--rule", "mes:add1", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "budget per voter ~2.49e+399" in text and "Traceback" not in text
    assert main([str(path), "--rule", "mes:add1_last_feasible", "--json", "--no-progress"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["budget"] == int("9" * 400)
    assert Fraction(document["results"][0]["options"]["budget_per_voter"]) == Fraction(int("9" * 400), 4)


def test_human_numbers_beyond_float_range():
    assert human(Fraction(HUGE + 1, 3)) == "~3.33e+399"
    assert human(-Fraction(HUGE + 1, 3)) == "~-3.33e+399"


def test_negative_budget_and_cost_are_refused():
    with pytest.raises(PbFormatError, match="budget must not be negative"):
        read_pb(pb_text("-100"))
    with pytest.raises(PbFormatError, match=r"line 9: project 'a': cost must not be negative"):
        read_pb(pb_text("100", ("-10", "20", "30")))
    election = read_pb(pb_text("100"))
    negative = type(election.instance)(election.instance.projects, -1)
    with pytest.raises(ValueError, match="budget must not be negative"):
        tally(negative, election.profile, "greedy")


@pytest.mark.parametrize("where, title, line, guess", [
    ("projects", "PROJECT", 7, "PROJECTS"),
    ("votes", "BALLOTS", 12, "VOTES"),
    ("votes", "BALLOT", 12, "VOTES"),
    ("projects", "PROPOSALS", 7, None),
])
def test_a_misspelt_section_title_is_named(where, title, line, guess):
    text = pb_text(projects_title=title) if where == "projects" else pb_text(votes_title=title)
    with pytest.raises(PbFormatError) as caught:
        read_pb(text)
    message = str(caught.value)
    assert f"line {line}: {title!r} is not a section title" in message
    assert (f"did you mean {guess}?" in message) if guess else "did you mean" not in message


def test_non_utf8_input_names_the_line(tmp_path, capsys):
    path = tmp_path / "latin1.pb"
    path.write_bytes(pb_text().replace("c;30", "c;30;Caf\xe9").encode("latin-1"))
    with pytest.raises(PbFormatError, match=r"latin1.pb: line 11: not UTF-8: byte\(s\) e9 at column 9"):
        read_pb(path)
    assert main([str(path), "--rule", "greedy", "--no-progress"]) == 1
    assert "line 11: not UTF-8" in capsys.readouterr().err


def test_a_file_with_fewer_votes_than_announced_warns(tmp_path, capsys):
    path = tmp_path / "cut.pb"
    path.write_text(pb_text(num_votes=6))
    election = read_pb(path)
    assert election.profile.num_voters == 4
    assert election.warnings == ("META num_votes is 6 but the file has 4 votes (is the file complete?)",)
    assert main([str(path), "--rule", "greedy", "--no-progress"]) == 0
    assert "warning: cut.pb: META num_votes is 6 but the file has 4 votes" in capsys.readouterr().err
    assert read_pb(pb_text()).warnings == ()


def test_a_completion_given_to_a_rule_without_one_is_refused(tmp_path, capsys):
    path = tmp_path / "small.pb"
    path.write_text(pb_text())
    with pytest.raises(SystemExit) as exited:
        main([str(path), "--rule", "greedy", "--completion", "add1"])
    assert exited.value.code == 2
    assert "--completion add1 applies to rule mes only" in capsys.readouterr().err
    with pytest.raises(ValueError, match="applies to rule mes only"):
        parse_rule_spec("greedy:add1")
    # with --compare the completion goes to the mes specs
    assert main([str(path), "--compare", "greedy,mes", "--completion", "add1", "--json", "--no-progress"]) == 0
    results = json.loads(capsys.readouterr().out)["results"]
    assert [r["spec"] for r in results] == ["greedy", "mes:add1"]
