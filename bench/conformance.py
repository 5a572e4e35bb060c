"""Conformance of pb.tally with pabutools 1.2.3 on real Pabulib elections.

Every file is parsed by our reader and by ``pabutools.election.parse_pabulib``;
each rule is run by our engine (``pb.tally.tally``) and by the pabutools call
that defines it (see docs: voting-rules.md section 7), all with pabutools'
default lexicographic tie-breaking, and the selected sets are compared
(max welfare: the welfare values, since optimal sets may differ).

pabutools runs on the multiprofile (``profile.as_multiprofile()``, as in the
reference run; outcomes equal the plain profile's). Each pabutools rule call
runs in a forked child stopped after ``--timeout`` CPU seconds (reported as
timeout); ``--workers`` files are processed at once (default 2). Times in the
records are CPU seconds (see bench_common.py).

Usage::

    python bench/conformance.py                       # every shared file, every rule
    python bench/conformance.py --sample 50 --seed 1  # 50 random files
    python bench/conformance.py --files A.pb B.pb --rules greedy_cost,mes_cost
    python bench/conformance.py --max-voters 20000 --timeout 60 --out results.jsonl
    python bench/conformance.py --resume results.jsonl ...   # skip (file, rule) pairs already there
    python bench/conformance.py --reference bench/reference/pabutools-1.2.3.jsonl.gz   # ours only, minutes

Prints a table of identical / different / skipped counts per rule and every
mismatch; exit status 1 if any rule differs (or errors), else 0.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import multiprocessing
import os
import random
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

if str(REPO / "bench") not in sys.path:
    sys.path.insert(0, str(REPO / "bench"))

from bench_common import run_forked  # noqa: E402
from pb.tally.pabulib import load  # noqa: E402

DEFAULT_SHARED = REPO.parent / "shared" / "pabulib"


# ---------------------------------------------------------------- the rules


@dataclass(frozen=True)
class RuleCase:
    """One compared rule: our tally() options and the pabutools call defining it."""

    name: str
    ours: dict
    kinds: tuple[str, ...] | None  # None: every vote type
    compare: str  # "set" or "welfare"
    slow: bool = False  # an iterated MES completion (long in pabutools on big files)


RULE_CASES: dict[str, RuleCase] = {
    case.name: case
    for case in (
        RuleCase("greedy_cost", {"rule": "greedy"}, None, "set"),
        RuleCase("greedy_card", {"rule": "greedy", "satisfaction": "cardinality"}, None, "set"),
        RuleCase("mes_cost", {"rule": "mes"}, None, "set"),
        RuleCase("mes_cost_add1", {"rule": "mes", "completion": "add1"}, None, "set", slow=True),
        RuleCase("mes_cost_add1_greedy", {"rule": "mes", "completion": "add1_greedy"}, None, "set", slow=True),
        RuleCase(
            "mes_cost_budget_increase", {"rule": "mes", "completion": "budget_increase"}, None, "set", slow=True
        ),
        RuleCase("seq_phragmen", {"rule": "phragmen"}, None, "set"),
        RuleCase("max_welfare_cost", {"rule": "max_welfare"}, None, "welfare"),
        RuleCase("max_welfare_card", {"rule": "max_welfare", "satisfaction": "cardinality"}, None, "welfare"),
        RuleCase("greedy_points", {"rule": "greedy", "satisfaction": "points"}, ("cumulative",), "set"),
        RuleCase("mes_points", {"rule": "mes", "satisfaction": "points"}, ("cumulative",), "set"),
    )
}
FAST_RULES = [name for name, case in RULE_CASES.items() if not case.slow]


def pabutools_call(name: str, instance, profile, approval_profile) -> list:
    """The pabutools outcome (a list of projects) defining rule ``name``.

    ``profile`` is the pabutools multiprofile; ``approval_profile`` its approval
    projection (used by sequential Phragmén on non-approval files).
    """
    from pabutools.election import Additive_Cardinal_Sat, Cardinality_Sat, Cost_Sat
    from pabutools.rules import (
        completion_by_rule_combination,
        exhaustion_by_budget_increase,
        greedy_utilitarian_welfare,
        max_additive_utilitarian_welfare,
        method_of_equal_shares,
        sequential_phragmen,
    )

    calls: dict[str, Callable[[], list]] = {
        "greedy_cost": lambda: greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat),
        "greedy_card": lambda: greedy_utilitarian_welfare(instance, profile, sat_class=Cardinality_Sat),
        "mes_cost": lambda: method_of_equal_shares(instance, profile, sat_class=Cost_Sat),
        "mes_cost_add1": lambda: method_of_equal_shares(
            instance, profile, sat_class=Cost_Sat, voter_budget_increment=1
        ),
        "mes_cost_add1_greedy": lambda: completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": Cost_Sat, "voter_budget_increment": 1}, {"sat_class": Cost_Sat}],
        ),
        "mes_cost_budget_increase": lambda: exhaustion_by_budget_increase(
            instance, profile, method_of_equal_shares, {"sat_class": Cost_Sat}
        ),
        "seq_phragmen": lambda: sequential_phragmen(instance, approval_profile),
        "max_welfare_cost": lambda: max_additive_utilitarian_welfare(instance, profile, sat_class=Cost_Sat),
        "max_welfare_card": lambda: max_additive_utilitarian_welfare(instance, profile, sat_class=Cardinality_Sat),
        "greedy_points": lambda: greedy_utilitarian_welfare(instance, profile, sat_class=Additive_Cardinal_Sat),
        "mes_points": lambda: method_of_equal_shares(instance, profile, sat_class=Additive_Cardinal_Sat),
    }
    return list(calls[name]())


def pabutools_parse(path: str):
    """(instance, multiprofile, approval multiprofile) as the reference run used them."""
    from pabutools.election import ApprovalBallot, ApprovalProfile, parse_pabulib

    instance, profile = parse_pabulib(path)
    if instance.meta.get("vote_type") in ("approval", "choose-1"):
        multi = profile.as_multiprofile()
        return instance, multi, multi
    approval = ApprovalProfile(
        [ApprovalBallot(list(ballot)) for ballot in profile], instance=instance
    ).as_multiprofile()
    return instance, profile.as_multiprofile(), approval


def welfare(winners, profile, costs: dict, satisfaction: str):
    """Σ over winners of Σ_i sat_i(p) on our grouped profile (cost or cardinality satisfaction,
    a project counts as approved when listed, as in pabutools)."""
    listed: dict[str, int] = {}
    for group in profile.groups:
        for pid in set(group.ballot.items):
            listed[pid] = listed.get(pid, 0) + group.count
    if satisfaction == "cardinality":
        return sum(listed.get(pid, 0) for pid in winners)
    return sum(costs[pid] * listed.get(pid, 0) for pid in winners)


# ---------------------------------------------------------------- one file


def _pabutools_winners(name, instance, profile, approval) -> list[str]:
    return sorted(p.name for p in pabutools_call(name, instance, profile, approval))


def applicable(case: RuleCase, kind: str) -> bool:
    return case.kinds is None or kind in case.kinds


def check_file(path: str, rules: list[str], timeout: float, slow_timeout: float | None = None,
               reference: dict | None = None) -> list[dict]:
    """Compare every applicable rule on one file; one record per rule.

    ``reference`` maps rule -> pabutools winners recorded by an earlier run on the
    same file (``--reference``); those rules are compared without calling pabutools.
    """
    reference = reference or {}
    from pb.tally import tally

    name = os.path.basename(path)
    records: list[dict] = []
    started = time.process_time()
    instance, profile = load(path)
    ours_parse = time.process_time() - started
    kind = profile.kind
    costs = {pid: project.cost for pid, project in instance.projects.items()}
    cases = [RULE_CASES[rule] for rule in rules if applicable(RULE_CASES[rule], kind)]
    if not cases:
        return records
    started = time.process_time()
    p_instance = p_profile = p_approval = None
    if any(case.name not in reference for case in cases):
        try:
            p_instance, p_profile, p_approval = pabutools_parse(path)
        except Exception as error:  # pabutools cannot read it: every rule is an error
            message = f"pabutools parse: {type(error).__name__}: {error}"
            return [
                {"file": name, "rule": case.name, "kind": kind, "status": "error", "detail": message}
                for case in cases
            ]
    pabu_parse = time.process_time() - started
    for case in cases:
        record = {
            "file": name,
            "rule": case.name,
            "kind": kind,
            "voters": profile.num_voters,
            "projects": len(instance.projects),
            "ours_parse_s": round(ours_parse, 4),
            "pabutools_parse_s": round(pabu_parse, 4),
        }
        options = dict(case.ours)
        rule = options.pop("rule")
        t0 = time.process_time()
        try:
            ours = tally(instance, profile, rule, **options)
        except Exception as error:
            record.update(status="error", detail=f"ours: {type(error).__name__}: {error}")
            record["traceback"] = traceback.format_exc(limit=4)
            records.append(record)
            continue
        record["ours_s"] = round(time.process_time() - t0, 4)
        ours_set = sorted(ours.winners)
        limit = slow_timeout if (case.slow and slow_timeout is not None) else timeout
        if case.name in reference:
            status, value, seconds = "ok", reference[case.name]["winners"], reference[case.name]["seconds"]
            record["reference"] = True
        else:
            status, value, seconds = run_forked(
                _pabutools_winners, (case.name, p_instance, p_profile, p_approval), limit
            )
        record["pabutools_s"] = round(seconds, 4) if seconds is not None else None
        if status != "ok":
            record.update(status=status, detail=value, ours=ours_set)
            records.append(record)
            continue
        theirs = value
        if case.compare == "welfare":
            satisfaction = case.ours.get("satisfaction", "cost")
            ours_w = welfare(ours_set, profile, costs, satisfaction)
            theirs_w = welfare(theirs, profile, costs, satisfaction)
            same = ours_w == theirs_w
            record.update(ours_welfare=str(ours_w), pabutools_welfare=str(theirs_w), same_set=ours_set == theirs)
        else:
            same = ours_set == theirs
        record["status"] = "identical" if same else "different"
        record["pabutools"] = theirs  # always kept: a later run can reuse it (--reference)
        if not same:
            record["ours_only"] = sorted(set(ours_set) - set(theirs))
            record["pabutools_only"] = sorted(set(theirs) - set(ours_set))
            record["ours"] = ours_set
        records.append(record)
    return records


def _file_worker(args) -> list[dict]:
    path, rules, timeout, slow_timeout, reference = args
    try:
        return check_file(path, rules, timeout, slow_timeout, reference)
    except Exception as error:
        return [
            {
                "file": os.path.basename(path),
                "rule": rule,
                "status": "error",
                "detail": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exc(limit=6),
            }
            for rule in rules
        ]


# ---------------------------------------------------------------- driver


def read_index(shared: Path) -> dict[str, dict]:
    index_path = shared / "index.csv"
    if not index_path.is_file():
        return {}
    with open(index_path, newline="", encoding="utf-8") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def select_files(args, shared: Path) -> list[Path]:
    index = read_index(shared)
    if args.files:
        files = [Path(f) if os.path.sep in f or Path(f).is_file() else shared / f for f in args.files]
    else:
        files = sorted(shared.glob("*.pb"))
    if args.max_voters is not None:
        files = [f for f in files if int(index.get(f.name, {}).get("num_votes", 0) or 0) <= args.max_voters]
    if args.sample is not None and args.sample < len(files):
        files = sorted(random.Random(args.seed).sample(files, args.sample))

    def size(path: Path) -> int:
        row = index.get(path.name)
        if row:
            return int(row["num_votes"]) * int(row["num_projects"])
        return path.stat().st_size

    # smallest first: most files are done early on a time-limited run
    return sorted(files, key=size)


def summarise(records: list[dict], rules: list[str], out=sys.stdout) -> int:
    latest: dict[tuple[str, str], dict] = {}
    for record in records:  # a (file, rule) pair run again: the last record counts
        latest[(record["file"], record["rule"])] = record
    records = list(latest.values())
    statuses = ("identical", "different", "timeout", "error")
    counts = {rule: {status: 0 for status in statuses} for rule in rules}
    for record in records:
        if record["rule"] in counts and record["status"] in statuses:
            counts[record["rule"]][record["status"]] += 1
    out.write(f"\n{'rule':<26} {'compared':>8} {'identical':>9} {'different':>9} {'timeout':>8} {'error':>6}\n")
    for rule in rules:
        c = counts[rule]
        compared = c["identical"] + c["different"]
        out.write(
            f"{rule:<26} {compared:>8} {c['identical']:>9} {c['different']:>9} {c['timeout']:>8} {c['error']:>6}\n"
        )
    bad = [r for r in records if r["status"] in ("different", "error")]
    if bad:
        out.write("\nmismatches and errors:\n")
        for r in sorted(bad, key=lambda r: (r["rule"], r["file"])):
            if r["status"] == "different":
                extra = ""
                if "ours_welfare" in r:
                    extra = f" welfare ours {r['ours_welfare']} vs pabutools {r['pabutools_welfare']}"
                out.write(
                    f"  {r['rule']:<26} {r['file']}: ours only {r.get('ours_only')}, "
                    f"pabutools only {r.get('pabutools_only')}{extra}\n"
                )
            else:
                out.write(f"  {r['rule']:<26} {r['file']}: ERROR {r.get('detail')}\n")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="folder of .pb files")
    parser.add_argument("--files", nargs="+", help="these files (names in --shared, or paths)")
    parser.add_argument("--sample", type=int, help="a random sample of N files")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample")
    parser.add_argument("--max-voters", type=int, help="only files with at most N voters")
    parser.add_argument(
        "--rules", default=",".join(RULE_CASES), help=f"comma-separated, from: {', '.join(RULE_CASES)}"
    )
    parser.add_argument("--fast", action="store_true", help="only the rules without an iterated MES completion")
    parser.add_argument("--timeout", type=float, default=60.0, help="CPU seconds per pabutools rule call")
    parser.add_argument("--slow-timeout", type=float, help="CPU seconds per pabutools add1 / budget-increase call")
    parser.add_argument("--workers", type=int, default=2, help="files processed at once")
    parser.add_argument("--out", type=Path, help="append one JSON record per (file, rule) to this file")
    parser.add_argument(
        "--resume", type=Path, help="skip (file, rule) pairs recorded in this JSONL file (timeouts are run again)"
    )
    parser.add_argument(
        "--reference",
        type=Path,
        action="append",
        help="JSONL of an earlier run: reuse its recorded pabutools winners instead of calling pabutools "
        "(re-checks our engine after a change in seconds); may be given more than once",
    )
    parser.add_argument(
        "--reference-only", action="store_true",
        help="with --reference: compare only the (file, rule) pairs it has, never call pabutools",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-file progress on stderr")
    args = parser.parse_args(argv)

    rules = [rule.strip() for rule in args.rules.split(",") if rule.strip()]
    if args.fast:
        rules = [rule for rule in rules if not RULE_CASES[rule].slow]
    unknown = [rule for rule in rules if rule not in RULE_CASES]
    if unknown:
        parser.error(f"unknown rule(s) {unknown}")
    if not args.shared.is_dir() and not args.files:
        parser.error(f"no folder {args.shared}")
    files = select_files(args, args.shared)

    previous: list[dict] = []
    done: set[tuple[str, str]] = set()
    if args.resume and args.resume.is_file():
        with open(args.resume, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    if record["status"] in ("timeout", "error"):
                        continue  # run those again
                    previous.append(record)
                    done.add((record["file"], record["rule"]))
    reference: dict[str, dict[str, dict]] = {}
    for reference_path in args.reference or ():
        opener = gzip.open if reference_path.suffix == ".gz" else open
        with opener(reference_path, "rt", encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line) if line.strip() else None
                if record and record.get("status") in ("identical", "different", "reference"):
                    winners = record.get("pabutools")  # absent in records of older runs
                    if winners is not None:
                        reference.setdefault(record["file"], {})[record["rule"]] = {
                            "winners": winners,
                            "seconds": record.get("pabutools_s"),
                        }
    jobs = []
    for path in files:
        todo = [rule for rule in rules if (path.name, rule) not in done]
        if args.reference_only:
            todo = [rule for rule in todo if rule in reference.get(path.name, {})]
        if todo:
            jobs.append((str(path), todo, args.timeout, args.slow_timeout, reference.get(path.name, {})))

    records = [r for r in previous if r["rule"] in rules and r["file"] in {p.name for p in files}]
    out_handle = open(args.out, "a", encoding="utf-8") if args.out else None
    started = time.time()
    try:
        ctx = multiprocessing.get_context("fork")
        # maxtasksperchild=1: a fresh worker per file (pabutools' caches do not pile up);
        # workers are not daemonic here so they may fork the pabutools children
        with _NonDaemonPool(ctx, args.workers) as pool:
            for number, file_records in enumerate(pool.imap_unordered(_file_worker, jobs), 1):
                records.extend(file_records)
                if out_handle:
                    for record in file_records:
                        out_handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                    out_handle.flush()
                if not args.quiet and file_records:
                    states = ",".join(
                        f"{r['rule']}={r['status'][0]}" for r in file_records if r["status"] != "identical"
                    )
                    sys.stderr.write(
                        f"[{number}/{len(jobs)} {time.time() - started:6.0f}s] {file_records[0]['file']}"
                        f" {'all identical' if not states else states}\n"
                    )
                    sys.stderr.flush()
    finally:
        if out_handle:
            out_handle.close()
    print(f"{len(files)} files, {len(jobs)} run now, {time.time() - started:.0f} s")
    return summarise(records, rules)


class _NonDaemonPool:
    """A minimal process pool whose workers may have children (multiprocessing.Pool's
    daemonic workers cannot fork the per-rule pabutools processes)."""

    def __init__(self, ctx, workers: int):
        self.ctx = ctx
        self.workers = max(1, workers)

    def __enter__(self) -> "_NonDaemonPool":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def imap_unordered(self, function, jobs):
        jobs = list(jobs)
        results = self.ctx.Queue()
        running: dict[int, multiprocessing.Process] = {}
        next_job = 0
        finished = 0

        def start(index: int) -> None:
            process = self.ctx.Process(target=_pool_target, args=(function, jobs[index], index, results))
            process.start()
            running[index] = process

        while next_job < len(jobs) and len(running) < self.workers:
            start(next_job)
            next_job += 1
        while finished < len(jobs):
            index, value = results.get()
            running.pop(index).join()
            finished += 1
            if next_job < len(jobs):
                start(next_job)
                next_job += 1
            yield value


def _pool_target(function, job, index, results) -> None:
    try:
        value = function(job)
    except BaseException as error:  # never leave the parent waiting
        value = [{"file": str(job[0]), "rule": "?", "status": "error", "detail": repr(error)}]
    results.put((index, value))


if __name__ == "__main__":
    raise SystemExit(main())
