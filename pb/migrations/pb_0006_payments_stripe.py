"""Payments through Stripe Connect and the finished grant lifecycle.

New tables (snapshots of their shape at this migration, so later model edits never change what
this migration creates): payment settings per organisation, Stripe recipients, the payment outbox,
clawback requests, received Stripe events, reconciliation runs. New columns on tranche and
progress_report. Unique indexes name the invariants they protect.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import BigInt, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-01T00:00:06:000000"
VERSION = "1.38.0"
DESCRIPTION = "payments: stripe gateway, outbox, reversals, webhooks, reconciliation; grant lifecycle"


class PaymentSettings(Table):
    organisation_id = Integer(unique=True)
    gateway = Varchar(length=20, default="ledger")
    updated_by = Integer()
    updated_at = Timestamptz()


class PaymentRecipient(Table):
    organisation_id = Integer(index=True)
    grantee_user_id = Integer()
    account_id = Varchar(length=80, unique=True)
    status = Varchar(length=20, default="onboarding")
    detail = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class PaymentOrder(Table):
    organisation_id = Integer(index=True)
    kind = Varchar(length=10)
    grant_id = Integer()
    tranche_id = Integer(index=True)
    reversal_id = Integer(null=True, default=None)
    attempt = Integer()
    idempotency_key = Varchar(length=200, unique=True)
    amount = BigInt()
    currency = Varchar(length=3)
    destination = Varchar(length=80)
    transfer_group = Varchar(length=120)
    state = Varchar(length=10, default="pending")
    lease_until = Timestamptz(null=True, default=None)
    sends = Integer(default=0)
    stripe_id = Varchar(length=80, null=True, default=None)
    request_id = Varchar(length=80, null=True, default=None)
    last_error = Text(null=True, default=None)
    requested_by = Integer()  # the official whose act created the order (paid_by of the tranche)
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)


class Reversal(Table):
    organisation_id = Integer(index=True)
    grant_id = Integer()
    tranche_id = Integer(index=True)
    amount = BigInt()
    reason = Text()
    reference = Varchar(length=200, null=True, default=None)
    status = Varchar(length=20, default="requested")
    requested_by = Integer()
    approved_by = Integer(null=True, default=None)
    failure_reason = Text(null=True, default=None)
    created_at = Timestamptz()
    decided_at = Timestamptz(null=True, default=None)


class StripeEvent(Table):
    event_id = Varchar(length=120, unique=True)
    endpoint = Varchar(length=10)
    type = Varchar(length=120)
    account = Varchar(length=80, null=True, default=None)
    object_id = Varchar(length=120, null=True, default=None)
    livemode = Boolean(default=False)
    received_at = Timestamptz()
    processed_at = Timestamptz(null=True, default=None)
    outcome = Text(null=True, default=None)


class ReconciliationRun(Table):
    organisation_id = Integer(index=True)
    started_at = Timestamptz()
    finished_at = Timestamptz()
    tranches_checked = Integer()
    transfers_seen = Integer()
    findings = Text()


NEW_TABLES = [PaymentSettings, PaymentRecipient, PaymentOrder, Reversal, StripeEvent, ReconciliationRun]

class Tranche(Table):  # only the columns this migration adds
    pass


class ProgressReport(Table):
    pass


NEW_COLUMNS = [
    (Tranche, "failure_reason", lambda: Text(null=True, default=None)),
    (Tranche, "reversed_amount", lambda: BigInt(default=0)),
    (Tranche, "requires_report", lambda: Boolean(default=False)),
    (Tranche, "report_id", lambda: Integer(null=True, default=None)),
    (ProgressReport, "is_final", lambda: Boolean(default=False)),
    (ProgressReport, "status", lambda: Varchar(length=20, default="submitted")),
    (ProgressReport, "reviewed_by", lambda: Integer(null=True, default=None)),
    (ProgressReport, "review_note", lambda: Text(null=True, default=None)),
]

UNIQUE_INDEXES = [
    # one connected account per grantee group and organisation
    "CREATE UNIQUE INDEX payment_recipient_org_grantee ON payment_recipient (organisation_id, grantee_user_id)",
    # ONE TRANSFER ORDER PER TRANCHE ATTEMPT (the idempotency key is unique too)
    "CREATE UNIQUE INDEX payment_order_transfer_attempt ON payment_order (tranche_id, attempt) WHERE kind = 'transfer'",
    # one outbox order per approved clawback
    "CREATE UNIQUE INDEX payment_order_reversal_once ON payment_order (reversal_id) WHERE kind = 'reversal'",
    # one accepted progress report unlocks one tranche only
    "CREATE UNIQUE INDEX tranche_report_once ON tranche (report_id)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="pb", description=DESCRIPTION)

    async def create_tables_and_indexes():
        engine = engine_finder()
        for table, name, make_column in NEW_COLUMNS:
            table._meta.db = engine
            await table.alter().add_column(name, make_column()).run()
        for table in NEW_TABLES:
            table._meta.db = engine
            await table.create_table().run()
        for statement in UNIQUE_INDEXES:
            await engine.run_ddl(statement)

    manager.add_raw(create_tables_and_indexes)
    return manager
