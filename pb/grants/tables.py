"""Grants for selected proposals, their tranches and progress reports."""

from piccolo.columns import BigInt, ForeignKey, Integer, Text, Timestamptz, Varchar
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
    status = Varchar(length=20, default="planned")  # planned | approved | submitted | paid | failed | reversed
    planned_by = Integer()
    approved_by = Integer(null=True, default=None)
    paid_by = Integer(null=True, default=None)
    gateway = Varchar(length=20, default="ledger")
    reference = Varchar(length=200, null=True, default=None)  # bank reference or gateway transfer id
    idempotency_key = Varchar(length=80, null=True, default=None)
    attempt = Integer(default=0)
    paid_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class ProgressReport(Table):
    grant = ForeignKey(Grant, index=True)
    author = Integer()
    body = Text()
    completion_percent = Integer(default=0)
    created_at = Timestamptz()
