"""Drop participation's index on ``round`` alone: ``participation_once`` (round, budget, nullifier)
leads with ``round``, so it answers every lookup by round, and the single-column index was one more
index entry written by every cast for nothing.

Written as Piccolo's own ``alter_column`` (index True -> False), so Piccolo's record of the schema
matches ``Participation.round`` in pb.voting.tables. Piccolo drops the index with ``DROP INDEX IF
EXISTS``, so a database whose initial migration never created it is fine too.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey

ID = "2026-12-02T00:00:09:000000"
VERSION = "1.38.0"
DESCRIPTION = "participation: drop the index on round alone (participation_once leads with round)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pb", description=DESCRIPTION)
    manager.alter_column(
        table_class_name="Participation",
        tablename="participation",
        column_name="round",
        db_column_name="round",
        params={"index": False},
        old_params={"index": True},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )
    return manager
