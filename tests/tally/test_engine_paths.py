"""The two engine paths: a small electorate is tallied in plain Python with Fraction (so
``pb tally`` on a small file imports neither numpy nor gmpy2: start-up), a large one with
numpy tables and gmpy2's mpq. Both must give identical results, explanations included."""

from __future__ import annotations

from pathlib import Path

import pytest

from pb.tally import numbers, tally
from pb.tally.pabulib import load
from test_startup import run_console

DATA = Path(__file__).parent / "data"
# Every fixture file but the two largest (600 and 470 kB): on those, 11 rules on the Fraction path
# take minutes and add nothing the smaller files with the same formats do not already compare.
FILES = sorted(p for p in DATA.rglob("*.pb") if p.stat().st_size < 100_000)
SMALL_FILE = DATA / "add1" / "Netherlands_Assen_2024.pb"  # 84 voters, 67 distinct ballots
LARGE_FILE = DATA / "add1" / "Poland_Swiecie_2023.pb"  # 2,553 voters, 695 distinct ballots
RULES = [("greedy", {}), ("greedy", {"satisfaction": "cardinality"}), ("mes", {}),
         ("mes", {"satisfaction": "cardinality"}), ("mes", {"completion": "add1"}),
         ("mes", {"completion": "add1_greedy"}), ("mes", {"completion": "add1_last_feasible"}),
         ("mes", {"completion": "budget_increase"}), ("phragmen", {}), ("max_welfare", {}),
         ("max_welfare", {"satisfaction": "cardinality"})]
ENGINE_MODULES = ("numpy", "gmpy2")


def _on_path(monkeypatch, small: bool, path: Path, rule: str, options: dict):
    limit = 10**12 if small else -1
    monkeypatch.setattr(numbers, "SMALL_GROUPS", limit)
    monkeypatch.setattr(numbers, "SMALL_GROUPS_ITERATED", limit)
    instance, profile = load(path)  # the reader groups by numpy only on the large path
    return tally(instance, profile, rule, **options)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_small_and_large_paths_give_identical_results(monkeypatch, path):
    """Invariant: every rule gives the same winners, figures and explanations (exact
    numbers compared as numbers) on the plain-Python/Fraction path and the numpy/mpq path."""
    winners = 0
    for rule, options in RULES:
        small = _on_path(monkeypatch, True, path, rule, options)
        large = _on_path(monkeypatch, False, path, rule, options)
        assert small == large, (rule, options)
        winners += len(small.winners)
    assert winners, "a file on which no rule selects anything compares nothing"  # plain MES may select none


def test_pb_tally_on_a_small_file_imports_neither_numpy_nor_gmpy2():
    for rule in ("greedy", "mes", "mes:add1_greedy", "phragmen", "max_welfare"):
        report, out = run_console("tally", str(SMALL_FILE), "--rule", rule, "--no-progress",
                                  modules=ENGINE_MODULES)
        assert report == {"code": 0, "heavy": []}, rule
        assert "winners" in out


def test_pb_tally_on_a_larger_electorate_takes_the_numpy_path():
    """The other side of the threshold: MES add-one on 695 distinct ballots reruns MES many
    times, where numpy and mpq pay for their import."""
    report, out = run_console("tally", str(LARGE_FILE), "--rule", "mes:add1", "--no-progress",
                              modules=ENGINE_MODULES)
    assert report == {"code": 0, "heavy": list(ENGINE_MODULES)}
    assert "winners" in out
