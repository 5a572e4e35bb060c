"""Casting under load over HTTP: pb's cast endpoint against a bare endpoint, in the same run.

Usage (from the repository root):

    .venv/bin/python bench/cast_load.py --engine postgres --workers 2 --voters-per-level 2000
    .venv/bin/python bench/cast_load.py --engine sqlite --levels 1,10,50,100 --json sqlite.json
    .venv/bin/python bench/cast_load.py --engine postgres --workers 1,2 --levels 10,50 --repeat 3

Sets up a scratch database (SQLite file, or a fresh PostgreSQL database next to PB_TEST_POSTGRES_URL),
``pb migrate``, a real ``pb serve`` (``--workers N`` when given and supported), a round in voting with
one city-wide approval budget, and fresh census-bound voters. For each concurrency level: the level's
voters log in (not timed), then each casts once (timed); then the bare endpoint of ``bare_app.py``
(same server, options and worker count, same engine) takes as many requests at the same concurrency.
``--server granian`` serves both with granian instead of uvicorn (see ``cast_common.SERVERS``).
Prints one row per level (see bench/README.md for every column). Figures are printed, never asserted.

``--workers 1,2`` compares worker counts within one run, because on a noisy machine two separate runs
differ by more than the workers do: one pb server (and one bare endpoint) per count on the same
database, each level run on every server in turn, the ratio to the first count printed per level.
``--repeat R`` runs the whole set of levels R times, the worker counts in the given order in odd
repetitions and in reverse in even ones, then prints medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sqlite3
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import bare_app
from cast_common import (
    BULK_ROWS, City, CpuMeter, LoadRun, Request, Scratch, Server, add_common_options, ballot_rows, cast_requests,
    check_server_choice, close_database, exit_on_setup_failure, free_port, granian_command, log_in, machine_load,
    open_database, pb_cli, pb_server, pb_source, percentile, postgres_backend_pids, scratch_database,
    serve_supports_workers, server_text, set_up_city, take_voters, usable_workers, with_application_name,
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
    """Send ``requests`` at ``concurrency``; CPU of the server, of its PostgreSQL backends (the sessions
    carrying its ``application_name``) and of the generator."""
    async def server_pids() -> list[int]:
        return server.pids()

    async def backend_pids() -> list[int]:
        return await postgres_backend_pids(server.application_name)

    run = LoadRun(server.base_url, requests, concurrency, processes, client_kind=client_kind)
    meters = [CpuMeter(server_pids)] + ([CpuMeter(backend_pids)] if scratch.is_postgres else [])
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
    label = worker_label(workers)
    port = free_port()
    if server == "granian":
        command = granian_command("bare_app:create_app", port, workers, granian_args)
        command[1:1] = ["--working-dir", str(BENCH_DIR)]
    else:
        command = [sys.executable, str(BENCH_DIR / "bare_app.py"), "--port", str(port)]
        if workers:
            command += ["--workers", str(workers)]
    application_name = f"bare-{label}"
    env = {**os.environ,
           "BARE_DATABASE_URL": with_application_name(scratch, bare_database_url(scratch), application_name)}
    return Server(f"bare-{label}", command, scratch.folder, env, port, application_name)


# --- the run -----------------------------------------------------------------------------------------


def worker_label(workers: int | None) -> str:
    return f"{workers or 1}w"


@dataclass
class Contender:
    """One worker count under test: its pb server and the bare endpoint served with the same count."""

    workers: int | None  # None: pb serve's default (one process)
    pb: Server
    bare: Server | None = None  # started once the bare table exists


def start_pb_servers(args, scratch: Scratch, counts: list[int | None], started: list[Contender]) -> None:
    """One pb server per worker count, each started before the next picks its port; ``started``
    receives each as it starts, so the caller can stop them all whatever fails."""
    for workers in counts:
        label = worker_label(workers)
        server = pb_server(scratch, workers, server=args.server, granian_args=args.granian_args,
                           name=f"pb-serve-{label}", application_name=f"pb-serve-{label}")
        started.append(Contender(workers, server))
        server.start("/api/orgs")


async def run_level(args, number: int, concurrency: int, scratch: Scratch, city: City,
                    contender: Contender) -> Level:
    """Fresh voters log in through this pb server (not timed), cast once each (timed), then the bare
    endpoint of the same worker count gets the same bodies."""
    pb, bare = contender.pb, contender.bare
    load_before = machine_load()
    emails = take_voters(city, args.voters_per_level)
    tokens = await asyncio.to_thread(log_in, city, emails, args.login_concurrency, args.clients_procs, pb.base_url)
    casts = cast_requests(city, tokens, seed=number)
    before = await ballot_rows(city.round_id)
    pb_phase = await measure(pb, scratch, casts, concurrency, args.clients_procs, args.client)
    after = await ballot_rows(city.round_id)
    bare_before = await bare_rows(scratch)
    bare_phase = await measure(bare, scratch, [Request("/cast", cast.body) for cast in casts], concurrency,
                               args.clients_procs, args.client)
    return Level(scratch.engine, contender.workers or 1, concurrency, pb_phase, bare_phase,
                 (after[0] - before[0], after[1] - before[1]), await bare_rows(scratch) - bare_before, load_before)


async def run_repetitions(args, scratch: Scratch, city: City,
                          contenders: list[Contender]) -> tuple[list[list[Level]], list[Comparison]]:
    """Every level on every contender in turn, ``args.repeat`` times: each repetition's levels, and
    every level's worker counts against the first."""
    engine = await open_database(scratch)
    try:
        await create_bare_table(scratch)
        for contender in contenders:
            contender.bare = bare_server(scratch, contender.workers, args.server, args.granian_args)
            contender.bare.start("/cast")
        repetitions, comparisons = [], []
        for repetition in range(1, args.repeat + 1):
            if args.repeat > 1:
                print(f"repetition {repetition} of {args.repeat}")
            print(format_row(None), flush=True)
            levels: list[Level] = []
            for number, concurrency in enumerate(args.levels):
                # Odd repetitions run the worker counts in the order given, even ones in reverse, so
                # that going first or last at a level (a warmer cache, a drifting machine) does not
                # always fall on the same count.
                order = list(range(len(contenders)))
                if repetition % 2 == 0:
                    order.reverse()
                measured: dict[int, Level] = {}
                for index in order:
                    measured[index] = await run_level(args, number, concurrency, scratch, city, contenders[index])
                    print(format_row(measured[index]), flush=True)
                at_level = [measured[index] for index in range(len(contenders))]
                if len(contenders) > 1:
                    against_first = compare(at_level, repetition)
                    print(format_comparisons(against_first), flush=True)
                    comparisons += against_first
                levels += at_level
            repetitions.append(levels)
        return repetitions, comparisons
    finally:
        for contender in contenders:
            if contender.bare is not None:
                contender.bare.stop()
        await close_database(engine)


