"""kill -9 under casting load: no acknowledged ballot may be lost.

Usage (from the repository root):

    .venv/bin/python bench/cast_kill.py --engine sqlite --cycles 30
    .venv/bin/python bench/cast_kill.py --engine postgres --workers 2 --cycles 30 --concurrency 50
    .venv/bin/python bench/cast_kill.py --engine postgres --workers 2 --server granian

Sets up a scratch database and a round in voting as ``cast_load.py`` does. Each cycle: the server is
(re)started, the cycle's fresh voters log in, they cast at ``--concurrency``, and at a random moment
(after a random share, 1-90 %, of the cycle's ballots were acknowledged) every process of the server
is killed with SIGKILL. Every receipt answered with 2xx is kept. At the end, on a restarted server:

- every acknowledged receipt is looked up (POST .../receipts/lookup) and must be "received";
- participation rows == sealed ballots (each ballot with its "who voted" row, nothing half-written);
- ``pb audit verify`` passes (every organisation's hash chain);
- SQLite only: ``PRAGMA integrity_check`` is "ok".

Exit status 1 on any loss or failed check.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass

from cast_common import (
    PB_COMMAND, City, LoadRun, Request, Scratch, Server, add_common_options, ballot_rows, cast_requests,
    check_server_choice, close_database, exit_on_setup_failure, log_in, machine_load, open_database, pb_cli, pb_env,
    pb_server, pb_source, run_load, scratch_database, server_text, set_up_city, take_voters, usable_workers,
)

READY_PATH = "/api/orgs"


def kill_cycle(server: Server, city: City, args, rng: random.Random, number: int) -> tuple[list[str], Counter]:
    """One cycle: (re)start, log in, cast, kill -9 at a random moment; the acknowledged receipts and
    the count of every other outcome (HTTP status or the transport error of requests cut off)."""
    restarted = time.monotonic()
    if server.process is None:
        server.start(READY_PATH)
    restart_seconds = time.monotonic() - restarted
    tokens = log_in(city, take_voters(city, args.voters_per_cycle), args.login_concurrency)
    progress = multiprocessing.get_context("spawn").Value("i", 0)
    run = LoadRun(city.base_url, cast_requests(city, tokens, seed=number), args.concurrency, args.clients_procs,
                  field_name="receipt", progress=progress)
    kill_after = rng.randint(1, max(1, int(args.voters_per_cycle * 0.9)))
    run.go()
    deadline = time.monotonic() + 120
    while progress.value < kill_after and time.monotonic() < deadline and any(p.is_alive() for p in run.processes):
        time.sleep(0.002)
    killed_at = progress.value
    server.kill()
    load = run.wait()
    receipts = [value for status, value in zip(load.statuses, load.values)
                if isinstance(status, int) and 200 <= status < 300]
    others = Counter(load.errors())
    print(f"cycle {number + 1:>3}: restart {restart_seconds:5.1f} s, killed after {killed_at:>4} acknowledged; "
          f"acknowledged {len(receipts):>4}, other outcomes {dict(others) or '-'}", flush=True)
    return receipts, others


def audit_verify(scratch: Scratch) -> tuple[bool, str]:
    done = subprocess.run([PB_COMMAND, "audit", "verify"], cwd=scratch.folder, env=pb_env(scratch),
                          capture_output=True, text=True, timeout=600)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def sqlite_integrity(scratch: Scratch) -> str:
    if scratch.is_postgres:
        return "ok (PostgreSQL: not applicable)"
    with sqlite3.connect(scratch.database_url.removeprefix("sqlite:///")) as connection:
        return ", ".join(row[0] for row in connection.execute("PRAGMA integrity_check"))


async def _ballot_rows(scratch: Scratch, round_id: int) -> tuple[int, int]:
    engine = await open_database(scratch)
    try:
        return await ballot_rows(round_id)
    finally:
        await close_database(engine)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_options(parser, default_engine="sqlite")
    parser.add_argument("--cycles", type=int, default=30)
    parser.add_argument("--voters-per-cycle", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--seed", type=int, default=None, help="seed of the kill moments (default: random)")
    return parser.parse_args(argv)


@dataclass
class Findings:
    """What the end of the loop found; ``failures()`` names every broken guarantee."""

    acknowledged: int
    found: int
    lookup_answers: dict[str, int]
    outcomes: Counter  # every other cast outcome of the cycles: HTTP status or transport error
    participation: int
    sealed: int
    audit_ok: bool
    audit_output: str
    integrity: str

    @property
    def lost(self) -> int:
        return self.acknowledged - self.found

    @property
    def refused(self) -> int:
        """Sent while the server was down: these never reached it."""
        return self.outcomes.get("ConnectionRefusedError", 0)

    @property
    def in_flight(self) -> int:
        """Cut off by a kill after reaching the server: these may or may not have been stored."""
        return sum(count for status, count in self.outcomes.items()
                   if not status.isdigit() and status != "ConnectionRefusedError")

    def failures(self) -> list[str]:
        return [name for name, failed in [
            ("acknowledged ballots lost", self.lost != 0),
            ("participation rows != sealed ballots", self.participation != self.sealed),
            ("more ballots stored than acknowledged + cut off in flight",
             self.sealed - self.acknowledged > self.in_flight),
            ("audit chain", not self.audit_ok),
            ("integrity check", not self.integrity.startswith("ok")),
        ] if failed]

    def report(self) -> str:
        answered = {status: count for status, count in self.outcomes.items() if status.isdigit()}
        return "\n".join([
            f"acknowledged ballots (2xx):             {self.acknowledged}",
            f"acknowledged receipts found by lookup:  {self.found}   lost: {self.lost}   lookup answers: "
            f"{self.lookup_answers}",
            f"casts cut off in flight by the kills:   {self.in_flight}   refused while down: {self.refused}   "
            f"other answers: {answered or '-'}",
            f"participation rows / sealed ballots:    {self.participation} / {self.sealed}   (stored but never "
            f"acknowledged: {self.sealed - self.acknowledged}, at most the casts cut off in flight)",
            f"pb audit verify:                        {'ok' if self.audit_ok else 'FAILED'}: {self.audit_output}",
            f"SQLite integrity_check:                 {self.integrity}",
        ])


def kill_loop(args, scratch: Scratch, workers: int | None, rng: random.Random) -> Findings:
    """Every cycle, then the checks on a restarted server and on the stopped database."""
    server = pb_server(scratch, workers, server=args.server, granian_args=args.granian_args)
    try:
        server.start(READY_PATH)
        city = set_up_city(scratch, server, args.cycles * args.voters_per_cycle)
        acknowledged: list[str] = []
        outcomes: Counter = Counter()
        for number in range(args.cycles):
            receipts, others = kill_cycle(server, city, args, rng, number)
            acknowledged += receipts
            outcomes += others
        server.start(READY_PATH)
        lookups = run_load(city.base_url, [Request(city.receipt_path, {"receipt": r}) for r in acknowledged],
                           16, 1, field_name="status")
    finally:
        server.stop()
    found = sum(1 for status, value in zip(lookups.statuses, lookups.values) if status == 200 and value == "received")
    participation, sealed = asyncio.run(_ballot_rows(scratch, city.round_id))
    audit_ok, audit_output = audit_verify(scratch)
    return Findings(len(acknowledged), found, dict(Counter(map(str, lookups.statuses))), outcomes, participation,
                    sealed, audit_ok, audit_output, sqlite_integrity(scratch))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check_server_choice(args)
    workers = usable_workers(args.workers)
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    print(f"cast_kill: {args.engine}, {server_text(args)}, pb workers {workers or 'default (1)'}, {args.cycles} "
          f"cycles of {args.voters_per_cycle} voters at concurrency {args.concurrency}, seed {seed}, {pb_source()}, "
          f"load {machine_load()}", flush=True)
    with scratch_database(args.engine, "castkill", keep=args.keep) as scratch:
        pb_cli(scratch, "migrate")
        findings = kill_loop(args, scratch, workers, random.Random(seed))
    print("\n" + findings.report())
    print(f"load after: {machine_load()}")
    failures = findings.failures()
    print("RESULT: " + ("FAILED: " + "; ".join(failures) if failures else "ok, 0 acknowledged ballots lost"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(exit_on_setup_failure(main))
