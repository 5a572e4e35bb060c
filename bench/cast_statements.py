"""PostgreSQL's own CPU per cast: the cast's two statements sent straight through asyncpg.

A cast on PostgreSQL runs two statements: the guard's read (``pb.voting.repo._VOTER_CHECK``) and
the write (``_WRITE_CAST_POSTGRES``). On a 2-core machine the backends' CPU for them limits
casting as much as the server's own, so this bench measures it without HTTP or pb's server in
the way: a scratch database migrated by ``pb migrate``, a round in voting with bulk voters, then
``--casts`` reads and ``--casts`` writes at ``--concurrency`` on a pool of asyncpg connections
(prepared statements, as pb's pool sends them), with the exact SQL of this checkout. Reported:
CPU of the pool's backends per statement (from ``/proc/<pid>/stat``; user and system), split
into read and write, for each of ``--repeats`` rounds, plus the server-wide background processes
(WAL writer, checkpointer, autovacuum: shared with anything else using this PostgreSQL).

    .venv/bin/python bench/cast_statements.py --casts 20000 --repeats 3
    .venv/bin/python bench/cast_statements.py --against "DROP INDEX sealed_ballot_round"

With ``--against DDL`` (repeatable) a second scratch database gets those statements after setup,
and the two are measured in turns of ``--turn`` statements (reads of one, reads of the other,
writes of one, writes of the other, …), so both see the same moments of a noisy machine; CPU then
comes from ``/proc/<pid>/schedstat`` (nanoseconds) and each round prints the second's CPU as a
share of the first's.

Needs PostgreSQL on this machine (the backends' /proc entries), at ``PB_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Awaitable, Callable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cast_common import (  # noqa: E402
    CpuMeter, add_voters, close_database, cpu_seconds, machine_load, open_database, pb_cli, pb_source,
    scratch_database,
)

MEASURED_APPLICATION = "pb-cast-statements"  # the measured pool's sessions
BACKGROUND_TYPES = ("walwriter", "checkpointer", "background writer", "autovacuum launcher", "autovacuum worker")
REVOKED_LOGINS = 1_000  # rows in revoked_login: the guard's lookup misses, as for a live login
WARM_UP = 500  # unmeasured statements of each kind first (prepare, caches)


@dataclass
class Election:
    organisation_id: int
    round_id: int
    budget_id: int
    user_ids: list[int]


async def set_up_election(voters: int) -> Election:
    """An organisation, a round in voting with one city-wide budget, ``voters`` bound citizens and
    some revoked logins, written through pb's table classes (bound by ``open_database``)."""
    from pb.accounts.tables import Organisation, RevokedLogin, User
    from pb.rounds.tables import Budget, Round

    now = datetime.now(timezone.utc)
    organisation_id = (await Organisation.insert(Organisation(name="Bench city", slug="bench", created_at=now))
                       .returning(Organisation.id))[0]["id"]
    round_id = (await Round.insert(Round(
        organisation=organisation_id, title="Bench round", phase="voting", max_proposal_amount=100_000,
        voting_start=now - timedelta(days=1), voting_end=now + timedelta(days=30), frozen_config="{}",
        frozen_config_hash=secrets.token_hex(32), created_by=1, created_at=now, updated_at=now,
    )).returning(Round.id))[0]["id"]
    budget_id = (await Budget.insert(Budget(round=round_id, name="City-wide", kind="citywide", amount=1_000_000))
                 .returning(Budget.id))[0]["id"]
    emails = await add_voters(organisation_id, 1, voters)
    user_ids = [row["id"] for row in await User.select(User.id).where(User.email.is_in(emails))]
    await RevokedLogin.insert(*[RevokedLogin(family=secrets.token_urlsafe(32), expires_at=now + timedelta(hours=1))
                                for _ in range(REVOKED_LOGINS)])
    await Round.raw("ANALYZE")
    return Election(organisation_id, round_id, budget_id, user_ids)


def postgres_text(sql: str) -> str:
    """pb's ``{}`` placeholders as ``$1, $2…`` (what ``pb.db.fetch`` sends)."""
    from pb.db import _postgres_text

    return _postgres_text(sql)


