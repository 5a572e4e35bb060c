"""Browser sign-in sessions backed by the database (pb.web.tables.BrowserSession)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T00:00:07:000000"
VERSION = "1.38.0"
DESCRIPTION = "browser_session"

STATEMENTS = {
    "postgres": [
        'CREATE TABLE browser_session (id SERIAL PRIMARY KEY, token_hash VARCHAR(64) NOT NULL UNIQUE, '
        '"user" INTEGER NOT NULL REFERENCES pb_user (id) ON DELETE CASCADE, '
        "created_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL)",
        'CREATE INDEX browser_session_user ON browser_session ("user")',
    ],
    "sqlite": [
        "CREATE TABLE browser_session (id INTEGER PRIMARY KEY AUTOINCREMENT, token_hash VARCHAR(64) NOT NULL "
        'UNIQUE, "user" INTEGER NOT NULL REFERENCES pb_user (id) ON DELETE CASCADE, '
        "created_at TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL)",
        'CREATE INDEX browser_session_user ON browser_session ("user")',
    ],
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pb", description=DESCRIPTION)

    async def create_table():
        engine = engine_finder()
        for statement in STATEMENTS["postgres" if engine.engine_type == "postgres" else "sqlite"]:
            await engine.run_ddl(statement)

    manager.add_raw(create_table)
    return manager
