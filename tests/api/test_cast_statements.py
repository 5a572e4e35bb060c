"""The cast path's budget of SQL statements, counted through the real app on both engines.

A cast is the hottest write of a voting day (issue 11): every statement it runs is a round trip
(PostgreSQL) or a trip to the SQLite thread, paid a thousand times a second. These tests count the
statements one cast sends to the database, the role guard included, and fail if the path grows.

What is counted: every SQL statement the application sends. Not counted: the connection layer's
housekeeping, which the connection layer owns and measures itself: asyncpg's pool reset on
release, and the ``PRAGMA foreign_keys = 1`` Piccolo's SQLite engine repeats before each query.

Statements per cast (steady state: the frozen configuration already cached in the process),
measured with this file; in brackets the connection layer's housekeeping on top, before the
connection layer kept one connection per request (pb/engines.py). Since then a cast has no
housekeeping at all (no pool reset, PRAGMAs once per pooled connection), and the test checks it:

| engine     | before (main 783e3bc) | ff44c45 | now | a refused second ballot: before / ff44c45 / now |
|------------|-----------------------|---------|-----|-------------------------------------------------|
| PostgreSQL | 12 (+8 pool resets)   | 3       | 2   | 7 (+7) / 3 / 2                                  |
| SQLite     | 12 (+11 PRAGMAs)      | 6       | 5   | 7 (+7) / 5 / 4                                  |

Before: revoked login, membership, round phase, frozen config, census entry, voting window,
already voted; then BEGIN, phase FOR SHARE, participation, sealed ballot, COMMIT.
Now: one read, made by the cast's guard (``pb.voting.guards.requires_voter``): revoked login and
membership (the role guard's member check) beside the round's phase, voting window and config hash
and the caller's census entry; then on PostgreSQL one statement writing participation and sealed
ballot under a shared lock on the round row; on SQLite ``BEGIN IMMEDIATE``, participation (inserted
only if the round is voting), sealed ballot, ``COMMIT``. The first cast of a round in a process
reads the frozen configuration once more (then it is cached by its hash).
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from contextvars import ContextVar
from typing import Iterator

import pytest

from pb.db import is_postgres
from tests.steps_rounds import advance
from tests.steps_voting import cast, round_in_voting_with_voters

pytestmark = [pytest.mark.anyio, pytest.mark.db]

CAST_BUDGET = {"postgres": 2, "sqlite": 5}  # was 3 and 6 before the guard read the round too
HOUSEKEEPING = ("PRAGMA foreign_keys",)


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)  # what the application sent
    housekeeping: list[str] = field(default_factory=list)  # what the connection layer added

    def report(self) -> str:
        return "\n".join([f"{len(self.statements)} statements:", *self.statements,
                          f"{len(self.housekeeping)} housekeeping:", *self.housekeeping])


@contextmanager
def counted_statements() -> Iterator[Counted]:
    """Record the SQL statements sent to either engine while the block runs."""
    import aiosqlite
    import asyncpg.connection

    counted = Counted()
    in_reset: ContextVar[bool] = ContextVar("in_reset", default=False)

    def note(sql: str) -> None:
        sql = " ".join(sql.split())
        upper = sql.upper()
        housekeeping = in_reset.get() or any(upper.startswith(h.upper()) for h in HOUSEKEEPING)
        (counted.housekeeping if housekeeping else counted.statements).append(sql)

    def counting(method):
        async def wrapper(self, query, *args, **kwargs):
            note(query)
            return await method(self, query, *args, **kwargs)
        return wrapper

    async def reset_as_housekeeping(self, *args, **kwargs):
        token = in_reset.set(True)
        try:
            return await original_reset(self, *args, **kwargs)
        finally:
            in_reset.reset(token)

    async def traced(self, fn, *args, **kwargs):
        """Run the call on the connection's thread with SQLite's own trace hook on: it sees every
        statement SQLite starts (BEGIN and COMMIT included), however the caller phrased it."""
        def run():
            connection = self._conn
            connection.set_trace_callback(note)
            try:
                return fn(*args, **kwargs)
            finally:
                with suppress(sqlite3.ProgrammingError):  # the call closed the connection
                    connection.set_trace_callback(None)
        return await original_execute(self, run)

    pg = asyncpg.connection.Connection
    originals = {name: getattr(pg, name) for name in ("execute", "executemany", "fetch", "fetchrow", "fetchval")}
    original_reset, original_execute = pg.reset, aiosqlite.Connection._execute
    try:
        for name, method in originals.items():
            setattr(pg, name, counting(method))
        pg.reset = reset_as_housekeeping
        aiosqlite.Connection._execute = traced
        yield counted
    finally:
        for name, method in originals.items():
            setattr(pg, name, method)
        pg.reset = original_reset
        aiosqlite.Connection._execute = original_execute


def _engine() -> str:
    return "postgres" if is_postgres() else "sqlite"


def _within(counted: Counted, budget: int) -> bool:
    """At most ``budget`` statements, and some: none seen means the counter no longer sees the
    connection layer (e.g. a new driver) and must be taught it, not that the path got free."""
    assert counted.statements, "no statement counted: hook counted_statements into the connection layer"
    return len(counted.statements) <= budget


async def test_a_cast_stays_within_its_statement_budget(client):
    """A cast (guard included) runs at most CAST_BUDGET statements; adding one fails this test."""
    world = await round_in_voting_with_voters(client)
    north = world["proposals"]["north"]
    assert (await cast(client, world, world["voters"][0], "north", [north[0]])).status_code == 201  # warms caches
    with counted_statements() as counted:
        response = await cast(client, world, world["voters"][1], "north", [north[1]])
    assert response.status_code == 201, response.text
    assert _within(counted, CAST_BUDGET[_engine()]), counted.report()
    assert not counted.housekeeping, counted.report()  # one reused connection: no reset, no PRAGMA


async def test_a_second_ballot_is_refused_by_the_unique_index_without_extra_reads(client):
    """The "already voted" refusal costs no more statements than a cast: no pre-check read."""
    world = await round_in_voting_with_voters(client)
    north = world["proposals"]["north"]
    assert (await cast(client, world, world["voters"][0], "north", [north[0]])).status_code == 201
    with counted_statements() as counted:
        again = await cast(client, world, world["voters"][0], "north", [north[1]])
    assert again.status_code == 409 and again.json()["code"] == "already_voted"
    assert _within(counted, CAST_BUDGET[_engine()]), counted.report()


def test_every_guard_runs_on_the_event_loop(app):
    """Litestar runs a plain-function guard in a thread pool: a hand-off on every request it guards
    (the app-wide path guard was one). Every guard of every route is a coroutine function."""
    import inspect

    handlers = [handler for route in app.routes for handler in getattr(route, "route_handlers", [])]
    assert handlers
    threaded = {f"{handler}: {getattr(guard, 'func', guard)}" for handler in handlers
                for guard in handler.resolve_guards() if not inspect.iscoroutinefunction(guard)}
    assert not threaded, sorted(threaded)


RECEIPT_LOOKUP_BUDGET = 1  # before: 3 during voting (phase, sealed tag, every replaced receipt of the round)


async def test_a_receipt_lookup_is_one_statement(client):
    """The public receipt check (the link every voter gets) answers from one statement, during
    voting and after close."""
    world = await round_in_voting_with_voters(client)
    receipt = (await cast(client, world, world["voters"][0], "north", [world["proposals"]["north"][0]])).json()["receipt"]
    url = f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}/receipts/lookup"

    async def look_up() -> dict:
        with counted_statements() as counted:
            found = await client.post(url, json={"receipt": receipt})
        assert found.status_code == 200, found.text
        assert _within(counted, RECEIPT_LOOKUP_BUDGET), counted.report()
        return found.json()

    assert (await look_up())["content"] is None  # voting: found by its tag among the sealed ballots
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    assert (await look_up())["content"]["projects"] == [world["proposals"]["north"][0]]  # opened