# --- worker counts against the first, and medians over repetitions ------------------------------------


def _quotient(value: float, reference: float) -> float:
    return value / reference if reference and not math.isnan(reference) else math.nan


@dataclass
class Comparison:
    """N workers against the first worker count, at one level of one repetition (same minutes)."""

    repetition: int
    concurrency: int
    workers: int
    first_workers: int
    per_second: float  # pb/s of N workers / pb/s of the first count: above 1, N workers cast faster
    p99: float  # p99 of N workers / p99 of the first count: below 1, N workers answer sooner


def compare(at_level: list[Level], repetition: int) -> list[Comparison]:
    """Each worker count's level against the first count's (``at_level``: one level, every count)."""
    first = at_level[0]
    return [Comparison(repetition, level.concurrency, level.workers, first.workers,
                       _quotient(level.pb.per_second, first.pb.per_second), _quotient(level.pb.p99_ms, first.pb.p99_ms))
            for level in at_level[1:]]


def format_comparisons(comparisons: list[Comparison]) -> str:
    return f"ratio at conc {comparisons[0].concurrency}: " + "; ".join(
        f"{c.workers}w/{c.first_workers}w pb/s {c.per_second:.2f} p99 {c.p99:.2f}" for c in comparisons)


def _median(values: list[float]) -> float:
    values = [value for value in values if not math.isnan(value)]
    return statistics.median(values) if values else math.nan


