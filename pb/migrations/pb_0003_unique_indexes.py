"""Composite uniqueness the whole system relies on, as unique indexes (same DDL on both engines).

Piccolo's ``Unique`` constraint is added with ``ALTER TABLE … ADD CONSTRAINT``, which SQLite does
not support, so multi-column uniqueness lives here. Each line names the invariant it protects.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-01T00:00:02:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite unique indexes"

UNIQUE_INDEXES = [
    # one membership per user and organisation
    "CREATE UNIQUE INDEX membership_org_user ON membership (organisation, \"user\")",
    # the audit chain never forks: one event per sequence number per organisation
    "CREATE UNIQUE INDEX audit_event_org_seq ON audit_event (organisation_id, seq)",
    # a co-proposer is listed once per proposal
    "CREATE UNIQUE INDEX proposal_co_proposer_once ON proposal_co_proposer (proposal, \"user\")",
    # a resident appears once in an organisation's census, and an account binds to one entry
    "CREATE UNIQUE INDEX census_entry_org_identifier ON census_entry (organisation_id, identifier_hmac)",
    "CREATE UNIQUE INDEX census_entry_org_user ON census_entry (organisation_id, \"user\")",
    # ONE BALLOT PER PERSON AND BUDGET: a second participation row for the same nullifier fails
    "CREATE UNIQUE INDEX participation_once ON participation (round, budget, nullifier)",
    # one stored result per project and budget (a tally cannot write a project twice)
    "CREATE UNIQUE INDEX project_result_once ON project_result (budget, proposal_id)",
    # a tranche position is used once per grant
    "CREATE UNIQUE INDEX tranche_grant_position ON tranche (\"grant\", position)",
    # a payment attempt's idempotency key names one tranche attempt only (gateways dedupe on it)
    "CREATE UNIQUE INDEX tranche_idempotency_key ON tranche (idempotency_key)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pb", description=DESCRIPTION)

    async def create_indexes():
        engine = engine_finder()
        for statement in UNIQUE_INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(create_indexes)
    return manager
