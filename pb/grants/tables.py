"""Grants for selected proposals, their tranches and progress reports."""

from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from pb.proposals.tables import Proposal
from pb.rounds.tables import Budget, Round


class Grant(Table):
    organisation_id = Integer(index=True)
    round = ForeignKey(Round, index=True)
    budget = ForeignKey(Budget)
    proposal = ForeignKey(Proposal, unique=True)  # one grant per proposal
    grantee_user_id = Integer()  # the proposer (group lead)
    amount = BigInt()  # minor units
    planned = BigInt(default=0)  # sum of tranche amounts; never above ``amount``
    paid = BigInt(default=0)  # sum of paid tranches; never above ``amount`` (conditional UPDATE)
    status = Varchar(length=20, default="active")  # active | completed | cancelled
    created_by = Integer()
    created_at = Timestamptz()


class Tranche(Table):
    grant = ForeignKey(Grant, index=True)
    position = Integer()  # 1, 2, … within the grant
    amount = BigInt()
    condition = Text()  # e.g. "on signature", "on completion report"
    # planned | approved | submitted | paid | failed | reversed | withdrawn (grant cancelled)
    status = Varchar(length=20, default="planned")
    planned_by = Integer()
    approved_by = Integer(null=True, default=None)
    paid_by = Integer(null=True, default=None)
    gateway = Varchar(length=20, default="ledger")
    reference = Varchar(length=200, null=True, default=None)  # bank reference or gateway transfer id
    idempotency_key = Varchar(length=80, null=True, default=None)
    attempt = Integer(default=0)
    paid_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    failure_reason = Text(null=True, default=None)  # why the last attempt failed or is not settled yet
    reversed_amount = BigInt(default=0)  # clawed back so far (partial reversals add up)
    requires_report = Boolean(default=False)  # approval needs an accepted progress report
    report_id = Integer(null=True, default=None)  # the accepted report that unlocked it (UNIQUE: pb_0006)


class ProgressReport(Table):
    grant = ForeignKey(Grant, index=True)
    author = Integer()
    body = Text()
    completion_percent = Integer(default=0)
    created_at = Timestamptz()
    is_final = Boolean(default=False)  # the completion report a grant needs to end ``completed``
    status = Varchar(length=20, default="submitted")  # submitted | accepted | rejected
    reviewed_by = Integer(null=True, default=None)
    review_note = Text(null=True, default=None)
