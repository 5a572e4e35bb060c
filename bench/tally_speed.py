"""Speed and memory of pb.tally against pabutools 1.2.3 on large real elections.

Three measurements:

1. **Pipeline** (default files ``Poland_Lodz_2023.pb`` and ``Poland_Warszawa_2026.pb``):
   the whole pipeline from the file to the winners, ours (``load`` + ``tally``)
   vs pabutools (``parse_pabulib`` + ``as_multiprofile()`` + the rule, as in the
   reference run), for greedy (cost), sequential Phragmén, MES + add-one +
   greedy and MES + budget increase. Every run is a fresh interpreter (spawned); pabutools
   is stopped at ``--timeout`` CPU seconds (reported as ``> N s``).

All times are CPU seconds of the process doing the work (``time.process_time``),
so that figures taken on a shared, loaded machine still compare the two
implementations fairly; on an idle machine they equal wall times.
2. **Parse**: our reader (``load``, and ``read_pb`` keeping the voter list) vs
   reading the same file with the ``csv`` module into a list of rows, best of
   ``--repeat`` runs.
3. **Memory** (``--memory``): for every shared file, in a forked child, the
   tracemalloc peak of ``load`` alone and of ``load`` + greedy + MES + Phragmén;
   prints the largest ones and the maximum.

Usage::

    python bench/tally_speed.py                      # pipeline + parse on the two default files
    python bench/tally_speed.py --timeout 300 --rules greedy,phragmen
    python bench/tally_speed.py --memory             # also memory over all shared files
    python bench/tally_speed.py --files Poland_Lodz_2024.pb --no-pabutools
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for folder in (REPO, REPO / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from bench_common import run_forked  # noqa: E402
from pb.tally.pabulib import load, read_pb  # noqa: E402

DEFAULT_SHARED = REPO.parent / "shared" / "pabulib"
DEFAULT_FILES = ("Poland_Lodz_2023.pb", "Poland_Warszawa_2026.pb")

# name -> (our tally() options, conformance rule name for the pabutools call)
PIPELINES = {
    "greedy": ({"rule": "greedy"}, "greedy_cost"),
    "phragmen": ({"rule": "phragmen"}, "seq_phragmen"),
    "mes_add1_greedy": ({"rule": "mes", "completion": "add1_greedy"}, "mes_cost_add1_greedy"),
    "mes_budget_increase": ({"rule": "mes", "completion": "budget_increase"}, "mes_cost_budget_increase"),
}


def _ours_pipeline(path: str, options: dict) -> dict:
    from pb.tally import tally

    options = dict(options)
    rule = options.pop("rule")
    t0 = time.process_time()
    instance, profile = load(path)
    t1 = time.process_time()
    result = tally(instance, profile, rule, **options)
    t2 = time.process_time()
    return {"parse": t1 - t0, "rule": t2 - t1, "winners": sorted(result.winners)}


def _pabutools_pipeline(path: str, rule_name: str) -> dict:
    from conformance import pabutools_call, pabutools_parse

    t0 = time.process_time()
    instance, profile, approval = pabutools_parse(path)
    t1 = time.process_time()
    outcome = pabutools_call(rule_name, instance, profile, approval)
    t2 = time.process_time()
    return {"parse": t1 - t0, "rule": t2 - t1, "winners": sorted(p.name for p in outcome)}


def _pabutools_parse_only(path: str) -> float:
    from conformance import pabutools_parse

    t0 = time.process_time()
    pabutools_parse(path)
    return time.process_time() - t0


def best_of(repeat: int, function, *args) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        function(*args)
        best = min(best, time.process_time() - t0)
    return best


def csv_read(path: str) -> list:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle, delimiter=";"))


def parse_table(files: list[Path], repeat: int, pabutools: bool) -> list[dict]:
    rows = []
    for path in files:
        row = {
            "file": path.name,
            "mb": round(path.stat().st_size / 1e6, 1),
            "csv": best_of(repeat, csv_read, str(path)),
            "load": best_of(repeat, load, str(path)),
            "read_pb_voters": best_of(repeat, read_pb, str(path)),
        }
        if pabutools:
            status, value, _ = run_forked(_pabutools_parse_only, (str(path),), 600)
            row["pabutools"] = value if status == "ok" else None
        rows.append(row)
    return rows


def pipeline_table(files: list[Path], rules: list[str], timeout: float, pabutools: bool,
                   ours: bool = True, reuse: dict | None = None, ours_repeat: int = 1) -> list[dict]:
    """One row per (file, rule). ``reuse`` maps (file, rule) to a pabutools row of an
    earlier ``--json`` report (``--pabutools-from``): its figures are used, not re-measured."""
    rows = []
    reuse = reuse or {}
    for path in files:
        for name in rules:
            options, pabu_rule = PIPELINES[name]
            row: dict = {"file": path.name, "rule": name}
            value = None
            if ours:
                # best of ``ours_repeat`` fresh processes: the machine's noise only ever adds time
                runs = [run_forked(_ours_pipeline, (str(path), options), 3600, fresh=True)
                        for _ in range(ours_repeat)]
                good = [run for run in runs if run[0] == "ok"]
                status, value, seconds = min(good, key=lambda run: run[2]) if good else runs[0]
                row["ours"] = seconds if status == "ok" else None
                row["ours_runs"] = [round(run[2], 3) for run in good]
                row["ours_detail"] = value
            if pabutools:
                earlier = reuse.get((path.name, name))
                if earlier is not None:
                    status, pseconds = earlier["pabutools_status"], earlier.get("pabutools")
                    pvalue = {"winners": earlier.get("pabutools_winners")}
                    row["pabutools_reused"] = True
                else:
                    status, pvalue, pseconds = run_forked(
                        _pabutools_pipeline, (str(path), pabu_rule), timeout, fresh=True)
                row["pabutools_status"] = status
                row["pabutools_limit"] = earlier.get("pabutools_limit", timeout) if earlier else timeout
                row["pabutools"] = pseconds if status == "ok" else None
                if status == "ok":
                    row["pabutools_winners"] = pvalue["winners"]
                    if row.get("ours") is not None:
                        row["same_winners"] = pvalue["winners"] == value["winners"]
            rows.append(row)
            _print_pipeline_row(row, timeout)
    return rows


def _print_pipeline_row(row: dict, timeout: float) -> None:
    ours = row.get("ours")
    if "ours" not in row:  # pabutools only
        print(f"{row['file']:<28} {row['rule']:<20} pabutools {row['pabutools_status']} {row.get('pabutools')}")
        sys.stdout.flush()
        return
    detail = row.get("ours_detail") if isinstance(row.get("ours_detail"), dict) else {}
    ours_text = f"{ours:8.2f}" if ours is not None else f"{'error':>8}"
    split = f" (parse {detail.get('parse', 0):.2f} + rule {detail.get('rule', 0):.2f})" if detail else ""
    if "pabutools_status" in row:
        status = row["pabutools_status"]
        if status == "ok":
            pabu_text = f"{row['pabutools']:8.2f}"
            ratio = f"{row['pabutools'] / ours:7.1f}x" if ours else "   -"
        elif status == "timeout":
            limit = row.get("pabutools_limit", timeout)
            pabu_text = f"> {limit:g} s"
            ratio = f"> {limit / ours:.0f}x" if ours else "   -"
        else:
            pabu_text, ratio = "error", "-"
        same = {True: "same winners", False: "DIFFERENT winners"}.get(row.get("same_winners"), "")
        print(f"{row['file']:<28} {row['rule']:<20} ours {ours_text} s{split}  pabutools {pabu_text}  ratio {ratio}  {same}")
    else:
        print(f"{row['file']:<28} {row['rule']:<20} ours {ours_text} s{split}")
    sys.stdout.flush()


def _memory_child(path: str) -> dict:
    from pb.tally import tally

    tracemalloc.start()
    instance, profile = load(path)
    parse_peak = tracemalloc.get_traced_memory()[1]
    for rule in ("greedy", "mes", "phragmen"):
        tally(instance, profile, rule)
    all_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"parse_peak": parse_peak, "rules_peak": all_peak}


def memory_table(files: list[Path], workers: int) -> list[dict]:
    jobs = [str(path) for path in files]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, maxtasksperchild=20) as pool:
        rows = pool.map(_memory_one, jobs, chunksize=4)
    return rows


def _memory_one(path: str) -> dict:
    # pool workers are daemonic: measure in the worker itself (a fresh tracemalloc per file)
    row = {"file": os.path.basename(path), "mb": os.path.getsize(path) / 1e6}
    try:
        row.update(_memory_child(path))
    except Exception as error:
        row["error"] = f"{type(error).__name__}: {error}"
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--files", nargs="+", default=list(DEFAULT_FILES))
    parser.add_argument("--rules", default=",".join(PIPELINES), help=f"from {', '.join(PIPELINES)}")
    parser.add_argument("--timeout", type=float, default=300.0, help="CPU seconds per pabutools pipeline")
    parser.add_argument("--repeat", type=int, default=3, help="parse timings: best of N")
    parser.add_argument("--no-pabutools", action="store_true")
    parser.add_argument("--no-pipeline", action="store_true", help="skip the pipeline timings")
    parser.add_argument("--memory", action="store_true", help="peak memory over all shared files")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write all figures to this JSON file")
    parser.add_argument("--pabutools-only", action="store_true", help="measure pabutools' pipelines only")
    parser.add_argument("--ours-repeat", type=int, default=3, help="our pipeline: best of N fresh processes")
    parser.add_argument(
        "--pabutools-from", type=Path, help="reuse the pabutools pipeline figures of an earlier --json report"
    )
    args = parser.parse_args(argv)

    files = [Path(f) if Path(f).is_file() else args.shared / f for f in args.files]
    import pb.tally  # noqa: F401  (imports are not timed: load them before forking)

    if not args.no_pabutools:
        import conformance  # noqa: F401
        import pabutools.election  # noqa: F401
        import pabutools.rules  # noqa: F401
    rules = [r.strip() for r in args.rules.split(",") if r.strip()]
    report: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    print(f"{report['date']}, {report['cpus']} CPUs, load average {report['load_average'][0]:.1f}")

    reuse: dict = {}
    if args.pabutools_from:
        earlier = json.loads(args.pabutools_from.read_text())
        reuse = {(row["file"], row["rule"]): row for row in earlier.get("pipeline", []) if "pabutools_status" in row}
    print("parse (best of %d, CPU seconds)" % args.repeat)
    report["parse"] = [] if args.pabutools_only else parse_table(files, args.repeat, not args.no_pabutools)
    for row in report["parse"]:
        pabu = f"  pabutools+multiprofile {row['pabutools']:.2f}" if row.get("pabutools") else ""
        print(
            f"{row['file']:<28} {row['mb']:5.1f} MB  csv {row['csv']:.3f}  load {row['load']:.3f} "
            f"({row['load'] / row['csv']:.1f}x csv)  read_pb+voters {row['read_pb_voters']:.3f} "
            f"({row['read_pb_voters'] / row['csv']:.1f}x){pabu}"
        )
    if not args.no_pipeline:
        print("\nwhole pipeline (file -> winners, CPU seconds, fresh process each)")
        report["pipeline"] = pipeline_table(
            files, rules, args.timeout, not args.no_pabutools, ours=not args.pabutools_only, reuse=reuse,
            ours_repeat=args.ours_repeat,
        )
    if args.memory:
        every = sorted(args.shared.glob("*.pb"))
        started = time.perf_counter()
        rows = memory_table(every, args.workers)
        report["memory"] = rows
        report["memory_seconds"] = time.perf_counter() - started
        good = [r for r in rows if "error" not in r]
        print(f"\npeak Python memory (tracemalloc) over {len(good)} files, {len(rows) - len(good)} errors")
        for key in ("parse_peak", "rules_peak"):
            top = sorted(good, key=lambda r: r[key], reverse=True)[:3]
            print(f"  {key}: " + ", ".join(f"{r['file']} {r[key] / 2**20:.1f} MiB" for r in top))
        for r in rows:
            if "error" in r:
                print(f"  ERROR {r['file']}: {r['error']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
