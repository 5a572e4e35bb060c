"""The bare endpoint ``cast_load.py`` compares pb with: what the framework, the server and the
database cost for the least a cast could do.

One Litestar route, ``POST /cast``: the JSON body (``{"projects": [ids]}``) is decoded and validated
by msgspec (1 to 3 distinct positive ids), one row is inserted, and a receipt is returned (201).
No authentication, no reads. The row goes to the engine pb uses, through the same driver: asyncpg
(a pool of 1 to 10 connections, as pb's) or aiosqlite (one connection per worker in WAL mode with a
30 s busy timeout, as pb's SQLite engine uses; each INSERT is its own transaction).

Served by uvicorn with pb's options (``log_level="warning"``, ``access_log=False``, ``proxy_headers=False``):

    BARE_DATABASE_URL=sqlite:////tmp/bare.sqlite .venv/bin/python bench/bare_app.py --port 8310 [--workers 2]

``cast_load.py --server granian`` serves it with granian instead, as it serves pb
(``cast_common.granian_command``: ``granian --interface asgi --factory … bare_app:create_app``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Annotated

import msgspec
from litestar import Litestar, post

TABLE = "bare_cast"
BUSY_TIMEOUT_SECONDS = 30  # pb.db.SQLITE_BUSY_TIMEOUT_SECONDS

ProjectId = Annotated[int, msgspec.Meta(ge=1)]


class CastBody(msgspec.Struct, forbid_unknown_fields=True):
    projects: Annotated[list[ProjectId], msgspec.Meta(min_length=1, max_length=3)]

    def __post_init__(self) -> None:
        if len(set(self.projects)) != len(self.projects):
            raise ValueError("a project is listed twice")


class Receipt(msgspec.Struct):
    receipt: str


class _Store:
    """The one place the route writes to: an asyncpg pool or one aiosqlite connection."""

    def __init__(self, url: str):
        self.url = url
        self.pool = None
        self.sqlite = None

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith(("postgres://", "postgresql://"))

    async def open(self) -> None:
        if self.is_postgres:
            import asyncpg

            self.pool = await asyncpg.create_pool(self.url, min_size=1, max_size=10)
        else:
            import aiosqlite

            self.sqlite = await aiosqlite.connect(self.url.removeprefix("sqlite:///"), timeout=BUSY_TIMEOUT_SECONDS,
                                                  isolation_level=None)
            await self.sqlite.execute("PRAGMA journal_mode=WAL")

    async def insert(self, receipt: str, content: str) -> None:
        if self.pool is not None:
            await self.pool.execute(f"INSERT INTO {TABLE} (receipt, content) VALUES ($1, $2)", receipt, content)
        else:
            await self.sqlite.execute(f"INSERT INTO {TABLE} (receipt, content) VALUES (?, ?)", (receipt, content))

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.sqlite is not None:
            await self.sqlite.close()


def create_table_sql(url: str) -> str:
    key = "id BIGSERIAL PRIMARY KEY" if url.startswith(("postgres://", "postgresql://")) else \
        "id INTEGER PRIMARY KEY AUTOINCREMENT"
    return f"CREATE TABLE IF NOT EXISTS {TABLE} ({key}, receipt VARCHAR(64) NOT NULL UNIQUE, content TEXT NOT NULL)"


def create_app() -> Litestar:
    """The app for the database named by BARE_DATABASE_URL (a uvicorn factory: one per worker)."""
    store = _Store(os.environ["BARE_DATABASE_URL"])

    @post("/cast", status_code=201)
    async def cast(data: CastBody) -> Receipt:
        content = json.dumps({"projects": data.projects, "nonce": secrets.token_hex(16)}, separators=(",", ":"))
        receipt = hashlib.sha256(content.encode()).hexdigest()
        await store.insert(receipt, content)
        return Receipt(receipt)

    return Litestar(route_handlers=[cast], on_startup=[store.open], on_shutdown=[store.close])


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve the bare cast endpoint (see the module docstring).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8310)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    uvicorn.run("bare_app:create_app", factory=True, app_dir=str(Path(__file__).parent), host=args.host,
                port=args.port, workers=args.workers, log_level="warning", access_log=False,
                proxy_headers=False)


if __name__ == "__main__":
    main()
