"""Our rules give the same outcomes as pabutools 1.2.3 on a fixed sample of real
Pabulib elections (every rule of bench/conformance.py, default lexicographic
tie-breaking; max welfare compared by welfare value).

The sample mixes vote types (approval, choose-1, cumulative, ordinal), decimal
budgets, and Warsaw-2026 files where a project is listed twice in a vote. It was
chosen so that the whole check, pabutools included, runs in about a minute on
2 cores. The files are committed under tests/tally/data/pabulib (a missing file
fails the test); the full corpus is compared by bench/conformance.py, or here by the
``corpus`` test when PB_PABULIB_CORPUS is set.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import multiprocessing
import sys
from pathlib import Path

import pytest

from pabulib_files import DATA

REPO = Path(__file__).resolve().parents[2]

SAMPLE = [
    # approval
    "Poland_Gdynia_2025_Leszczynki__small.pb",
    "Poland_Gdynia_2022_Karwiny__large.pb",
    "Poland_Gdynia_2023_Srodmiescie__small.pb",
    "Poland_Gdynia_2021_Oksywie__small.pb",
    "Poland_Warszawa_2019_Obszar_4-Zoliborz_Poludniowy.pb",
    "Poland_Warszawa_2018_Miedzeszyn.pb",
    "Poland_Warszawa_2018_Grochow_Polnocny.pb",
    "US_Stanford_Dataset_PB_North_East_San_Fernando_Valley_2021_vote_approvals.pb",
    "Poland_Warszawa_2019_Obszar_3-Marymont-Potok-Zoliborz_Dziennikarski.pb",
    "France_Toulouse_2022_7_-_Sept_Deniers_Ginestous-Sesquieres_Lalande.pb",
    "US_Stanford_Dataset_2023_Youth_Power_PB_LB_vote_approvals.pb",
    # decimal budgets
    "Poland_Warszawa_2017_Przyczolek_Grochowski.pb",
    "Poland_Warszawa_2019_Kamionek.pb",
    "Poland_Warszawa_2019_Grochow_Centrum.pb",
    # a project listed twice in some votes
    "Poland_Warszawa_2026_Kobialka_Grodzisk_Brzeziny.pb",
    "Poland_Warszawa_2026_Blonia_Wilanowskie.pb",
    # choose-1
    "Poland_Zabrze_2020_Osiedle_Tadeusza_Kotarbinskiego.pb",
    "Poland_Poznan_2025_10_-_Swierczewo_Wilda_Zielony_Debiec__small.pb",
    "Poland_Poznan_2025_7-_Morasko-Radojewo_Naramowice_Umultowo__small.pb",
    # cumulative (also greedy / MES with points satisfaction)
    "Poland_Katowice_2023_Zaleze.pb",
    "Poland_Czestochowa_2025_Kiedrzyn.pb",
    "Poland_Katowice_2020_Zaleze.pb",
    "Poland_Czestochowa_2020_Stradom.pb",
    # ordinal (approval projection)
    "Worldwide_Mechanical_Turk_Ranking_value_money_3.pb",
    "US_Stanford_Dataset_Merced_Peoples_Budget_Ballot_2019_vote_rankings.pb",
    "US_Stanford_Dataset_Your_Voice_Your_Choice_Parks_and_Streets-_Seattle_2019_District_5_vote_rankings.pb",
]
PABUTOOLS_TIMEOUT_S = 240.0


def _conformance_module():
    spec = importlib.util.spec_from_file_location("bench_conformance", REPO / "bench" / "conformance.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def records() -> dict[str, list[dict]]:
    missing = [name for name in SAMPLE if not (DATA / name).is_file()]
    assert not missing, f"missing committed Pabulib files: {missing}"
    conformance = _conformance_module()
    rules = list(conformance.RULE_CASES)
    jobs = [(str(DATA / name), rules, PABUTOOLS_TIMEOUT_S, None, None) for name in SAMPLE]
    ctx = multiprocessing.get_context("fork")
    by_file: dict[str, list[dict]] = {}
    with conformance._NonDaemonPool(ctx, 2) as pool:
        for file_records in pool.imap_unordered(conformance._file_worker, jobs):
            for record in file_records:
                by_file.setdefault(record["file"], []).append(record)
    return by_file


@pytest.mark.parametrize("name", SAMPLE)
def test_same_outcomes_as_pabutools(records, name):
    file_records = records.get(name)
    assert file_records, f"no result for {name}"
    problems = [
        f"{r['rule']}: {r['status']} {r.get('detail', '')} ours only {r.get('ours_only')} "
        f"pabutools only {r.get('pabutools_only')}"
        for r in file_records
        if r["status"] != "identical"
    ]
    assert not problems, "\n".join(problems)
    kind = file_records[0]["kind"]
    expected_rules = 11 if kind == "cumulative" else 9
    assert len(file_records) == expected_rules


REFERENCE = REPO / "bench" / "reference" / "pabutools-1.2.3.jsonl.gz"


def recorded_pabutools_outcomes() -> dict[str, dict[str, dict]]:
    """pabutools 1.2.3's outcomes, recorded once on this kind of machine for every corpus file
    it finished (bench/README.md): file -> rule -> winners and seconds."""
    reference: dict[str, dict[str, dict]] = {}
    with gzip.open(REFERENCE, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            if record["status"] == "reference":
                reference.setdefault(record["file"], {})[record["rule"]] = {
                    "winners": record["pabutools"], "seconds": record["pabutools_s"]}
    return reference


def same_outcomes_as_recorded(folder: Path, names: list[str], reference: dict[str, dict[str, dict]]) -> int:
    conformance = _conformance_module()
    compared = 0
    for name in names:
        rules = sorted(reference[name])
        for record in conformance.check_file(str(folder / name), rules, 60.0, None, reference[name]):
            assert record["status"] == "identical", record
            compared += 1
    return compared


def test_same_outcomes_as_recorded_pabutools_on_the_committed_files():
    """Beyond the live sample: every committed file with a recorded outcome, every rule."""
    reference = recorded_pabutools_outcomes()
    names = sorted(name for name in reference if (DATA / name).is_file())
    assert len(names) >= 30
    assert same_outcomes_as_recorded(DATA, names, reference) >= 30 * 8


@pytest.mark.corpus
def test_same_outcomes_as_recorded_pabutools_on_every_20th_corpus_file(pabulib_corpus):
    reference = recorded_pabutools_outcomes()
    names = sorted(reference)[::20]
    assert len(names) >= 55
    assert same_outcomes_as_recorded(pabulib_corpus, names, reference) >= 55 * 8
