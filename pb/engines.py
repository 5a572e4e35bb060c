"""Piccolo engines that reuse connections: one per request, a fair pool, a write queue for SQLite.

Piccolo checks a connection out of the pool for every query (PostgreSQL) or opens a new one
with its own thread (SQLite). A request that runs seven queries then pays seven checkouts. Here:

- ``RequestConnectionMiddleware`` gives each HTTP request a *lease*: the first query checks a
  connection out, every later query and transaction of the same request reuses it, and the end
  of the request gives it back. Only the request's own task uses the lease: a task it spawns
  (and everything outside requests: start-up, background workers, the CLI) checks a connection
  out per query or transaction, as Piccolo does.
- ``FairPool`` puts a FIFO semaphore in front of the connections, so under a burst every waiter
  is served in turn. Inside a request, a wait longer than ``wait_seconds`` answers 503 with
  ``Retry-After`` (``ServerBusy``) instead of hanging; outside requests waits are unbounded.
- PostgreSQL: asyncpg's pool without its per-release session reset (see ``_keep_session``).
- SQLite: a small pool of reused aiosqlite connections, PRAGMAs set once per connection, and a
  write queue: SQLite has one writer, so write transactions (and plain INSERT/UPDATE/DELETE) take
  their turn in the process instead of spinning on the busy timeout.

Before ``start()`` (and after ``stop()``) there is no pool and the engines behave as Piccolo's.
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
from contextvars import ContextVar
from typing import Any, Generic, Optional, Protocol, TypeVar

import aiosqlite
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

from pb.core.errors import ServerBusy

Connection = TypeVar("Connection")


class Lease:
    """The connection one request's queries share, checked out on first use."""

    __slots__ = ("task", "pool", "connection")

    def __init__(self, task: Optional[asyncio.Task]):
        self.task = task
        self.pool: Optional[FairPool] = None
        self.connection: Any = None

    def serves_this_task(self) -> bool:
        return self.task is not None and self.task is asyncio.current_task()

    async def give_back(self) -> None:
        if self.connection is not None:
            connection, self.connection = self.connection, None
            await self.pool._check_in(connection)
        self.task = None  # a query after the end of the request checks out its own connection


_lease: ContextVar[Optional[Lease]] = ContextVar("pb_request_connection", default=None)


class RequestConnectionMiddleware:
    """Pure ASGI: one lease per HTTP request, given back when the request is over (even on error)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        lease = Lease(asyncio.current_task())
        token = _lease.set(lease)
        try:
            await self.app(scope, receive, send)
        finally:
            _lease.reset(token)
            await lease.give_back()


def in_request() -> bool:
    lease = _lease.get()
    return lease is not None and lease.serves_this_task()


async def take(turn: asyncio.Semaphore, wait_seconds: float, what: str) -> None:
    """Acquire ``turn``, in order of arrival; inside a request, give up after ``wait_seconds`` with
    ``ServerBusy`` (outside requests, e.g. a background job, wait as long as it takes)."""
    if not turn.locked() or not in_request():
        await turn.acquire()
        return
    try:
        async with asyncio.timeout(wait_seconds):
            await turn.acquire()
    except TimeoutError:
        raise busy(wait_seconds, what) from None


def busy(wait_seconds: float, what: str) -> ServerBusy:
    retry_after = max(1, math.ceil(wait_seconds))
    return ServerBusy(f"The server is busy ({what}); try again in {retry_after} second"
                      f"{'s' if retry_after != 1 else ''}.", retry_after)


class ConnectionSource(Protocol[Connection]):
    """Where a ``FairPool``'s connections come from and go back to (asyncpg's pool, or idle SQLite
    connections)."""

    async def take(self) -> Connection: ...

    async def give(self, connection: Connection) -> None: ...

    async def close(self) -> None: ...


class FairPool(Generic[Connection]):
    """``size`` connections handed out first come, first served; the request's lease reuses one.

    ``acquire``/``release`` are what Piccolo's engines and transactions call; ``source`` says how a
    connection is taken and given back. ``checkouts`` counts real checkouts (tests and benches read
    it).
    """

    def __init__(self, source: ConnectionSource[Connection], size: int, wait_seconds: float):
        self.source = source
        self.size = size
        self.wait_seconds = wait_seconds
        self._slots = asyncio.Semaphore(size)
        self.checkouts = 0
        self.in_use = 0

    async def acquire(self) -> Connection:
        lease = _lease.get()
        if lease is None or not lease.serves_this_task() or lease.pool not in (None, self):
            return await self._check_out()
        if lease.connection is None:
            lease.connection = await self._check_out()
            lease.pool = self
        return lease.connection

    async def release(self, connection: Connection) -> None:
        lease = _lease.get()
        if lease is not None and lease.connection is connection:
            return  # the request keeps it until it ends
        await self._check_in(connection)

    async def _check_out(self) -> Connection:
        await take(self._slots, self.wait_seconds, "all database connections are in use")
        try:
            connection = await self.source.take()
        except BaseException:
            self._slots.release()
            raise
        self.checkouts += 1
        self.in_use += 1
        return connection

    async def _check_in(self, connection: Connection) -> None:
        self.in_use -= 1
        try:
            await self.source.give(connection)
        finally:
            self._slots.release()

    async def close(self) -> None:
        await self.source.close()


# --- PostgreSQL --------------------------------------------------------------------------------

async def _keep_session(connection: Any) -> None:
    """asyncpg's pool resets every connection it gets back (``RESET ALL``, ``UNLISTEN *``, advisory
    unlock, ``CLOSE ALL``): a round trip per checkout. pb leaves no session state behind: no ``SET``
    (only transaction-scoped settings), no ``LISTEN``, only transaction-scoped advisory locks
    (``pg_advisory_xact_lock``), no cursors outside transactions. asyncpg still rolls back a
    transaction left open before calling this hook, so a connection always comes back clean."""


class AsyncpgConnections:
    """asyncpg's own pool as a ``ConnectionSource``."""

    def __init__(self, pool: Any):
        self._pool = pool

    async def take(self) -> Any:
        return await self._pool.acquire()

    async def give(self, connection: Any) -> None:
        await self._pool.release(connection)

    async def close(self) -> None:
        await self._pool.close()


