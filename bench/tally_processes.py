"""Whole processes, side by side: ``pb tally FILE --rule R`` against a pabutools script.

What a user waits for is the whole process: interpreter start-up, imports, reading
the file, the rule, the output. For each file and rule this starts

- ours: the ``pb`` console script of this virtualenv, ``pb tally FILE --rule SPEC
  --json --no-progress`` (output read and checked);
- pabutools 1.2.3: a fresh interpreter running ``parse_pabulib`` +
  ``as_multiprofile()`` + the rule (the reference pipeline of bench/conformance.py;
  the script imports nothing of ours);
- the baseline ``python -c pass`` (same interpreter and site-packages).

and records each process's wall time and CPU time (user + system, from ``wait4``),
median of ``--repeat`` runs for ours and the baseline, ``--pabutools-repeat`` for
pabutools (default 1: 20 s to 11 min each). Both sides' winners are compared.
The load average before and after is printed: the machine is shared, so compare the
ratios of one run, and prefer CPU time when the load is high.

Our package's bytecode is compiled first (``compileall``), as an installed package's is:
pip compiles a wheel's modules at install time, and so it did pabutools' here, but this
editable checkout runs under ``PYTHONDONTWRITEBYTECODE=1`` on the bench machines, where
every ``pb tally`` process would otherwise recompile our modules from source (about
0.03 s of CPU, more than a small tally).

For a small file the target is ``pb tally`` within 1.5x of ``python -c pass`` plus
parsing (``load()`` in-process, median of ``--repeat``). ``python -c 'import fractions'``
is timed too, for information: the floor of an exact tally on ``Fraction``, which the
small-electorate path no longer imports (``pb.tally.rational``).

Usage::

    python bench/tally_processes.py --shared ../shared/pabulib
    python bench/tally_processes.py --pabutools-only --json pabu.json      # the slow half, once
    python bench/tally_processes.py --pabutools-from pabu.json --json all.json
    python bench/tally_processes.py --rules greedy,mes --repeat 9 --no-pabutools
    python bench/tally_processes.py --pabutools-from lodz.json --pabutools-live greedy,mes,phragmen
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared" / "pabulib"
LARGE = ("Poland_Lodz_2023.pb", "Poland_Warszawa_2026.pb")
SMALL = "Poland_Warszawa_2019_subunit_Wawer.pb"  # 287 voters, 6 projects
BIN = Path(sys.executable).parent
# rule -> (our rule spec, pabutools call on (instance, multiprofile))
RULES = {
    "greedy": ("greedy", "greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)"),
    "mes": ("mes", "method_of_equal_shares(instance, profile, sat_class=Cost_Sat)"),
    "phragmen": ("phragmen", "sequential_phragmen(instance, profile)"),
    "mes_add1_greedy": ("mes:add1_greedy", "completion_by_rule_combination(instance, profile, "
                        "[method_of_equal_shares, greedy_utilitarian_welfare], "
                        "[{'sat_class': Cost_Sat, 'voter_budget_increment': 1}, {'sat_class': Cost_Sat}])"),
}
PABUTOOLS_SCRIPT = """
import json, sys
from pabutools.election import Cost_Sat, parse_pabulib
from pabutools.rules import (completion_by_rule_combination, greedy_utilitarian_welfare,
                             method_of_equal_shares, sequential_phragmen)