def read_parameters(election: Election, count: int) -> list[tuple]:
    """``voter_check``'s parameters for ``count`` voters (a live login each, never revoked)."""
    from pb.accounts import repo as accounts_repo

    users = election.user_ids
    return [(*accounts_repo.member_check_parameters(secrets.token_urlsafe(32), users[n % len(users)],
                                                    election.organisation_id),
             election.round_id, election.organisation_id, users[n % len(users)]) for n in range(count)]


def write_parameters(election: Election, count: int, ciphertext_bytes: int, pointer_bytes: int) -> list[tuple]:
    """``write_cast``'s parameters for ``count`` distinct voters: 64-hex nullifiers and receipt
    tags, random ciphertexts of ``ciphertext_bytes``, a sealed pointer of ``pointer_bytes`` (0: none)."""
    return [(election.round_id, election.budget_id, secrets.token_hex(32), "online",
             secrets.token_bytes(pointer_bytes) if pointer_bytes else None, "voting", secrets.token_hex(32),
             secrets.token_bytes(ciphertext_bytes)) for _ in range(count)]


async def run_all(pool, sql: str, parameters: Sequence[tuple], concurrency: int,
                  check: Callable[[list], None] | None = None) -> float:
    """Send ``sql`` once per parameter tuple from ``concurrency`` workers; wall seconds."""
    queue = iter(parameters)

    async def worker() -> None:
        async with pool.acquire() as connection:
            for values in queue:
                rows = await connection.fetch(sql, *values)
                if check is not None:
                    check(rows)

    began = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.monotonic() - began


def wrote_ballot(rows: list) -> None:
    if not rows or rows[0]["phase"] != "voting":
        raise RuntimeError(f"the write did not find the round in voting: {rows}")


async def pids_where(condition: str, *values) -> list[int]:
    """Backends of ``pg_stat_activity`` matching ``condition`` (asked on the bench's own session)."""
    from pb.voting.tables import Participation

    rows = await Participation.raw(f"SELECT pid FROM pg_stat_activity WHERE {condition}", *values)
    return [row["pid"] for row in rows]


def user_and_system(pids: list[int]) -> tuple[float, float]:
    """Summed user and system CPU seconds of ``pids`` (from /proc, like ``cpu_seconds``)."""
    from cast_common import CLK_TCK, _stat_fields

    user = system = 0.0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            user += int(fields[11]) / CLK_TCK
            system += int(fields[12]) / CLK_TCK
    return user, system


@dataclass
class Reading:
    label: str
    statements: int
    wall: float
    backend_user: float  # CPU seconds of the measured backends
    backend_system: float
    background: float  # CPU seconds of PostgreSQL's background processes (server-wide)

    def line(self) -> str:
        per = 1e6 / self.statements
        return (f"{self.label:<6} {self.statements:>7}  {(self.backend_user + self.backend_system) * per:7.0f} µs "
                f"(user {self.backend_user * per:4.0f}, sys {self.backend_system * per:4.0f})  "
                f"background {self.background * per:5.0f} µs  {self.statements / self.wall:7.0f}/s")


async def measure(label: str, send: Callable[[], Awaitable[float]], backends: list[int], statements: int) -> Reading:
    """CPU of ``backends`` and of the background processes while ``send`` runs."""
    background = CpuMeter(lambda: pids_where("backend_type = ANY({})", list(BACKGROUND_TYPES)))
    user0, system0 = user_and_system(backends)
    await background.start()
    wall = await send()
    background_seconds = await background.stop()
    user1, system1 = user_and_system(backends)
    return Reading(label, statements, wall, user1 - user0, system1 - system0, background_seconds)