@dataclass
class Summary:
    """One worker count at one level, over every repetition: medians (and the ratios' spread)."""

    engine: str
    workers: int
    concurrency: int
    repetitions: int
    per_second: float  # median pb/s
    p99_ms: float  # median p99
    pb_bare: float  # median of the repetitions' pb/bare
    per_second_vs_first: float | None  # median of the repetitions' N-workers/first pb/s; None for the first count
    per_second_vs_first_range: tuple[float, float] | None
    p99_vs_first: float | None  # the same for p99
    p99_vs_first_range: tuple[float, float] | None


def summarise(levels: list[Level], comparisons: list[Comparison]) -> list[Summary]:
    """One summary per (worker count, level), in the order the levels ran."""
    keys = list(dict.fromkeys((level.workers, level.concurrency) for level in levels))
    summaries = []
    for workers, concurrency in keys:
        mine = [level for level in levels if (level.workers, level.concurrency) == (workers, concurrency)]
        ratios = [c for c in comparisons if (c.workers, c.concurrency) == (workers, concurrency)]
        speed, p99 = [c.per_second for c in ratios], [c.p99 for c in ratios]
        summaries.append(Summary(
            mine[0].engine, workers, concurrency, len(mine), _median([level.pb.per_second for level in mine]),
            _median([level.pb.p99_ms for level in mine]), _median([level.ratio for level in mine]),
            _median(speed) if ratios else None, (min(speed), max(speed)) if ratios else None,
            _median(p99) if ratios else None, (min(p99), max(p99)) if ratios else None))
    return summaries


def _ratio_text(median: float | None, spread: tuple[float, float] | None) -> str:
    if median is None:
        return "-"
    return f"{median:.2f}" if spread[0] == spread[1] else f"{median:.2f} ({spread[0]:.2f}-{spread[1]:.2f})"


SUMMARY_COLUMNS = [("engine", -8), ("wk", 2), ("conc", 4), ("reps", 4), ("pb/s", 6), ("p99", 6), ("pb/bare", 7),
                   ("pb/s vs first", 18), ("p99 vs first", 18)]


def format_summary_row(summary: Summary | None) -> str:
    """One line of the summary table (the header for None)."""
    if summary is None:
        texts = [title for title, _ in SUMMARY_COLUMNS]
    else:
        texts = [summary.engine, str(summary.workers), str(summary.concurrency), str(summary.repetitions),
                 f"{summary.per_second:.0f}", _ms(summary.p99_ms), f"{summary.pb_bare:.2f}",
                 _ratio_text(summary.per_second_vs_first, summary.per_second_vs_first_range),
                 _ratio_text(summary.p99_vs_first, summary.p99_vs_first_range)]
    return " ".join(f"{text:<{-width}}" if width < 0 else f"{text:>{width}}"
                    for (_, width), text in zip(SUMMARY_COLUMNS, texts)).rstrip()


SUMMARY_LEGEND = ("summary: medians over the repetitions; vs first: N workers / the first worker count within each "
                  "repetition, median (min-max); pb/s above 1 and p99 below 1 favour N workers")


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
    add_common_options(parser, default_engine="postgres", worker_lists=True)
    parser.add_argument("--voters-per-level", type=int, default=2000, help="fresh voters per level; each casts once")
    parser.add_argument("--levels", type=lambda text: [int(n) for n in text.split(",")], default=[1, 10, 50, 100],
                        help="comma-separated concurrency levels (default 1,10,50,100)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the whole set of levels this many times, every worker count in turn at each "
                             "level, then print medians (default 1)")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="raw: a minimal HTTP/1.1 client (default, ~0.1 ms CPU per request); httpx: httpx's "
                             "AsyncClient, one connection each (~1 ms CPU per request)")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat takes 1 or more")
    return args