class PooledPostgresEngine(PostgresEngine):
    """Piccolo's PostgresEngine whose pool is a ``FairPool`` (its transactions call
    ``pool.acquire``/``pool.release``, so they share the request's connection unchanged)."""

    def __init__(self, config: dict, pool_size: int, wait_seconds: float, **kwargs: Any):
        super().__init__(config=config, **kwargs)
        self.pool_size = pool_size
        self.wait_seconds = wait_seconds

    async def start_connection_pool(self, **kwargs: Any) -> None:
        if self.pool:
            return
        import asyncpg

        pool = await asyncpg.create_pool(**{**self.config, "min_size": 1, "max_size": self.pool_size,
                                            "reset": _keep_session, **kwargs})
        self.pool = FairPool(AsyncpgConnections(pool), self.pool_size, self.wait_seconds)

    async def _run_in_pool(self, query: str, args: Optional[list] = None):
        connection = await self.pool.acquire()
        try:
            return await connection.fetch(query, *(args or []))
        finally:
            await self.pool.release(connection)


# --- SQLite ------------------------------------------------------------------------------------

class SQLiteConnections:
    """Open aiosqlite connections kept for reuse (each has its thread; opening one costs ~1.6 ms),
    as a ``ConnectionSource``."""

    def __init__(self, connection_kwargs: dict, synchronous_normal: bool = False):
        self._connection_kwargs = connection_kwargs
        self._synchronous_normal = synchronous_normal
        self._idle: list[aiosqlite.Connection] = []
        self._closed = False

    async def take(self) -> aiosqlite.Connection:
        return self._idle.pop() if self._idle else await self._open()

    async def _open(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self._connection_kwargs)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        # Once per connection (Piccolo repeats foreign_keys before every statement). The busy
        # timeout comes from the connection's ``timeout``; WAL lets readers run beside the writer.
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute("PRAGMA journal_mode = WAL")
        if self._synchronous_normal:  # else SQLite's default (or what a connection factory chose)
            await connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    async def give(self, connection: aiosqlite.Connection) -> None:
        if not self._closed and connection.in_transaction:  # a cancelled request left one open
            try:
                await connection.execute("ROLLBACK")
            except sqlite3.Error:
                await connection.close()
                return
        if self._closed:
            await connection.close()
        else:
            self._idle.append(connection)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()


