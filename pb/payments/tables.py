"""Payment tables: the gateway each organisation pays through, Stripe recipients, the payment
outbox, clawback requests, received Stripe events and reconciliation runs.

Secrets never live here: Stripe keys and webhook secrets stay in the secrets folder.
"""

from piccolo.columns import BigInt, Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table


class PaymentSettings(Table):
    """Which gateway an organisation pays through (no row: the ledger)."""

    organisation_id = Integer(unique=True)
    gateway = Varchar(length=20, default="ledger")
    updated_by = Integer()
    updated_at = Timestamptz()


class PaymentRecipient(Table):
    """A grantee group as a Stripe connected account that can only receive transfers.

    ``status`` comes from account events (re-fetched), never from the onboarding redirect.
    UNIQUE(organisation_id, grantee_user_id): pb_0006.
    """

    organisation_id = Integer(index=True)
    grantee_user_id = Integer()
    account_id = Varchar(length=80, unique=True)
    status = Varchar(length=20, default="onboarding")  # onboarding | ready | restricted
    detail = Text(default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class PaymentOrder(Table):
    """The outbox: one row per gateway call, written BEFORE the call with its idempotency key.

    ``kind`` is ``transfer`` (pay a tranche attempt) or ``reversal`` (a clawback). A worker leases a
    pending row (``lease_until``), calls Stripe outside any transaction, and records the answer;
    ``sends`` counts the calls that may have reached Stripe, so a resend looks the object up first.
    """

    organisation_id = Integer(index=True)
    kind = Varchar(length=10)
    grant_id = Integer()
    tranche_id = Integer(index=True)
    reversal_id = Integer(null=True, default=None)
    attempt = Integer()
    idempotency_key = Varchar(length=200, unique=True)
    amount = BigInt()
    currency = Varchar(length=3)
    destination = Varchar(length=80)  # connected account (transfers) or transfer id (reversals)
    transfer_group = Varchar(length=120)
    state = Varchar(length=10, default="pending")  # pending | done | failed
    lease_until = Timestamptz(null=True, default=None)
    sends = Integer(default=0)
    stripe_id = Varchar(length=80, null=True, default=None)
    request_id = Varchar(length=80, null=True, default=None)
    last_error = Text(null=True, default=None)
    requested_by = Integer()  # the official whose act created the order (paid_by of the tranche)
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)


class Reversal(Table):
    """A clawback of (part of) a paid tranche: requested by one official, approved by another."""

    organisation_id = Integer(index=True)
    grant_id = Integer()
    tranche_id = Integer(index=True)
    amount = BigInt()
    reason = Text()
    reference = Varchar(length=200, null=True, default=None)  # ledger: bank reference of the returned money
    status = Varchar(length=20, default="requested")  # requested | approved | done | refused
    requested_by = Integer()
    approved_by = Integer(null=True, default=None)
    failure_reason = Text(null=True, default=None)
    created_at = Timestamptz()
    decided_at = Timestamptz(null=True, default=None)


class StripeEvent(Table):
    """Each received webhook event once (UNIQUE event_id); processed after the 2xx answer."""

    event_id = Varchar(length=120, unique=True)
    endpoint = Varchar(length=10)  # platform | connect
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
    findings = Text()  # canonical JSON list of findings (each also an audit event)
