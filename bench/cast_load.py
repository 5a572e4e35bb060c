"""Casting under load over HTTP: pb's cast endpoint against a bare endpoint, in the same run.

Usage (from the repository root):

    .venv/bin/python bench/cast_load.py --engine postgres --workers 2 --voters-per-level 2000
    .venv/bin/python bench/cast_load.py --engine sqlite --levels 1,10,50,100 --json sqlite.json

Sets up a scratch database (SQLite file, or a fresh PostgreSQL database next to PB_TEST_POSTGRES_URL),
``pb migrate``, a real ``pb serve`` (``--workers N`` when given and supported), a round in voting with
one city-wide approval budget, and fresh census-bound voters. For each concurrency level: the level's
voters log in (not timed), then each casts once (timed); then the bare endpoint of ``bare_app.py``
(same server, options and worker count, same engine) takes as many requests at the same concurrency.
``--server granian`` serves both with granian instead of uvicorn (see ``cast_common.SERVERS``).
Prints one row per level (see bench/README.md for every column). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sqlite3
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import bare_app
from cast_common import (
    BULK_ROWS, City, CpuMeter, LoadRun, Request, Scratch, Server, add_common_options, ballot_rows, cast_requests,
    check_server_choice, close_database, exit_on_setup_failure, free_port, granian_command, log_in, machine_load,
    open_database, pb_cli, pb_server, pb_source, percentile, postgres_backend_pids, scratch_database, server_text,
    set_up_city, take_voters, usable_workers,
)

BENCH_DIR = Path(__file__).resolve().parent


@dataclass
class Phase:
    """One timed batch against one server."""

    requests: int
    ok: int
    wall: float
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    server_cpu: float  # CPU seconds of the server's processes during the batch
    database_cpu: float | None  # PostgreSQL backends of the scratch database; None on SQLite (in-process)
    client_cpu: float  # CPU seconds of the load generator

    def per_ok(self, seconds: float | None) -> float:
        """Milliseconds per acknowledged request."""
        return math.nan if seconds is None or not self.ok else seconds / self.ok * 1000


@dataclass
class Level:
    engine: str
    workers: int
    concurrency: int
    pb: Phase
    bare: Phase
    pb_rows: tuple[int, int]  # participation rows, sealed ballots added during the pb batch
    bare_rows: int
    load_before: str

    @property
    def pb_rows_match(self) -> bool:
        return self.pb_rows == (self.pb.ok, self.pb.ok)

    @property
    def ratio(self) -> float:
        return self.pb.per_second / self.bare.per_second if self.bare.per_second else math.nan


# --- one timed batch ---------------------------------------------------------------------------------


async def measure(server: Server, scratch: Scratch, requests: list[Request], concurrency: int,
                  processes: int, client_kind: str) -> Phase:
    """Send ``requests`` at ``concurrency``; CPU of the server, the database and the generator."""
    async def server_pids() -> list[int]:
        return server.pids()

    run = LoadRun(server.base_url, requests, concurrency, processes, client_kind=client_kind)
    meters = [CpuMeter(server_pids)] + ([CpuMeter(postgres_backend_pids)] if scratch.is_postgres else [])
    for meter in meters:
        await meter.start()
    run.go()
    load = await asyncio.to_thread(run.wait)
    cpu = [await meter.stop() for meter in meters]
    latencies = load.ok_latencies()
    return Phase(
        requests=len(requests), ok=load.ok, wall=load.wall, per_second=load.ok / load.wall if load.wall else 0.0,
        p50_ms=percentile(latencies, 0.50) * 1000, p95_ms=percentile(latencies, 0.95) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000, max_ms=max(latencies, default=math.nan) * 1000,
        errors=load.errors(), server_cpu=cpu[0], database_cpu=cpu[1] if scratch.is_postgres else None,
        client_cpu=load.client_cpu)


# --- the bare endpoint -------------------------------------------------------------------------------


def bare_database_url(scratch: Scratch) -> str:
    """The bare table lives in the scratch PostgreSQL database, or in a SQLite file of its own."""
    return scratch.database_url if scratch.is_postgres else f"sqlite:///{scratch.folder}/bare.sqlite"


async def create_bare_table(scratch: Scratch) -> None:
    url = bare_database_url(scratch)
    if scratch.is_postgres:
        from pb.voting.tables import Participation

        await Participation.raw(bare_app.create_table_sql(url))
    else:
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(bare_app.create_table_sql(url))


async def bare_rows(scratch: Scratch) -> int:
    url = bare_database_url(scratch)
    if scratch.is_postgres:
        from pb.voting.tables import Participation

        return (await Participation.raw(f"SELECT count(*) AS n FROM {bare_app.TABLE}"))[0]["n"]
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        return connection.execute(f"SELECT count(*) FROM {bare_app.TABLE}").fetchone()[0]


def bare_server(scratch: Scratch, workers: int | None, server: str, granian_args: str) -> Server:
    """The bare endpoint under the same server, options and worker count as pb."""
    port = free_port()
    if server == "granian":
        command = granian_command("bare_app:create_app", port, workers, granian_args)
        command[1:1] = ["--working-dir", str(BENCH_DIR)]
    else:
        command = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--port", str(port)]
        if workers:
            command += ["--workers", str(workers)]
    env = {**os.environ, "BARE_DATABASE_URL": bare_database_url(scratch)}
    return Server("bare", command, scratch.folder, env, port)


# --- the run -----------------------------------------------------------------------------------------


async def run_level(args, number: int, concurrency: int, scratch: Scratch, city: City, pb: Server, bare: Server,
                    workers: int | None) -> Level:
    """Fresh voters log in (not timed), cast once each (timed), then the bare endpoint gets the same bodies."""
    load_before = machine_load()
    emails = take_voters(city, args.voters_per_level)
    tokens = await asyncio.to_thread(log_in, city, emails, args.login_concurrency, args.clients_procs)
    casts = cast_requests(city, tokens, seed=number)
    before = await ballot_rows(city.round_id)
    pb_phase = await measure(pb, scratch, casts, concurrency, args.clients_procs, args.client)
    after = await ballot_rows(city.round_id)
    bare_before = await bare_rows(scratch)
    bare_phase = await measure(bare, scratch, [Request("/cast", cast.body) for cast in casts], concurrency,
                               args.clients_procs, args.client)
    return Level(scratch.engine, workers or 1, concurrency, pb_phase, bare_phase,
                 (after[0] - before[0], after[1] - before[1]), await bare_rows(scratch) - bare_before, load_before)


async def run_levels(args, scratch: Scratch, city: City, server: Server, workers: int | None) -> list[Level]:
    engine = await open_database(scratch)
    bare = bare_server(scratch, workers, args.server, args.granian_args)
    try:
        await create_bare_table(scratch)
        bare.start("/cast")
        levels = []
        for number, concurrency in enumerate(args.levels):
            levels.append(await run_level(args, number, concurrency, scratch, city, server, bare, workers))
            print(format_row(levels[-1]), flush=True)
        return levels
    finally:
        bare.stop()
        await close_database(engine)


def _ms(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _errors(errors: dict[str, int]) -> str:
    return ",".join(f"{status}:{count}" for status, count in errors.items()) or "0"


LEGEND = ("latencies (p50 p95 p99 max) in ms, of acknowledged (2xx) casts; srv db gen: CPU ms per acknowledged cast "
          "of pb's server processes, its PostgreSQL backends, the load generator (per request); b.*: the bare "
          "endpoint; load: 1/5/15-minute load average before the level")


def _columns(level: Level | None) -> list[tuple[str, int, str]]:
    """(title, width, text) of every column; the header when ``level`` is None."""
    if level is None:
        return [(title, width, title) for title, width in COLUMNS]
    pb, bare = level.pb, level.bare
    rows = "yes" if level.pb_rows_match and level.bare_rows == bare.ok else \
        f"NO {level.pb_rows[0]}/{level.pb_rows[1]}/{level.bare_rows}"
    texts = [level.engine, str(level.workers), str(level.concurrency), f"{pb.per_second:.0f}", _ms(pb.p50_ms),
             _ms(pb.p95_ms), _ms(pb.p99_ms), _ms(pb.max_ms), _errors(pb.errors), rows, f"{bare.per_second:.0f}",
             _ms(bare.p99_ms), _errors(bare.errors), f"{level.ratio:.2f}", _ms(pb.per_ok(pb.server_cpu)),
             _ms(pb.per_ok(pb.database_cpu)), _ms(pb.client_cpu / pb.requests * 1000),
             _ms(bare.per_ok(bare.server_cpu)), _ms(bare.per_ok(bare.database_cpu)), level.load_before]
    return [(title, width, text) for (title, width), text in zip(COLUMNS, texts)]


COLUMNS = [("engine", -8), ("wk", 2), ("conc", 4), ("pb/s", 6), ("p50", 6), ("p95", 6), ("p99", 6), ("max", 6),
           ("errors", 10), ("rows=2xx", 8), ("bare/s", 6), ("b.p99", 6), ("b.err", 6), ("pb/bare", 7),
           ("srv", 5), ("db", 5), ("gen", 5), ("b.srv", 5), ("b.db", 5), ("load", -18)]


def format_row(level: Level | None) -> str:
    """One line of the table (the header for None); negative widths align left."""
    return " ".join(f"{text:<{-width}}" if width < 0 else f"{text:>{width}}"
                    for _, width, text in _columns(level)).rstrip()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_options(parser, default_engine="postgres")
    parser.add_argument("--voters-per-level", type=int, default=2000, help="fresh voters per level; each casts once")
    parser.add_argument("--levels", type=lambda text: [int(n) for n in text.split(",")], default=[1, 10, 50, 100],
                        help="comma-separated concurrency levels (default 1,10,50,100)")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="raw: a minimal HTTP/1.1 client (default, ~0.1 ms CPU per request); httpx: httpx's "
                             "AsyncClient, one connection each (~1 ms CPU per request)")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check_server_choice(args)
    workers = usable_workers(args.workers)
    voters = args.voters_per_level * len(args.levels)
    print(f"cast_load: {args.engine}, {server_text(args)}, pb workers {workers or 'default (1)'}, "
          f"levels {args.levels}, {args.voters_per_level} voters per level, {args.clients_procs} {args.client} "
          f"client process(es), {pb_source()}, load {machine_load()}", flush=True)
    with scratch_database(args.engine, "castbench", keep=args.keep) as scratch:
        pb_cli(scratch, "migrate")
        server = pb_server(scratch, workers, server=args.server, granian_args=args.granian_args)
        try:
            server.start("/api/orgs")
            city = set_up_city(scratch, server, voters)
            print(f"set up: round {city.round_id}, {voters} voters (bulk rows of {BULK_ROWS})", flush=True)
            print(LEGEND)
            print(format_row(None), flush=True)
            levels = asyncio.run(run_levels(args, scratch, city, server, workers))
        finally:
            server.stop()
    print(f"load after: {machine_load()}")
    if args.json:
        args.json.write_text(json.dumps({"pb": pb_source(), "engine": args.engine, "workers": workers or 1,
                                         "server": args.server, "granian_args": args.granian_args,
                                         "levels": [asdict(level) | {"ratio": level.ratio} for level in levels]},
                                        indent=2, default=str))
    return 0 if all(level.pb_rows_match for level in levels) else 1


if __name__ == "__main__":
    sys.exit(exit_on_setup_failure(main))
