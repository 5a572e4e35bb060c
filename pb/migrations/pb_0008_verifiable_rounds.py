"""Verifiable rounds: signed audit checkpoints, the Pabulib sandbox and bulletin-board snapshots.

The tables are snapshots of pb.audit.tables.AuditCheckpoint and pb.sandbox.tables.SandboxElection
and pb.board.tables.BoardSnapshot as of this migration, created with Piccolo's own DDL for the running engine.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Bytea, Integer, Text, Varchar
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-01T00:00:08:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit checkpoints, Pabulib sandbox, board snapshots, vote revision, paper ballots"


class AuditCheckpoint(Table, tablename="audit_checkpoint"):
    organisation_id = Integer(index=True)
    seq = Integer()
    hash = Varchar(length=64)
    signed_at = Varchar(length=40)
    public_key = Varchar(length=64)
    signature = Varchar(length=128)


class SandboxElection(Table, tablename="sandbox_election"):
    organisation_id = Integer(index=True)
    title = Varchar(length=200)
    pb_text = Text()
    projects = Integer()
    voters = Integer()
    created_by = Integer()
    created_at = Varchar(length=40)


class BoardSnapshot(Table, tablename="board_snapshot"):
    round = Integer(index=True)
    number = Integer()
    ballots = Integer()
    merkle_root = Varchar(length=64)
    receipts = Text()
    replaced = Text(default="")
    published_at = Varchar(length=40)


class ReplacedReceipt(Table, tablename="replaced_receipt"):
    receipt = Varchar(length=64, primary_key=True)
    round = Integer(index=True)


class PaperEntry(Table, tablename="paper_entry"):
    round = Integer(index=True)
    budget = Integer()
    sheet = Varchar(length=40)
    station = Varchar(length=80)
    entered_by = Integer()
    status = Varchar(length=12)
    sealed = Bytea()


STATEMENTS = [
    # double entry: each official types a paper sheet once
    "CREATE UNIQUE INDEX paper_entry_once ON paper_entry (round, budget, sheet, entered_by)",
    # vote revision: the sealed pointer from a participation row to the voter's current ballot
    "ALTER TABLE participation ADD COLUMN pointer {bytes} NULL",
    # one snapshot per number and round
    "CREATE UNIQUE INDEX board_snapshot_round_number ON board_snapshot (round, number)",
    # one checkpoint per signed head: (organisation, seq) is signed once
    "CREATE UNIQUE INDEX audit_checkpoint_org_seq ON audit_checkpoint (organisation_id, seq)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pb", description=DESCRIPTION)

    async def create():
        engine = engine_finder()
        for table in (AuditCheckpoint, SandboxElection, BoardSnapshot, ReplacedReceipt, PaperEntry):
            table._meta.db = engine
            for statement in table.create_table().ddl:
                await engine.run_ddl(statement)
        for statement in STATEMENTS:
            await engine.run_ddl(statement.format(bytes="BYTEA" if engine.engine_type == "postgres" else "BLOB"))

    manager.add_raw(create)
    return manager
