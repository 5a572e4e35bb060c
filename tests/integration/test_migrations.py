"""Migrations: a database upgraded from an earlier migration ends with the schema a fresh one gets.

Checked on participation's indexes (pb_0009): the index on ``round`` alone is gone on both paths,
and ``participation_once`` (one ballot per person and budget) is there, unique, leading with
``round`` so it serves every lookup by round.
"""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest

from pb import db

pytestmark = pytest.mark.db

BEFORE_PB_0009 = "2026-12-01T00:00:08:000000"  # pb_0008_verifiable_rounds
POSTGRES_ADMIN_URL = os.environ.get("PB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _indexes(database_url: str, table: str) -> dict[tuple[str, ...], bool]:
    """The table's indexes as {columns in order: unique} (a table's own rowid is no index)."""
    if database_url.startswith("postgresql"):
        connection = await asyncpg.connect(database_url)
        try:
            rows = await connection.fetch(
                "SELECT i.indisunique AS is_unique, array_agg(a.attname ORDER BY k.position) AS columns "
                "FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE i.indrelid = $1::regclass GROUP BY i.indexrelid, i.indisunique", table)
        finally:
            await connection.close()
        return {tuple(row["columns"]): row["is_unique"] for row in rows}
    import aiosqlite

    async with aiosqlite.connect(db.sqlite_file(database_url)) as connection:
        indexes = await (await connection.execute(f"PRAGMA index_list('{table}')")).fetchall()
        found = {}
        for _, name, unique, *_ in indexes:
            columns = await (await connection.execute(f"PRAGMA index_info('{name}')")).fetchall()
            found[tuple(column[2] for column in columns)] = bool(unique)
        return found


async def _migrate(database_url: str, migration_id: str = "all") -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    engine = db.make_engine(database_url)
    db.bind_engine(engine)
    result = await run_forwards("pb", migration_id=migration_id)
    assert result.success, result.message


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """An empty database on the engine of ``database_url`` (never migrated)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'older.sqlite'}"
        return
    name = f"pb_migrations_{os.getpid()}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_ADMIN_URL.rpartition("/")[0] + "/" + name
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_fresh_database_has_one_ballot_per_person_and_no_index_on_round_alone(database_url):
    indexes = asyncio.run(_indexes(database_url, "participation"))

    assert indexes[("round", "budget", "nullifier")] is True
    assert ("round",) not in indexes


def test_a_database_from_before_pb_0009_ends_with_the_indexes_of_a_fresh_one(database_url, empty_database_url):
    asyncio.run(_migrate(empty_database_url, BEFORE_PB_0009))
    before = asyncio.run(_indexes(empty_database_url, "participation"))
    assert before[("round",)] is False  # the redundant index the upgrade drops

    asyncio.run(_migrate(empty_database_url))

    assert asyncio.run(_indexes(empty_database_url, "participation")) == \
        asyncio.run(_indexes(database_url, "participation"))
    assert asyncio.run(_indexes(empty_database_url, "sealed_ballot")) == \
        asyncio.run(_indexes(database_url, "sealed_ballot"))
