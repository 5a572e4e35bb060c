"""kill -9 under casting load: no acknowledged ballot may be lost.

Usage (from the repository root):

    .venv/bin/python bench/cast_kill.py --engine sqlite --cycles 30
    .venv/bin/python bench/cast_kill.py --engine postgres --workers 2 --cycles 30 --concurrency 50

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

from cast_common import (
    PB_COMMAND, City, add_common_options, LoadRun, Request, Scratch, Server, ballot_rows, cast_requests, close_database, git_commit,
    log_in, machine_load, open_database, pb_cli, pb_env, pb_server, run_load, scratch_database,
    set_up_city, take_voters, usable_workers,
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workers = usable_workers(args.workers)
    seed = args.seed if args.seed is not None else random.randrange(10**6)
    print(f"cast_kill: {args.engine}, pb workers {workers or 'default (1)'}, {args.cycles} cycles of "
          f"{args.voters_per_cycle} voters at concurrency {args.concurrency}, seed {seed}, commit {git_commit()}, "
          f"load {machine_load()}", flush=True)
    rng = random.Random(seed)
    with scratch_database(args.engine, "castkill", keep=args.keep) as scratch:
        pb_cli(scratch, "migrate")
        server = pb_server(scratch, workers)
        try:
            server.start(READY_PATH)
            city = set_up_city(scratch, server, args.cycles * args.voters_per_cycle)
            acknowledged: list[str] = []
            others: Counter = Counter()
            for number in range(args.cycles):
                receipts, cut_off = kill_cycle(server, city, args, rng, number)
                acknowledged += receipts
                others += cut_off
            server.start(READY_PATH)
            lookups = run_load(city.base_url, [Request(city.receipt_path, {"receipt": r}) for r in acknowledged],
                               16, 1, field_name="status")
            server.stop()
        finally:
            server.stop()
        found = sum(1 for status, value in zip(lookups.statuses, lookups.values) if status == 200 and value == "received")
        participation, sealed = asyncio.run(_ballot_rows(scratch, city.round_id))
        audit_ok, audit_output = audit_verify(scratch)
        integrity = sqlite_integrity(scratch)
    lost = len(acknowledged) - found
    refused = others.pop("ConnectionRefusedError", 0)  # sent while the server was down: never reached it
    in_flight = sum(count for status, count in others.items() if not status.isdigit())
    answered = {status: count for status, count in others.items() if status.isdigit()}
    print(f"\nacknowledged ballots (2xx):             {len(acknowledged)}")
    print(f"acknowledged receipts found by lookup:  {found}   lost: {lost}   lookup answers: "
          f"{dict(Counter(map(str, lookups.statuses)))}")
    print(f"casts cut off in flight by the kills:   {in_flight}   refused while down: {refused}   "
          f"other answers: {answered or '-'}")
    print(f"participation rows / sealed ballots:    {participation} / {sealed}"
          f"   (stored but never acknowledged: {sealed - len(acknowledged)}, at most the casts cut off in flight)")
    print(f"pb audit verify:                        {'ok' if audit_ok else 'FAILED'}: {audit_output}")
    print(f"SQLite integrity_check:                 {integrity}")
    print(f"load after: {machine_load()}")
    failures = [name for name, failed in [
        ("acknowledged ballots lost", lost != 0),
        ("participation rows != sealed ballots", participation != sealed),
        ("more ballots stored than acknowledged + cut off in flight", sealed - len(acknowledged) > in_flight),
        ("audit chain", not audit_ok),
        ("integrity check", not integrity.startswith("ok")),
    ] if failed]
    print("RESULT: " + ("FAILED: " + "; ".join(failures) if failures else "ok, 0 acknowledged ballots lost"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
