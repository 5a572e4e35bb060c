"""The database engine: built from settings, bound to every table, one place for engine differences.

Piccolo binds each Table to an engine through ``Table._meta.db``. ``bind_engine`` points every pb
table (and Piccolo's own migration table) at one engine, so the same process can serve SQLite or
PostgreSQL, and the test suite can run the same tests against both. The engines are Piccolo's with
connection reuse (``pb.engines``): one pooled connection per request, a write queue on SQLite.
"""

from __future__ import annotations

import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Mapping
from urllib.parse import urlparse

from piccolo.apps.migrations.tables import Migration
from piccolo.engine.base import Engine
from piccolo.engine.sqlite import TransactionType

from pb.core.errors import Conflict
from pb.engines import PooledPostgresEngine, PooledSQLiteEngine

if TYPE_CHECKING:
    from pb.settings import Settings

try:  # asyncpg is installed with piccolo[postgres]
    from asyncpg.exceptions import UniqueViolationError
except ImportError:  # pragma: no cover - PostgreSQL support not installed
    UniqueViolationError = ()  # type: ignore[assignment,misc]

SQLITE_BUSY_TIMEOUT_SECONDS = 30  # a backstop: writers queue in pb.engines.WriteQueue first
POOL_SIZE = 10
QUEUE_SECONDS = 5.0


def make_engine(database_url: str, pool_size: int = POOL_SIZE, queue_seconds: float = QUEUE_SECONDS,
                sqlite_synchronous: str = "full") -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql://…`` URLs: up to ``pool_size`` connections
    once started; a request that waits ``queue_seconds`` for a connection (or SQLite's write turn)
    is answered 503."""
    parsed = urlparse(database_url)
    if parsed.scheme == "sqlite":
        path = database_url[len("sqlite:///") :] if database_url.startswith("sqlite:///") else parsed.path
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return PooledSQLiteEngine(path=path, pool_size=pool_size, wait_seconds=queue_seconds,
                                  synchronous_normal=sqlite_synchronous == "normal",
                                  timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    if parsed.scheme in {"postgres", "postgresql"}:
        return PooledPostgresEngine(config={"dsn": database_url}, pool_size=pool_size, wait_seconds=queue_seconds)
    raise ValueError(f"unsupported database URL scheme {parsed.scheme!r}: use sqlite:/// or postgresql://")


def all_tables() -> list[type]:
    """Every pb table, in creation order (imported lazily: tables import piccolo only)."""
    from pb.piccolo_app import TABLES

    return list(TABLES)


def bind_engine(engine: Engine) -> None:
    """Point every table, Piccolo's migration table and ``engine_finder`` at ``engine``."""
    import pb.piccolo_conf as conf

    conf.DB = engine
    for table in [*all_tables(), Migration]:
        table._meta.db = engine


def current_engine() -> Engine:
    import pb.piccolo_conf as conf

    return conf.DB


def is_postgres(engine: Engine | None = None) -> bool:
    return (engine or current_engine()).engine_type in {"postgres", "cockroach"}


_POSTGRES_TEXT: dict[str, str] = {}


def _postgres_text(sql: str) -> str:
    """``sql`` with its ``{}`` placeholders numbered as PostgreSQL's ``$1, $2…`` (once per text)."""
    text = _POSTGRES_TEXT.get(sql)
    if text is None:
        pieces = sql.split("{}")
        text = pieces[0] + "".join(f"${number}{piece}" for number, piece in enumerate(pieces[1:], start=1))
        _POSTGRES_TEXT[sql] = text
    return text


async def fetch(sql: str, *parameters: Any) -> list[Mapping[str, Any]]:
    """The rows of one statement with ``{}`` placeholders, as Piccolo's ``Table.raw`` would return
    them, for the hottest statements (the cast's read and write, the role guard's check).

    Why not ``raw``: Piccolo rebuilds and compiles the statement text on every call, about 5 % of a
    cast's CPU. On PostgreSQL outside a Piccolo transaction the numbered text is made once and sent
    on the engine's pool (the request's connection, asyncpg's prepared-statement cache); otherwise
    this is Piccolo's path. Rows are mappings (asyncpg records or dicts): read them by column name.
    """
    engine = current_engine()
    if isinstance(engine, PooledPostgresEngine) and engine.pool and not engine.current_transaction.get():
        return await engine._run_in_pool(_postgres_text(sql), list(parameters))
    from piccolo.querystring import QueryString

    return await engine.run_querystring(QueryString(sql, *parameters))


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """One transaction for one use case.

    SQLite: ``BEGIN IMMEDIATE`` takes the write lock at the start, so concurrent writers never fail
    with "database is locked" half-way; they wait their turn in the engine's write queue first (in a
    request, at most ``database.queue_seconds``, then 503 ``ServerBusy``). PostgreSQL: a normal
    transaction (READ COMMITTED); invariants are kept by constraints and conditional updates.
    Unique violations surface as ``Conflict``.
    """
    engine = current_engine()
    try:
        if is_postgres(engine):
            async with engine.transaction():
                yield
        else:
            async with engine.transaction(transaction_type=TransactionType.immediate):
                yield
    except (sqlite3.IntegrityError, UniqueViolationError) as error:  # type: ignore[misc]
        if "unique" in str(error).lower() or isinstance(error, UniqueViolationError):
            raise Conflict("This would duplicate something that must be unique.") from error
        raise


def is_unique_violation(error: BaseException) -> bool:
    if isinstance(error, Conflict):
        return True
    if isinstance(error, UniqueViolationError):  # type: ignore[arg-type]
        return True
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error).upper()


