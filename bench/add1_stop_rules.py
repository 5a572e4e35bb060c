"""The two Add1 stop rules on real elections, and the official Equal Shares outcomes.

pabutools' Add1 (``completion="add1"``) stops at the first exhaustive outcome;
Pabulib's and equalshares.net's (``completion="add1_last_feasible"``) only before
the first outcome that overspends. For every shared file (smallest first) this runs
both, each file in a forked child under a CPU limit, and prints:

- every file whose META ``rule`` is an Equal Shares rule (``equalshares...``), with
  the projects its PROJECTS ``selected`` column marks as funded, and whether each
  stop rule (with and without the greedy completion) reproduces that outcome;
- how many files were run, on how many the two stop rules give different winners,
  and the smallest of those (candidates for test fixtures).

Usage::

    python bench/add1_stop_rules.py                       # every file, 60 s CPU each
    python bench/add1_stop_rules.py --max-voters 2000 --timeout 20 --out stops.jsonl
    python bench/add1_stop_rules.py --official-only        # only the equalshares files
"""

from __future__ import annotations

import argparse
import csv
import json
from concurrent.futures import ThreadPoolExecutor
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench_common import run_forked  # noqa: E402

DEFAULT_SHARED = REPO.parent / "shared" / "pabulib"
COMPLETIONS = ("add1", "add1_last_feasible", "add1_greedy", "add1_last_feasible_greedy")


def outcomes(path: str, completions: tuple[str, ...]) -> dict:
    """Winners of each completion on one file, plus its official outcome if it has one."""
    from pb.tally import tally
    from pb.tally.pabulib import load

    instance, profile = load(path)
    row: dict = {"voters": profile.num_voters, "projects": len(instance.projects),
                 "rule": instance.meta.get("rule", "").strip(), "winners": {}, "iterations": {}}
    if row["rule"].startswith("equalshares"):
        row["selected"] = sorted(pid for pid, p in instance.projects.items() if p.extra.get("selected", "").strip() == "1")
    for how in completions:
        result = tally(instance, profile, "mes", completion=how)
        row["winners"][how] = sorted(result.winners)
        row["iterations"][how] = result.options.get("iterations")
    return row


def shared_files(shared: Path, max_voters: int | None, official_only: bool) -> list[tuple[str, int, str]]:
    """(file, voters, META rule) from the shared index, smallest first."""
    with open(shared / "index.csv", newline="", encoding="utf-8") as handle:
        rows = [(r["file"], int(r["num_votes"]), int(r["num_projects"]), r["meta_rule"]) for r in csv.DictReader(handle)]
    rows = [r for r in rows if max_voters is None or r[1] <= max_voters]
    if official_only:
        rows = [r for r in rows if r[3].startswith("equalshares")]
    rows.sort(key=lambda r: (r[1] * r[2], r[0]))
    return [(name, voters, rule) for name, voters, _, rule in rows]


def _job(args: tuple[str, float, tuple[str, ...]]) -> dict:
    path, timeout, completions = args
    status, value, seconds = run_forked(outcomes, (path, completions), timeout)
    row = value if status == "ok" else {"error": value}
    row.update(file=os.path.basename(path), status=status, seconds=round(seconds, 2))
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--timeout", type=float, default=60.0, help="CPU seconds per file (all four completions)")
    parser.add_argument("--max-voters", type=int)
    parser.add_argument("--official-only", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, help="write one JSON line per file")
    args = parser.parse_args(argv)

    files = shared_files(args.shared, args.max_voters, args.official_only)
    jobs = [(str(args.shared / name), args.timeout, COMPLETIONS) for name, _, _ in files]
    started = time.perf_counter()
    rows = []
    out = open(args.out, "w", encoding="utf-8") if args.out else None
    with ThreadPoolExecutor(args.workers) as pool:  # each job is a forked child
        for row in pool.map(_job, jobs):
            rows.append(row)
            if out:
                out.write(json.dumps(row) + "\n")
                out.flush()
    if out:
        out.close()

    done = [r for r in rows if r["status"] == "ok"]
    differ = [r for r in done if r["winners"]["add1"] != r["winners"]["add1_last_feasible"]]
    differ_greedy = [r for r in done if r["winners"]["add1_greedy"] != r["winners"]["add1_last_feasible_greedy"]]
    print(f"{len(rows)} files, {len(done)} done, {len(rows) - len(done)} timeout/error "
          f"({time.perf_counter() - started:.0f} s wall, {args.workers} workers)")
    print(f"winners differ: add1 vs add1_last_feasible on {len(differ)} files, "
          f"add1_greedy vs add1_last_feasible_greedy on {len(differ_greedy)}")
    print("\nofficial Equal Shares outcomes (PROJECTS selected column):")
    print("| file | voters | rule | " + " | ".join(COMPLETIONS) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in COMPLETIONS) + " |")
    for r in rows:
        if "selected" not in r:
            continue
        cells = ["yes" if r["winners"][how] == r["selected"] else "no" for how in COMPLETIONS]
        print(f"| {r['file']} | {r['voters']} | {r['rule']} | " + " | ".join(cells) + " |")
    print("\nsmallest files where the stop rules differ (voters x projects):")
    for r in sorted(differ, key=lambda r: r["voters"] * r["projects"])[:15]:
        only_first = sorted(set(r["winners"]["add1"]) - set(r["winners"]["add1_last_feasible"]))
        only_last = sorted(set(r["winners"]["add1_last_feasible"]) - set(r["winners"]["add1"]))
        print(f"  {r['file']}: {r['voters']} voters, {r['projects']} projects; add1 only {only_first}, "
              f"last_feasible only {only_last}; iterations {r['iterations']['add1']} / "
              f"{r['iterations']['add1_last_feasible']}")
    for r in rows:
        if r["status"] != "ok":
            print(f"  {r['status']}: {r['file']}: {r.get('error')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
