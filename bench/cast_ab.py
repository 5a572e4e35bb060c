"""Two pb checkouts (or two settings) casting in one run, batch for batch.

Usage (from the repository root):

    .venv/bin/python bench/cast_ab.py --a /path/to/main --b . --concurrency 50 --batches 6
    .venv/bin/python bench/cast_ab.py --a . --b . --b-env PB_DATABASE_POOL_SIZE=20 --concurrency 100
    .venv/bin/python bench/cast_ab.py --a /path/to/old --b . --workers 2 --concurrency 100

This machine's speed moves by up to 2x between runs minutes apart, so a change measured in one run
and its baseline in another says little. Here two ``pb serve`` processes run side by side on one
scratch PostgreSQL database: A with ``PYTHONPATH=--a`` (and ``--a-env``), B likewise. Batches of
fresh voters alternate A, B, then B, A, and so on (neither always goes first); each batch's voters
log in through the server they cast on, then cast once each at ``--concurrency``. Printed per
batch: casts/s, p99, server and database CPU per cast (as ``cast_load.py`` measures them), then the
medians and the per-batch ratios B/A with their median. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cast_common import (  # noqa: E402
    close_database, exit_on_setup_failure, log_in, open_database, pb_cli, pb_server, scratch_database,
    set_up_city, take_voters, cast_requests,
)
from cast_load import measure  # noqa: E402

SIDES = ("A", "B")
FIGURES = (("casts/s", "per_second"), ("p99", "p99_ms"), ("srv", "server_ms"), ("db", "database_ms"))


def _environment(pythonpath: str, assignments: list[str]) -> dict[str, str]:
    extra = dict(assignment.split("=", 1) for assignment in assignments)
    return {"PYTHONPATH": str(Path(pythonpath).resolve()), **extra}


async def _batches(args, scratch, servers, city) -> dict[str, list[dict[str, float]]]:
    engine = await open_database(scratch)
    rows: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
    try:
        for number in range(args.batches):
            for side in (SIDES if number % 2 == 0 else SIDES[::-1]):
                server = servers[side]
                city.base_url = server.base_url
                tokens = await asyncio.to_thread(log_in, city, take_voters(city, args.voters_per_batch))
                phase = await measure(server, scratch, cast_requests(city, tokens, number), args.concurrency, 1, "raw")
                ok = phase.ok or 1
                row = {"per_second": phase.per_second, "p99_ms": phase.p99_ms,
                       "server_ms": 1e3 * phase.server_cpu / ok, "database_ms": 1e3 * phase.database_cpu / ok}
                rows[side].append(row)
                print(f"batch {number + 1} {side}: {row['per_second']:6.0f} casts/s, p99 {row['p99_ms']:6.1f} ms, "
                      f"srv {row['server_ms']:.3f} ms, db {row['database_ms']:.3f} ms, errors {phase.errors or 0}",
                      flush=True)
    finally:
        await close_database(engine)
    return rows


def _report(rows: dict[str, list[dict[str, float]]]) -> None:
    for side in SIDES:
        medians = ", ".join(f"{label} {statistics.median(r[key] for r in rows[side]):.3f}" for label, key in FIGURES)
        print(f"{side} medians: {medians}")
    for label, key in FIGURES:
        ratios = [b[key] / a[key] for a, b in zip(rows["A"], rows["B"]) if a[key]]
        print(f"B/A {label:8} " + " ".join(f"{ratio:.2f}" for ratio in ratios)
              + f"   median {statistics.median(ratios):.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help="checkout of side A (put first on PYTHONPATH)")
    parser.add_argument("--b", required=True, help="checkout of side B")
    parser.add_argument("--a-env", action="append", default=[], metavar="NAME=VALUE", help="extra setting of A")
    parser.add_argument("--b-env", action="append", default=[], metavar="NAME=VALUE", help="extra setting of B")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--batches", type=int, default=6, help="batches per side (use an even number)")
    parser.add_argument("--voters-per-batch", type=int, default=1500)
    parser.add_argument("--workers", type=int, default=None, help="pb serve --workers for both sides")
    args = parser.parse_args(argv)
    for assignment in args.a_env + args.b_env:
        if "=" not in assignment:
            parser.error(f"{assignment!r}: write NAME=VALUE")

    def run() -> int:
        with scratch_database("postgres", "castab") as scratch:
            pb_cli(scratch, "migrate")
            servers = {}
            try:
                for side, path, assignments in (("A", args.a, args.a_env), ("B", args.b, args.b_env)):
                    server = pb_server(scratch, args.workers, name=f"pb-{side}", application_name=f"pb-ab-{side}")
                    server.env = {**server.env, **_environment(path, assignments)}
                    servers[side] = server
                    server.start("/api/orgs")
                print(f"cast_ab: A = {args.a} {args.a_env}, B = {args.b} {args.b_env}, concurrency {args.concurrency}, "
                      f"{args.batches} batches of {args.voters_per_batch} per side, load {os.getloadavg()[0]:.2f}")
                city = set_up_city(scratch, servers["A"], args.voters_per_batch * args.batches * 2)
                _report(asyncio.run(_batches(args, scratch, servers, city)))
            finally:
                for server in servers.values():
                    server.stop()
        return 0

    return exit_on_setup_failure(run)


if __name__ == "__main__":
    sys.exit(main())