async def prepare_engine(engine: Engine) -> None:
    """Per-database settings that are not part of the schema."""
    if not is_postgres(engine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")


def engine_for(settings: "Settings") -> Engine:
    return make_engine(settings.database_url, settings.database_pool_size, settings.database_queue_seconds,
                       settings.database_sqlite_synchronous)


async def start(engine: Engine) -> None:
    """Open the engine's connection pool (before it, every query opens its own connection)."""
    await engine.start_connection_pool()


async def stop(engine: Engine) -> None:
    if getattr(engine, "pool", None) is not None:
        await engine.close_connection_pool()


async def migrate() -> None:
    """Run every pending migration forwards on the bound engine."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards("pb")
    if not result.success:
        raise RuntimeError(f"migration failed: {result.message}")


# --- is the configured database there and migrated? ------------------------------------------

class DatabaseNotReady(Exception):
    """The configured database is missing, unreachable or not migrated. The message is one line
    that says what is wrong and how to fix it (the CLI prints it as it is)."""


def sqlite_file(database_url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL (None for PostgreSQL or an in-memory database)."""
    if not database_url.startswith("sqlite:"):
        return None
    path = database_url[len("sqlite:///") :] if database_url.startswith("sqlite:///") else urlparse(database_url).path
    return None if not path or path == ":memory:" else Path(path)


def describe_url(database_url: str) -> str:
    """The URL without its password, for messages."""
    parsed = urlparse(database_url)
    if parsed.password is None:
        return database_url
    return parsed._replace(netloc=parsed.netloc.replace(f":{parsed.password}@", ":***@")).geturl()


def check_file_exists(database_url: str) -> None:
    """Refuse a SQLite URL whose file does not exist, instead of creating an empty database."""
    path = sqlite_file(database_url)
    if path is not None and not path.is_file():
        raise DatabaseNotReady(
            f"No database at {path.resolve()} (database.url = {database_url}). "
            "Run `pb migrate` to create it, or point PB_DATABASE_URL at your database."
        )


def _pb_migration_ids() -> set[str]:
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    manager = BaseMigrationManager()
    folder = manager.get_app_config("pb").resolved_migrations_folder_path
    return set(manager.get_migration_ids(manager.get_migration_modules(folder)))


async def pending_migrations() -> list[str]:
    """IDs of pb's migrations not yet applied to the bound engine (all of them on an empty database)."""
    known = _pb_migration_ids()
    if not await Migration.table_exists():
        return sorted(known)
    ran = set(await Migration.get_migrations_which_ran(app_name="pb"))
    return sorted(known - ran)


async def check_migrated(database_url: str) -> None:
    """Raise ``DatabaseNotReady`` unless every pb migration has run on the bound engine."""
    pending = await pending_migrations()
    if pending:
        state = "is empty (never migrated)" if len(pending) == len(_pb_migration_ids()) else (
            f"is {len(pending)} migration(s) behind")
        raise DatabaseNotReady(f"The database {describe_url(database_url)} {state}: run `pb migrate` first.")