def worker_counts_to_run(args) -> list[int | None]:
    """The pb worker counts of the run: one (today's single server, None for pb's default), or the list."""
    if not args.workers or len(args.workers) == 1:
        return [usable_workers(args.workers[0] if args.workers else None)]
    if args.server == "uvicorn" and not serve_supports_workers():
        raise RuntimeError(f"this pb serve has no --workers option: cannot compare --workers "
                           f"{','.join(map(str, args.workers))}")
    return list(args.workers)


def first_line(args, counts: list[int | None]) -> str:
    if len(counts) == 1:
        workers = f"pb workers {counts[0] or 'default (1)'}"
    else:
        workers = f"pb workers {','.join(map(str, counts))} (one server each, in turn at every level)"
    repeat = f", repeat {args.repeat}" if args.repeat > 1 else ""
    return (f"cast_load: {args.engine}, {server_text(args)}, {workers}, levels {args.levels}{repeat}, "
            f"{args.voters_per_level} voters per level, {args.clients_procs} {args.client} client process(es), "
            f"{pb_source()}, load {machine_load()}")


def json_report(args, counts: list[int | None], repetitions: list[list[Level]], comparisons: list[Comparison],
                summaries: list[Summary]) -> dict:
    """Every figure; one worker count run once keeps the shape of a single-server run."""
    levels = [asdict(level) | {"ratio": level.ratio} for level in repetitions[0]]
    report = {"pb": pb_source(), "engine": args.engine, "workers": counts[0] or 1, "server": args.server,
              "granian_args": args.granian_args, "levels": levels}
    if len(counts) == 1 and args.repeat == 1:
        return report
    if len(counts) > 1:
        report["workers"] = [count or 1 for count in counts]
    return report | {
        "repeat": args.repeat,
        "levels": [asdict(level) | {"ratio": level.ratio, "repetition": number}
                   for number, levels in enumerate(repetitions, 1) for level in levels],
        "comparisons": [asdict(comparison) for comparison in comparisons],
        "summary": [asdict(summary) for summary in summaries]}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check_server_choice(args)
    counts = worker_counts_to_run(args)
    voters = args.voters_per_level * len(args.levels) * len(counts) * args.repeat
    print(first_line(args, counts), flush=True)
    with scratch_database(args.engine, "castbench", keep=args.keep) as scratch:
        pb_cli(scratch, "migrate")
        contenders: list[Contender] = []
        try:
            start_pb_servers(args, scratch, counts, contenders)
            city = set_up_city(scratch, contenders[0].pb, voters)
            print(f"set up: round {city.round_id}, {voters} voters (bulk rows of {BULK_ROWS})", flush=True)
            print(LEGEND)
            repetitions, comparisons = asyncio.run(run_repetitions(args, scratch, city, contenders))
        finally:
            for contender in contenders:
                contender.pb.stop()
    summaries = summarise([level for levels in repetitions for level in levels], comparisons)
    if len(counts) > 1 or args.repeat > 1:
        print(SUMMARY_LEGEND)
        for summary in [None, *summaries]:
            print(format_summary_row(summary))
    print(f"load after: {machine_load()}")
    if args.json:
        args.json.write_text(json.dumps(json_report(args, counts, repetitions, comparisons, summaries), indent=2,
                                        default=str))
    return 0 if all(level.pb_rows_match for levels in repetitions for level in levels) else 1


if __name__ == "__main__":
    sys.exit(exit_on_setup_failure(main))