class WriteQueue:
    """SQLite's single writer as an in-process queue: one write at a time, first come first served.

    Writers wait here (cheaply, in order) rather than in SQLite's busy handler; inside a request a
    writer that does not get its turn within ``wait_seconds`` gets 503 with ``Retry-After``.
    """

    def __init__(self, wait_seconds: float):
        self.wait_seconds = wait_seconds
        # A semaphore, not a Lock: its locked() also counts queued waiters, so a newcomer never
        # skips the timeout by arriving in the instant between a release and the next waiter's turn.
        self._turn = asyncio.BoundedSemaphore(1)

    async def take_turn(self) -> None:
        await take(self._turn, self.wait_seconds, "too many changes are waiting to be saved")

    def end_turn(self) -> None:
        self._turn.release()


WRITING_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _writes(query: str) -> bool:
    """A plain write (Piccolo marks only inserts in ``query_type``; updates and deletes are "generic")."""
    return query.lstrip()[:7].upper().startswith(WRITING_STATEMENTS)


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLiteEngine on a ``FairPool`` of ``SQLiteConnections``, with the ``WriteQueue`` in front of writes."""

    def __init__(self, path: str, pool_size: int, wait_seconds: float, synchronous_normal: bool = False,
                 **connection_kwargs: Any):
        super().__init__(path=path, **connection_kwargs)
        self.pool_size = pool_size
        self.wait_seconds = wait_seconds
        self.synchronous_normal = synchronous_normal
        self.pool: Optional[FairPool] = None
        self.write_queue: Optional[WriteQueue] = None

    async def start_connection_pool(self) -> None:
        # SQLite before 3.35 has no RETURNING; Piccolo's own path then fetches inserted keys itself.
        if self.pool is None and self.get_version_sync() >= 3.35:
            self.pool = FairPool(SQLiteConnections(self.connection_kwargs, self.synchronous_normal), self.pool_size,
                                 self.wait_seconds)
            self.write_queue = WriteQueue(self.wait_seconds)

    async def close_connection_pool(self) -> None:
        pool, self.pool, self.write_queue = self.pool, None, None
        if pool is not None:
            await pool.close()

    async def _run_in_new_connection(self, query: str, args: Optional[list] = None, query_type: str = "generic",
                                     table: Any = None):
        """Outside a transaction: a pooled connection (the request's), in the write queue if it writes."""
        pool, queue = self.pool, self.write_queue
        if pool is None:
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await pool.acquire()
        try:
            if not _writes(query):
                return await _fetch_all(connection, query, args)
            await queue.take_turn()
            try:
                return await _fetch_all(connection, query, args)
            finally:
                queue.end_turn()
        finally:
            await pool.release(connection)

    async def _run_in_existing_connection(self, connection: Any, query: str, args: Optional[list] = None,
                                          query_type: str = "generic", table: Any = None):
        if self.pool is None:
            return await super()._run_in_existing_connection(connection, query, args, query_type, table)
        return await _fetch_all(connection, query, args)

    def transaction(self, transaction_type: TransactionType = TransactionType.deferred,
                    allow_nested: bool = True) -> SQLiteTransaction:
        if self.pool is None:
            return super().transaction(transaction_type, allow_nested)
        return PooledSQLiteTransaction(self, transaction_type, allow_nested)


async def _fetch_all(connection: aiosqlite.Connection, query: str, args: Optional[list]) -> list[dict]:
    async with connection.execute(query, args or []) as cursor:
        return await cursor.fetchall()


class PooledSQLiteTransaction(SQLiteTransaction):
    """A transaction on a pooled connection; an IMMEDIATE or EXCLUSIVE one waits for its write turn
    (after taking its connection: the turn's holder must never wait for a connection)."""

    __slots__ = ("_pool", "_queue")

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        # Kept: at shutdown the engine drops its pool while the last requests finish.
        self._pool = self.engine.pool
        self._queue = self.engine.write_queue if self.transaction_type is not TransactionType.deferred else None
        self.connection = await self._pool.acquire()
        try:
            if self._queue is not None:
                await self._queue.take_turn()
            try:
                await self.begin()
            except BaseException:
                if self._queue is not None:
                    self._queue.end_turn()
                raise
        except BaseException:
            await self._pool.release(self.connection)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            if self._queue is not None:
                self._queue.end_turn()
            await self._pool.release(self.connection)
        return exception is None
