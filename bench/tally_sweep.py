"""Full sweep: every shared Pabulib file through our reader and every rule.

For each file (in a pool of ``--workers`` processes, default 2): ``load`` once,
then each rule of the sweep (greedy / MES / max welfare with cost and
cardinality satisfaction, MES with add-one, add-one + greedy and budget
increase, sequential Phragmén; on cumulative files also greedy and MES with
points). Prints the total time per rule, the slowest file of each rule, any
error, and the wall time of the whole sweep.

Usage::

    python bench/tally_sweep.py                   # all files, all rules
    python bench/tally_sweep.py --rules greedy_cost,mes_cost --out sweep.jsonl
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pb.tally.pabulib import load  # noqa: E402

DEFAULT_SHARED = REPO.parent / "shared" / "pabulib"

SWEEP = {
    "greedy_cost": ("greedy", {}),
    "greedy_card": ("greedy", {"satisfaction": "cardinality"}),
    "mes_cost": ("mes", {}),
    "mes_cost_add1": ("mes", {"completion": "add1"}),
    "mes_cost_add1_greedy": ("mes", {"completion": "add1_greedy"}),
    "mes_cost_budget_increase": ("mes", {"completion": "budget_increase"}),
    "seq_phragmen": ("phragmen", {}),
    "max_welfare_cost": ("max_welfare", {}),
    "max_welfare_card": ("max_welfare", {"satisfaction": "cardinality"}),
    "greedy_points": ("greedy", {"satisfaction": "points"}),
    "mes_points": ("mes", {"satisfaction": "points"}),
}
POINTS_ONLY = {"greedy_points", "mes_points"}


def sweep_file(job: tuple[str, list[str]]) -> dict:
    from pb.tally import tally

    path, rules = job
    row: dict = {"file": os.path.basename(path), "times": {}, "errors": {}}
    t0 = time.process_time()  # CPU seconds of this worker: a loaded machine does not inflate them
    try:
        instance, profile = load(path)
    except Exception as error:
        row["errors"]["parse"] = f"{type(error).__name__}: {error}"
        return row
    row["parse"] = time.process_time() - t0
    row["voters"] = profile.num_voters
    for name in rules:
        if name in POINTS_ONLY and profile.kind != "cumulative":
            continue
        rule, options = SWEEP[name]
        t0 = time.process_time()
        try:
            tally(instance, profile, rule, **options)
        except Exception as error:
            row["errors"][name] = f"{type(error).__name__}: {error}"
            continue
        row["times"][name] = time.process_time() - t0
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--rules", default=",".join(SWEEP), help=f"from {', '.join(SWEEP)}")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, help="write one JSON line per file")
    args = parser.parse_args(argv)
    rules = [r.strip() for r in args.rules.split(",") if r.strip()]
    unknown = [r for r in rules if r not in SWEEP]
    if unknown:
        parser.error(f"unknown rule(s) {unknown}")
    files = sorted(args.shared.glob("*.pb"), key=lambda p: p.stat().st_size, reverse=True)
    import pb.tally  # noqa: F401  (import once, before the workers fork)

    started = time.perf_counter()
    rows = []
    ctx = multiprocessing.get_context("fork")
    out = open(args.out, "w", encoding="utf-8") if args.out else None
    try:
        with ctx.Pool(args.workers) as pool:
            for number, row in enumerate(pool.imap_unordered(sweep_file, [(str(f), rules) for f in files]), 1):
                rows.append(row)
                if out:  # as it comes: a stopped sweep keeps what it measured
                    out.write(json.dumps(row) + "\n")
                    out.flush()
                if number % 25 == 0:
                    sys.stderr.write(f"[{number}/{len(files)} {time.perf_counter() - started:.0f}s]\n")
                    sys.stderr.flush()
    finally:
        if out:
            out.close()
    wall = time.perf_counter() - started

    cpu = sum(row.get("parse", 0) + sum(row["times"].values()) for row in rows)
    print(f"{len(files)} files, {args.workers} workers, wall time {wall:.1f} s, CPU time of the work {cpu:.1f} s")
    parse_total = sum(row.get("parse", 0) for row in rows)
    print(f"{'parse':<26} {'files':>5} {parse_total:9.1f} s total")
    for name in rules:
        timed = [(row["times"][name], row["file"]) for row in rows if name in row["times"]]
        if not timed:
            continue
        total = sum(t for t, _ in timed)
        slowest = max(timed)
        print(f"{name:<26} {len(timed):>5} {total:9.1f} s total, slowest {slowest[0]:.1f} s ({slowest[1]})")
    errors = [(row["file"], key, value) for row in rows for key, value in row["errors"].items()]
    for file, key, value in errors:
        print(f"ERROR {file} {key}: {value}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