class MeasuredPool:
    """``concurrency`` asyncpg connections to one database, whose backends' CPU is measured.

    ``application_name`` tells the pool's backends apart in ``pg_stat_activity`` (several pools,
    e.g. one per schema variant, can be measured in turns)."""

    def __init__(self, database_url: str, election: Election, args, read_sql: str, write_sql: str,
                 application_name: str = MEASURED_APPLICATION, server_settings: dict[str, str] | None = None):
        self.database_url, self.election, self.args = database_url, election, args
        self.read_sql, self.write_sql = read_sql, write_sql
        self.application_name, self.server_settings = application_name, server_settings or {}
        self.pool = None
        self.backends: list[int] = []

    async def open(self) -> None:
        """Connect, find the backends, and send ``WARM_UP`` unmeasured reads and writes."""
        import asyncpg

        concurrency = self.args.concurrency
        self.pool = await asyncpg.create_pool(
            self.database_url, min_size=concurrency, max_size=concurrency,
            server_settings={"application_name": self.application_name, **self.server_settings})
        self.backends = await pids_where("application_name = {}", self.application_name)
        if len(self.backends) != concurrency:
            raise RuntimeError(f"expected {concurrency} measured backends, found {len(self.backends)}")
        if any(cpu_seconds(pid) is None for pid in self.backends):
            raise RuntimeError("cannot read the backends' /proc entries: is PostgreSQL on this machine?")
        await self.send(self.read_sql, self.reads(WARM_UP))
        await self.send(self.write_sql, self.writes(WARM_UP), wrote_ballot)

    def reads(self, count: int) -> list[tuple]:
        return read_parameters(self.election, count)

    def writes(self, count: int) -> list[tuple]:
        return write_parameters(self.election, count, self.args.ciphertext_bytes, self.args.pointer_bytes)

    async def send(self, sql: str, parameters: Sequence[tuple], check=None) -> float:
        return await run_all(self.pool, sql, parameters, self.args.concurrency, check)

    async def one_round(self) -> list[Reading]:
        """``args.casts`` reads, then ``args.casts`` writes of fresh voters, each measured."""
        casts = self.args.casts
        reads, writes = self.reads(casts), self.writes(casts)
        read = await measure("read", lambda: self.send(self.read_sql, reads), self.backends, casts)
        write = await measure("write", lambda: self.send(self.write_sql, writes, wrote_ballot), self.backends, casts)
        return [read, write]

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()


def on_cpu_seconds(pids: list[int]) -> float:
    """Summed on-CPU time of ``pids`` (``/proc/<pid>/schedstat``: nanoseconds, where ``/proc/<pid>/stat``
    counts 10 ms ticks, too coarse for a turn of a few hundred statements)."""
    total = 0
    for pid in pids:
        total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    return total / 1e9