instance, profile = parse_pabulib(sys.argv[1])
profile = profile.as_multiprofile()
outcome = {call}
print(json.dumps(sorted(p.name for p in outcome)))
"""


def run_process(argv: list[str]) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process, its stdout) of one process run to its end."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    out, err = process.stdout.read(), process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    process.stdout.close()
    process.stderr.close()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({process.returncode}): {err.decode()[-400:]}")
    return wall, usage.ru_utime + usage.ru_stime, out.decode()


def median_runs(argv: list[str], repeat: int) -> dict:
    runs = [run_process(argv) for _ in range(repeat)]
    return {"wall": statistics.median(r[0] for r in runs), "cpu": statistics.median(r[1] for r in runs),
            "walls": [round(r[0], 3) for r in runs], "out": runs[-1][2]}


def ours(path: Path, rule: str, repeat: int) -> dict:
    row = median_runs([str(BIN / "pb"), "tally", str(path), "--rule", RULES[rule][0], "--json", "--no-progress"],
                      repeat)
    row["winners"] = sorted(json.loads(row.pop("out"))["results"][0]["winners"])
    return row


def pabutools(path: Path, rule: str, repeat: int) -> dict:
    row = median_runs([sys.executable, "-c", PABUTOOLS_SCRIPT.format(call=RULES[rule][1]), str(path)], repeat)
    row["winners"] = json.loads(row.pop("out"))
    return row


def parse_seconds(path: Path, repeat: int) -> float:
    """Median wall time of ``load()`` in a warm process (what parsing alone costs)."""
    code = ("import sys, time, statistics; from pb.tally.pabulib import load; times = []\n"
            f"for _ in range({repeat}):\n t = time.perf_counter(); load(sys.argv[1]); "
            "times.append(time.perf_counter() - t)\nprint(statistics.median(times))")
    return float(run_process([sys.executable, "-c", code, str(path)])[2])


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--files", nargs="*", default=list(LARGE))
    parser.add_argument("--small", default=SMALL)
    parser.add_argument("--rules", default=",".join(RULES))
    parser.add_argument("--repeat", type=int, default=5, help="runs of ours and of the baseline (median)")
    parser.add_argument("--pabutools-repeat", type=int, default=1)
    parser.add_argument("--no-pabutools", action="store_true")
    parser.add_argument("--pabutools-only", action="store_true")
    parser.add_argument("--pabutools-from", type=Path, help="reuse the pabutools rows of an earlier --json")
    parser.add_argument("--pabutools-live", help="comma-separated rules pabutools runs now (default: every rule "
                        "not reused from --pabutools-from); the others are left out")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)
    rules = [r.strip() for r in args.rules.split(",") if r.strip()]
    earlier = {}
    if args.pabutools_from:
        earlier = {(r["file"], r["rule"]): r["pabutools"] for r in json.loads(args.pabutools_from.read_text())["rows"]
                   if r.get("pabutools")}
    compileall.compile_dir(REPO / "pb", quiet=1)  # as installed: see the module docstring
    report: dict = {"load_before": load_average(), "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                    "rows": []}
    print(f"load average before: {report['load_before']}", flush=True)

    if not args.pabutools_only:
        base = median_runs([sys.executable, "-c", "pass"], args.repeat)
        # for information: the floor of an exact tally on fractions.Fraction (with the re and
        # decimal it imports), which the small path no longer imports (pb.tally.rational)
        floor = median_runs([sys.executable, "-c", "import fractions"], args.repeat)
        small = args.shared / args.small
        parse = parse_seconds(small, args.repeat)
        tiny = {rule: ours(small, rule, args.repeat) for rule in ("greedy", "mes", "phragmen")}
        report["small"] = {"file": args.small, "python_pass": {k: base[k] for k in ("wall", "cpu")},
                           "python_import_fractions": {k: floor[k] for k in ("wall", "cpu")}, "parse": parse,
                           "ours": {rule: {k: row[k] for k in ("wall", "cpu")} for rule, row in tiny.items()}}
        print(f"\nsmall file {args.small}: python -c pass {base['wall']:.3f} s wall / {base['cpu']:.3f} s CPU, "
              f"load() {parse:.4f} s; target pb tally <= {1.5 * (base['wall'] + parse):.3f} s wall; "
              f"python -c 'import fractions' {floor['wall']:.3f} s wall / {floor['cpu']:.3f} s CPU "
              f"({floor['cpu'] / base['cpu']:.2f}x of pass)")
        for rule, row in tiny.items():
            print(f"  pb tally --rule {rule}: {row['wall']:.3f} s wall ({row['wall'] / (base['wall'] + parse):.2f}x "
                  f"of pass + parse), {row['cpu']:.3f} s CPU ({row['cpu'] / (base['cpu'] + parse):.2f}x)")

    print("\n| file | rule | ours wall | ours CPU | pabutools wall | pabutools CPU | ratio wall | ratio CPU | same |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
    for name in args.files:
        path = args.shared / name
        for rule in rules:
            row: dict = {"file": name, "rule": rule}
            live = args.pabutools_live is None or rule in args.pabutools_live.split(",")
            if not args.no_pabutools and ((name, rule) in earlier or live):
                row["pabutools"] = earlier.get((name, rule)) or pabutools(path, rule, args.pabutools_repeat)
            if not args.pabutools_only:
                row["ours"] = ours(path, rule, args.repeat)
            report["rows"].append(row)
            o, p = row.get("ours"), row.get("pabutools")
            cells = [f"{o['wall']:.2f}", f"{o['cpu']:.2f}"] if o else ["–", "–"]
            cells += [f"{p['wall']:.2f}", f"{p['cpu']:.2f}"] if p else ["–", "–"]
            if o and p:
                cells += [f"{p['wall'] / o['wall']:.0f}x", f"{p['cpu'] / o['cpu']:.0f}x",
                          "yes" if o["winners"] == p["winners"] else "NO"]
            else:
                cells += ["–", "–", "–"]
            print(f"| {name.removesuffix('.pb')} | {rule} | " + " | ".join(cells) + " |", flush=True)
    report["load_after"] = load_average()
    print(f"\nload average after: {report['load_after']}; ours: median of {args.repeat} runs "
          f"(walls listed in --json), pabutools: median of {args.pabutools_repeat}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
