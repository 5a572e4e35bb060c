"""Test harness: every DB test runs once on SQLite and once on PostgreSQL.

- SQLite: the migrations run once per session into a template file; each test gets a copy.
- PostgreSQL: a fresh database ``pb_test_<pid>`` is created and migrated once per session; each
  test starts from truncated tables. PostgreSQL must be reachable (PB_TEST_POSTGRES_URL, default
  the local server's ``test`` database is used to create ours). It is never silently skipped: set
  PB_TEST_ENGINES=sqlite explicitly to run SQLite only on a machine without PostgreSQL.
- The app runs in the test's own event loop (httpx ASGITransport inside the app's lifespan),
  because Litestar 2's AsyncTestClient runs the app in another loop, which breaks asyncpg.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import AsyncIterator

import pytest

os.environ.setdefault("PICCOLO_CONF", "pb.piccolo_conf")

# CI runs Hypothesis derandomized (the same examples every run, so main stays reproducibly green);
# developers' runs explore new random examples and print a reproduction blob on failure.
from hypothesis import settings as hypothesis_settings

hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "dev")

ENGINES = [e.strip() for e in os.environ.get("PB_TEST_ENGINES", "sqlite,postgres").split(",") if e.strip()]
POSTGRES_ADMIN_URL = os.environ.get("PB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


async def _migrate(url: str) -> None:
    from pb import db

    engine = db.make_engine(url)
    db.bind_engine(engine)
    await db.migrate()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


def _postgres_url_for(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


async def _connect_admin():
    """A connection to create our databases through: PB_TEST_POSTGRES_URL (default database
    ``test``); on a stock server without ``test``, the server's ``postgres`` database."""
    import asyncpg

    try:
        return await asyncpg.connect(POSTGRES_ADMIN_URL)
    except asyncpg.InvalidCatalogNameError:
        return await asyncpg.connect(_postgres_url_for("postgres"))


@pytest.fixture(scope="session")
def postgres_database() -> AsyncIterator[str]:
    import asyncpg

    name = f"pb_test_{os.getpid()}"

    async def create() -> None:
        try:
            connection = await _connect_admin()
        except (OSError, asyncpg.PostgresError) as error:
            pytest.fail(
                f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({error}). Start it (see README) "
                "or run with PB_TEST_ENGINES=sqlite explicitly.",
                pytrace=False,
            )
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        await _migrate(_postgres_url_for(name))

    async def drop() -> None:
        connection = await _connect_admin()
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(create())
    yield _postgres_url_for(name)
    asyncio.run(drop())


async def _truncate_postgres(url: str) -> None:
    import asyncpg

    from pb.db import all_tables

    names = ", ".join(f'"{table._meta.tablename}"' for table in all_tables())
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated, empty database for one test, on the parametrised engine."""
    if request.param == "sqlite":
        path = tmp_path / "pb.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_database")
        asyncio.run(_truncate_postgres(url))
        return url
    raise ValueError(f"unknown engine {request.param!r} in PB_TEST_ENGINES")


@pytest.fixture(scope="session")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("secrets")


@pytest.fixture
def settings(database_url: str, secrets_dir: Path):
    from pb.settings import load_settings

    return load_settings(
        {}, database_url=database_url, secrets_dir=secrets_dir, rate_limit_per_minute=0,
        rate_limit_account_per_minute=0,
        public_url="http://testserver",
        # Real argon2id, at a test-sized cost: production keeps the defaults from config/default.toml.
        password_time_cost=1, password_memory_kib=1024,
    )


@pytest.fixture
def app(settings):
    from pb.app import create_app

    return create_app(settings)


@pytest.fixture
async def client(app) -> AsyncIterator["httpx.AsyncClient"]:  # noqa: F821
    import httpx

    async with app.lifespan():
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


# --- the full Pabulib corpus: opt-in, and its absence is reported, never silently skipped -------

PABULIB_CORPUS = os.environ.get("PB_PABULIB_CORPUS", "")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "corpus: needs the full Pabulib corpus (PB_PABULIB_CORPUS=folder); deselected otherwise")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PABULIB_CORPUS:
        return
    corpus = [item for item in items if item.get_closest_marker("corpus")]
    if corpus:
        config.hook.pytest_deselected(items=corpus)
        items[:] = [item for item in items if not item.get_closest_marker("corpus")]
    config.stash[_CORPUS_NOT_RUN] = len(corpus)


_CORPUS_NOT_RUN = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    not_run = config.stash.get(_CORPUS_NOT_RUN, 0)
    if not_run:
        terminalreporter.write_line(
            f"full Pabulib corpus: {not_run} test(s) NOT run (deselected); set PB_PABULIB_CORPUS=/path/to/pabulib "
            "to run them, or use bench/conformance.py. The committed files in tests/tally/data/pabulib were tested.",
            yellow=True,
        )
    elif PABULIB_CORPUS:
        terminalreporter.write_line(f"full Pabulib corpus: tests ran on {PABULIB_CORPUS}")


@pytest.fixture(scope="session")
def pabulib_corpus() -> Path:
    folder = Path(PABULIB_CORPUS)
    assert (folder / "index.csv").is_file(), f"PB_PABULIB_CORPUS={folder} is not a Pabulib folder with index.csv"
    return folder