async def one_round_in_turns(pools: list[MeasuredPool], casts: int, turn: int) -> list[dict[str, float]]:
    """``casts`` reads and writes on every pool, ``turn`` at a time and pool after pool (the order
    reversed every other turn); µs of backend CPU per read and per write, one dict per pool."""
    seconds = [{"read": 0.0, "write": 0.0} for _ in pools]
    for number in range(casts // turn):
        order = list(enumerate(pools))[::-1 if number % 2 else 1]
        for kind in ("read", "write"):
            for index, pool in order:
                parameters = pool.reads(turn) if kind == "read" else pool.writes(turn)
                before = on_cpu_seconds(pool.backends)
                if kind == "read":
                    await pool.send(pool.read_sql, parameters)
                else:
                    await pool.send(pool.write_sql, parameters, wrote_ballot)
                seconds[index][kind] += on_cpu_seconds(pool.backends) - before
    sent = casts // turn * turn
    return [{kind: value * 1e6 / sent for kind, value in cpu.items()} for cpu in seconds]


def summary(readings: list[Reading]) -> str:
    lines = []
    for label in ("read", "write"):
        cpu = sorted((r.backend_user + r.backend_system) * 1e6 / r.statements for r in readings if r.label == label)
        if cpu:
            lines.append(f"{label}: {cpu[0]:.0f}-{cpu[-1]:.0f} µs per statement (median {statistics.median(cpu):.0f})")
    return "\n".join(lines)


async def _prepare(scratch, voters: int) -> Election:
    engine = await open_database(scratch)
    try:
        return await set_up_election(voters)
    finally:
        await close_database(engine)


async def _measure(scratch, election: Election, args) -> list[Reading]:
    from pb.voting import repo

    engine = await open_database(scratch)  # the bench's own session: pg_stat_activity and /proc
    pool = MeasuredPool(scratch.database_url, election, args, postgres_text(repo._VOTER_CHECK),
                        postgres_text(repo._WRITE_CAST_POSTGRES))
    try:
        await pool.open()
        return [reading for _ in range(args.repeats) for reading in await pool.one_round()]
    finally:
        await pool.close()
        await close_database(engine)


async def _compare(scratches: list, elections: list[Election], args) -> list[list[dict[str, float]]]:
    from pb.voting import repo

    engine = await open_database(scratches[0])  # the bench's own session: pg_stat_activity
    pools = [MeasuredPool(scratch.database_url, election, args, postgres_text(repo._VOTER_CHECK),
                          postgres_text(repo._WRITE_CAST_POSTGRES), application_name=f"{MEASURED_APPLICATION}-{n}")
             for n, (scratch, election) in enumerate(zip(scratches, elections))]
    try:
        for pool in pools:
            await pool.open()
        rounds = []
        for _ in range(args.repeats):
            rounds.append(await one_round_in_turns(pools, args.casts, args.turn))
            base, other = rounds[-1]
            print(f"as checked out: read {base['read']:4.0f} µs, write {base['write']:4.0f} µs;  with --against: "
                  f"read {other['read']:4.0f} µs (x{other['read'] / base['read']:.3f}), "
                  f"write {other['write']:4.0f} µs (x{other['write'] / base['write']:.3f})", flush=True)
        return rounds
    finally:
        for pool in pools:
            await pool.close()
        await close_database(engine)


async def _run_ddl(scratch, statements: list[str]) -> None:
    from pb.voting.tables import Participation

    engine = await open_database(scratch)
    try:
        for statement in statements:
            await Participation.raw(statement)
        await Participation.raw("ANALYZE")
    finally:
        await close_database(engine)


def compare(args) -> None:
    """The checkout's schema against the same with ``args.against`` run on it, measured in turns."""
    with scratch_database("postgres", "statements", keep=args.keep) as first, \
            scratch_database("postgres", "statements_against", keep=args.keep) as second:
        elections = []
        for scratch in (first, second):
            pb_cli(scratch, "migrate")
            elections.append(asyncio.run(_prepare(scratch, args.voters)))
        asyncio.run(_run_ddl(second, args.against))
        rounds = asyncio.run(_compare([first, second], elections, args))
    for kind in ("read", "write"):
        shares = sorted(other[kind] / base[kind] for base, other in rounds)
        print(f"{kind}: with --against x{statistics.median(shares):.3f} of as checked out "
              f"(median of {len(shares)} rounds; {shares[0]:.3f}-{shares[-1]:.3f})")


def parse_args(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--casts", type=int, default=20_000, help="reads and writes per round (default 20,000)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of reads then writes (default 3)")
    parser.add_argument("--concurrency", type=int, default=10, help="connections sending at once (default 10)")
    parser.add_argument("--voters", type=int, default=20_000, help="bound citizens the reads cycle through")
    parser.add_argument("--ciphertext-bytes", type=int, default=300, help="sealed ballot size (default 300)")
    parser.add_argument("--pointer-bytes", type=int, default=0,
                        help="vote revision's sealed pointer (default 0: none, as in a round without revision)")
    parser.add_argument("--against", action="append", default=[], metavar="DDL",
                        help="measure against a second database with this statement run after setup (repeatable)")
    parser.add_argument("--turn", type=int, default=500, help="with --against: statements per turn (default 500)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    return parser.parse_args(argv)


def main() -> int:
    args = parse_args()
    os.environ.setdefault("PICCOLO_CONF", "pb.piccolo_conf")
    print(f"{pb_source()}; {args.casts} casts x {args.repeats} at concurrency {args.concurrency}; "
          f"load {machine_load()}")
    if args.against:
        print("against: " + "; ".join(args.against))
        compare(args)
        print(f"load after: {machine_load()}")
        return 0
    with scratch_database("postgres", "statements", keep=args.keep) as scratch:
        pb_cli(scratch, "migrate")
        election = asyncio.run(_prepare(scratch, args.voters))
        readings = asyncio.run(_measure(scratch, election, args))
    print("PostgreSQL backend CPU per statement (the measured pool's backends), background processes server-wide")
    for reading in readings:
        print(reading.line())
    print(summary(readings))
    print(f"load after: {machine_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
