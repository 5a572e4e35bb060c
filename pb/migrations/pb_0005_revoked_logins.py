"""Revocation by login instead of by access token.

Access tokens now carry the login (refresh family) as ``sid``; ending a login revokes all of its
access tokens at once. The old per-token table held only rows younger than 10 minutes, so it is
renamed and emptied rather than converted.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T00:00:05:000000"
VERSION = "1.38.0"
DESCRIPTION = "revoked_access_token(jti) becomes revoked_login(family)"

STATEMENTS = [
    "DELETE FROM revoked_access_token",
    "ALTER TABLE revoked_access_token RENAME TO revoked_login",
    "ALTER TABLE revoked_login RENAME COLUMN jti TO family",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pb", description=DESCRIPTION)

    async def rename():
        engine = engine_finder()
        for statement in STATEMENTS:
            await engine.run_ddl(statement)

    manager.add_raw(rename)
    return manager
