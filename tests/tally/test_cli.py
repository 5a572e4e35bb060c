"""``pb tally`` (pb.tally.cli.main): JSON output checked against tally() and pabutools."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from pb.tally import tally
from pb.tally.cli import main, parse_rule_spec, result_to_json, to_json
from pb.tally.pabulib import load, parse_number

from pabulib_files import DATA

REPO = Path(__file__).resolve().parents[2]
# approval, 1,381 voters, 17 projects: quick for every rule, in pabutools too
SMALL = DATA / "Poland_Warszawa_2026_Nadwisle_Miedzeszyn_Aleksandrow_Falenica.pb"
CUMULATIVE = DATA / "Poland_Czestochowa_2020.pb"


@pytest.fixture(scope="module")
def small():
    assert SMALL.is_file(), f"committed Pabulib file missing: {SMALL}"
    return load(SMALL)


def run_json(capsys, *argv) -> dict:
    assert main([str(argv[0]), *argv[1:], "--json", "--no-progress"]) == 0
    return json.loads(capsys.readouterr().out)


def pabutools_winners(path: Path, rule: str, **options) -> set[str]:
    from pabutools.election import Cardinality_Sat, Cost_Sat, parse_pabulib
    from pabutools.rules import (
        greedy_utilitarian_welfare,
        method_of_equal_shares,
        sequential_phragmen,
    )

    instance, profile = parse_pabulib(str(path))
    profile = profile.as_multiprofile()
    sat = {"cost": Cost_Sat, "cardinality": Cardinality_Sat}[options.get("satisfaction", "cost")]
    if rule == "greedy":
        outcome = greedy_utilitarian_welfare(instance, profile, sat_class=sat)
    elif rule == "mes":
        outcome = method_of_equal_shares(instance, profile, sat_class=sat)
    else:
        outcome = sequential_phragmen(instance, profile)
    return {project.name for project in outcome}


@pytest.mark.parametrize(
    "argv, rule, options",
    [
        (["--rule", "greedy"], "greedy", {}),
        (["--rule", "greedy", "--satisfaction", "cardinality"], "greedy", {"satisfaction": "cardinality"}),
        (["--rule", "mes"], "mes", {}),
        (["--rule", "phragmen"], "phragmen", {}),
    ],
)
def test_json_output_equals_tally_and_pabutools(capsys, small, argv, rule, options):
    document = run_json(capsys, SMALL, *argv)
    instance, profile = small
    expected = tally(instance, profile, rule, **options)
    assert document["voters"] == profile.num_voters
    assert document["vote_type"] == "approval"
    [result] = document["results"]
    assert {k: v for k, v in result.items() if k not in ("spec", "seconds")} == result_to_json(expected)
    assert result["winners"] == list(expected.winners)
    assert set(result["winners"]) == pabutools_winners(SMALL, rule, **options)


def test_json_output_of_mes_with_add1_greedy_matches_pabutools(capsys, small):
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import completion_by_rule_combination, greedy_utilitarian_welfare, method_of_equal_shares

    document = run_json(capsys, SMALL, "--rule", "mes:add1_greedy")
    [result] = document["results"]
    assert result["spec"] == "mes:add1_greedy"
    assert result["options"]["completion"] == "add1_greedy"
    instance, profile = parse_pabulib(str(SMALL))
    outcome = completion_by_rule_combination(
        instance,
        profile.as_multiprofile(),
        [method_of_equal_shares, greedy_utilitarian_welfare],
        [{"sat_class": Cost_Sat, "voter_budget_increment": 1}, {"sat_class": Cost_Sat}],
    )
    assert set(result["winners"]) == {p.name for p in outcome}
    spent = parse_number(str(result["spent"]))
    assert spent == sum(p.cost for p in outcome)


def test_json_figures_are_exact(capsys, small):
    document = run_json(capsys, SMALL, "--rule", "mes")
    [result] = document["results"]
    instance, profile = small
    expected = tally(instance, profile, "mes")
    per_voter = expected.options["budget_per_voter"]
    assert isinstance(per_voter, Fraction)
    assert parse_number(result["options"]["budget_per_voter"]) == per_voter
    for pid, outcome in expected.outcomes.items():
        figures = result["outcomes"][pid]["figures"]
        for key, value in outcome.figures.items():
            if isinstance(value, Fraction):
                assert isinstance(figures[key], str)
                assert parse_number(figures[key]) == value


def test_compare_runs_every_spec(capsys, small):
    document = run_json(capsys, SMALL, "--compare", "greedy,greedy:cardinality,mes:add1,max_welfare")
    assert [r["spec"] for r in document["results"]] == ["greedy", "greedy:cardinality", "mes:add1", "max_welfare"]
    instance, profile = small
    assert document["results"][3]["winners"] == list(tally(instance, profile, "max_welfare").winners)


def test_compare_text_shows_rules_side_by_side(capsys):
    assert main([str(SMALL), "--compare", "greedy,phragmen", "--no-progress"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("project"))
    assert "greedy" in header and "phragmen" in header
    assert "winners" in out and "spent" in out


def test_text_output_lists_winners_and_reasons(capsys, small):
    assert main([str(SMALL), "--rule", "greedy", "--no-progress"]) == 0
    out = capsys.readouterr().out
    instance, profile = small
    result = tally(instance, profile, "greedy")
    assert f"{len(result.winners)} winners" in out
    for pid, outcome in result.outcomes.items():
        assert any(line.split()[:3] == ["+" if outcome.selected else "-", pid, outcome.reason] for line in out.splitlines())


def test_cumulative_file_with_points_satisfaction(capsys):
    document = run_json(capsys, CUMULATIVE, "--rule", "greedy:points")
    instance, profile = load(CUMULATIVE)
    assert document["vote_type"] == "cumulative"
    assert document["results"][0]["winners"] == list(tally(instance, profile, "greedy", satisfaction="points").winners)


def test_tie_break_chain_is_passed_on(capsys, small):
    document = run_json(capsys, SMALL, "--rule", "greedy", "--tie-break", "min_cost,lexico")
    assert document["results"][0]["options"]["tie_break"] == ["min_cost", "lexico"]


def test_errors(capsys, tmp_path):
    assert main([str(tmp_path / "missing.pb"), "--rule", "greedy", "--no-progress"]) == 1
    assert "cannot read" in capsys.readouterr().err
    bad = tmp_path / "bad.pb"
    bad.write_text("META\nkey;value\nbudget;1\nvote_type;approval\nPROJECTS\nproject_id;cost\n1;1\nVOTES\nvoter_id;vote\n1;2\n")
    assert main([str(bad), "--rule", "greedy", "--no-progress"]) == 1
    assert "line 10: unknown project id '2'" in capsys.readouterr().err
    for argv in (["--rule", "nope"], ["--rule", "greedy", "--tie-break", "coin"], ["--compare", "mes:foo"], []):
        with pytest.raises(SystemExit) as exit_info:
            main([str(SMALL), *argv])
        assert exit_info.value.code == 2
    assert main([str(SMALL), "--rule", "phragmen", "--satisfaction", "cardinality", "--no-progress"]) == 1


def test_rule_specs():
    assert parse_rule_spec("mes:add1_greedy").completion == "add1_greedy"
    assert parse_rule_spec("greedy:cardinality").satisfaction == "cardinality"
    spec = parse_rule_spec("mes:points:budget_increase")
    assert (spec.rule, spec.satisfaction, spec.completion) == ("mes", "points", "budget_increase")
    assert parse_rule_spec("mes", completion="add1").completion == "add1"
    assert parse_rule_spec("greedy", completion="add1").completion == "none"
    assert parse_rule_spec("mes:add1").label == "mes:add1"
    with pytest.raises(ValueError):
        parse_rule_spec("mes:add1:add1")


def test_to_json_exact_strings():
    assert to_json({"a": Fraction(1, 3), "b": (Fraction(5, 4), 2)}) == {"a": "1/3", "b": ["1.25", 2]}


def test_python_dash_m_entry_point():
    completed = subprocess.run(
        [sys.executable, "-m", "pb.tally", str(SMALL), "--rule", "greedy", "--json", "--no-progress"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["results"][0]["rule"] == "greedy"


QUICK_LINES = [
    ["f.pb", "--rule", "greedy"],
    ["f.pb", "--rule=mes:add1_greedy", "--json", "--no-progress"],
    ["--rule", "phragmen", "f.pb", "--tie-break", "min_cost,lexico"],
    ["f.pb", "--compare", "greedy,mes", "--satisfaction", "cardinality", "--completion", "add1"],
    ["f.pb", "--rule", "greedy", "--threshold", "3.5", "--stop-at-first-misfit", "--seed", "abc"],
    ["f.pb", "--rule", "mes", "--seed", ""],
    ["f.pb", "--rule", "mes", "--satisfaction=points", "--tie-break=lottery", "--seed=s"],
]
ARGPARSE_LINES = [  # quick_parse leaves these to argparse (an error, help, or an unusual spelling)
    [], ["f.pb"], ["f.pb", "g.pb", "--rule", "greedy"], ["f.pb", "--rule", "greedy", "--compare", "mes"],
    ["f.pb", "--rule"], ["f.pb", "--rul", "greedy"], ["f.pb", "--rule", "greedy", "--rule", "mes"],
    ["f.pb", "--rule", "greedy", "--json=yes"], ["f.pb", "--rule", "greedy", "--satisfaction", "joy"],
    ["f.pb", "--rule", "greedy", "--threshold", "-1"], ["-", "--rule", "greedy"], ["f.pb", "--rule", "greedy", "--"],
    ["f.pb", "--rule", "greedy", "-h"], ["f.pb", "--rule", "greedy", "--completion", "add2"],
]


def test_quick_parse_reads_plain_command_lines_as_argparse_does():
    """Invariant: whatever quick_parse accepts, argparse reads to the same values; what it
    does not accept goes to argparse (which then parses it or reports the error)."""
    from pb.tally.cli import build_parser, quick_parse

    parser = build_parser()
    for argv in QUICK_LINES:
        quick = quick_parse(argv)
        assert quick is not None, argv
        assert vars(quick) == vars(parser.parse_args(argv)), argv
    for argv in ARGPARSE_LINES:
        assert quick_parse(argv) is None, argv


def test_errors_found_after_quick_parse_are_reported_as_argparse_reports_them(capsys):
    with pytest.raises(SystemExit) as stopped:
        main([str(SMALL), "--rule", "greedy", "--tie-break", "nope", "--no-progress"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: pb tally") and "--tie-break: unknown tie-breaker(s) ['nope']" in err
