"""Queries for grants, tranches and progress reports.

Every cap and every tranche step is ONE conditional ``UPDATE … WHERE <invariant> … RETURNING``: the
database decides, so concurrent requests on either engine can never overspend a budget, over-plan
or overpay a grant, or move a tranche twice. A ``False``/``None`` answer means "the invariant would
break" and the service names the reason.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from piccolo.columns.combination import WhereRaw

from pb.core.clock import utcnow
from pb.grants.domain import ACTIVE, APPROVE, APPROVED, PLANNED, REVERSE, SETTLE, source_statuses
from pb.grants.tables import Grant, ProgressReport, Tranche
from pb.rounds.tables import Budget


class GrantRow(msgspec.Struct):
    id: int
    round_id: int
    budget_id: int
    proposal_id: int
    grantee_user_id: int
    amount: int
    planned: int
    paid: int
    status: str
    currency: str
    created_by: int
    created_at: datetime


class TrancheRow(msgspec.Struct):
    id: int
    grant_id: int
    position: int
    amount: int
    condition: str
    status: str
    planned_by: int
    approved_by: int | None
    paid_by: int | None
    gateway: str
    reference: str | None
    idempotency_key: str | None
    attempt: int
    paid_at: datetime | None
    created_at: datetime


class ReportRow(msgspec.Struct):
    id: int
    grant_id: int
    author: int
    body: str
    completion_percent: int
    created_at: datetime


_GRANT_COLUMNS = (
    Grant.id, Grant.round.as_alias("round_id"), Grant.budget.as_alias("budget_id"),
    Grant.proposal.as_alias("proposal_id"), Grant.grantee_user_id, Grant.amount, Grant.planned, Grant.paid,
    Grant.status, Grant.round.currency.as_alias("currency"), Grant.created_by, Grant.created_at,
)
_TRANCHE_COLUMNS = (
    Tranche.id, Tranche.grant.as_alias("grant_id"), Tranche.position, Tranche.amount, Tranche.condition,
    Tranche.status, Tranche.planned_by, Tranche.approved_by, Tranche.paid_by, Tranche.gateway, Tranche.reference,
    Tranche.idempotency_key, Tranche.attempt, Tranche.paid_at, Tranche.created_at,
)


# --- budgets: Budget.granted is the grants context's column ----------------------------------

async def reserve_budget(budget_id: int, amount: int) -> bool:
    """Budget.granted += amount only WHERE granted + amount <= Budget.amount."""
    rows = await Budget.update({Budget.granted: Budget.granted + amount}).where(
        (Budget.id == budget_id) & WhereRaw("granted + {} <= amount", amount)
    ).returning(Budget.id)
    return bool(rows)


async def budget_room(budget_id: int) -> int:
    row = await Budget.select(Budget.amount, Budget.granted).where(Budget.id == budget_id).first()
    return row["amount"] - row["granted"]


# --- grants ------------------------------------------------------------------------------------

async def insert_grant(
    organisation_id: int, round_id: int, budget_id: int, proposal_id: int, grantee_user_id: int, amount: int,
    created_by: int,
) -> int:
    rows = await Grant.insert(Grant(
        organisation_id=organisation_id, round=round_id, budget=budget_id, proposal=proposal_id,
        grantee_user_id=grantee_user_id, amount=amount, planned=0, paid=0, status=ACTIVE, created_by=created_by,
        created_at=utcnow(),
    )).returning(Grant.id)
    return rows[0]["id"]


async def grant(organisation_id: int, grant_id: int) -> GrantRow | None:
    row = await Grant.select(*_GRANT_COLUMNS).where(
        (Grant.id == grant_id) & (Grant.organisation_id == organisation_id)
    ).first()
    return msgspec.convert(row, GrantRow) if row else None


async def grants_of_round(organisation_id: int, round_id: int) -> list[GrantRow]:
    rows = await Grant.select(*_GRANT_COLUMNS).where(
        (Grant.round == round_id) & (Grant.organisation_id == organisation_id)
    ).order_by(Grant.id)
    return [msgspec.convert(row, GrantRow) for row in rows]


async def reserve_plan(grant_id: int, amount: int) -> bool:
    """Grant.planned += amount only WHERE the grant is active and planned + amount <= Grant.amount."""
    rows = await Grant.update({Grant.planned: Grant.planned + amount}).where(
        (Grant.id == grant_id) & (Grant.status == ACTIVE) & WhereRaw("planned + {} <= amount", amount)
    ).returning(Grant.id)
    return bool(rows)


async def add_paid(grant_id: int, amount: int) -> bool:
    """Grant.paid += amount only WHERE paid + amount <= Grant.amount: the overpayment backstop."""
    rows = await Grant.update({Grant.paid: Grant.paid + amount}).where(
        (Grant.id == grant_id) & WhereRaw("paid + {} <= amount", amount)
    ).returning(Grant.id)
    return bool(rows)


async def give_back(grant_id: int, amount: int) -> bool:
    """A clawback returns the money: paid and planned both drop (never below zero)."""
    rows = await Grant.update({Grant.paid: Grant.paid - amount, Grant.planned: Grant.planned - amount}).where(
        (Grant.id == grant_id) & WhereRaw("paid >= {} AND planned >= {}", amount, amount)
    ).returning(Grant.id)
    return bool(rows)


# --- tranches ----------------------------------------------------------------------------------

async def next_position(grant_id: int) -> int:
    """Call after ``reserve_plan``: its row lock serialises planners, so the max is current."""
    row = await Tranche.select(Tranche.position).where(Tranche.grant == grant_id).order_by(
        Tranche.position, ascending=False
    ).first()
    return row["position"] + 1 if row else 1


async def insert_tranche(grant_id: int, position: int, amount: int, condition: str, planned_by: int) -> int:
    rows = await Tranche.insert(Tranche(
        grant=grant_id, position=position, amount=amount, condition=condition, status=PLANNED,
        planned_by=planned_by, created_at=utcnow(),
    )).returning(Tranche.id)
    return rows[0]["id"]


async def tranche(grant_id: int, tranche_id: int) -> TrancheRow | None:
    row = await Tranche.select(*_TRANCHE_COLUMNS).where(
        (Tranche.id == tranche_id) & (Tranche.grant == grant_id)
    ).first()
    return msgspec.convert(row, TrancheRow) if row else None


async def tranches_of(grant_id: int) -> list[TrancheRow]:
    rows = await Tranche.select(*_TRANCHE_COLUMNS).where(Tranche.grant == grant_id).order_by(Tranche.position)
    return [msgspec.convert(row, TrancheRow) for row in rows]


async def approve(tranche_id: int, approver: int) -> bool:
    """planned -> approved only WHERE status='planned' AND planned_by <> approver (four eyes)."""
    rows = await Tranche.update({Tranche.status: APPROVED, Tranche.approved_by: approver}).where(
        (Tranche.id == tranche_id) & Tranche.status.is_in(list(source_statuses(APPROVE)))
        & WhereRaw("planned_by <> {}", approver)
    ).returning(Tranche.id)
    return bool(rows)


async def claim_attempt(
    tranche_id: int, from_status: str, seen_attempt: int, to_status: str, attempt: int, key: str, gateway: str
) -> bool:
    """Start a payment attempt: status and attempt must still be what the caller saw, and the
    idempotency key is stored before any gateway is called."""
    rows = await Tranche.update({
        Tranche.status: to_status, Tranche.attempt: attempt, Tranche.idempotency_key: key, Tranche.gateway: gateway,
    }).where(
        (Tranche.id == tranche_id) & (Tranche.status == from_status) & (Tranche.attempt == seen_attempt)
    ).returning(Tranche.id)
    return bool(rows)


async def settle(tranche_id: int, attempt: int, to_status: str, paid_by: int, reference: str | None) -> bool:
    """submitted -> paid, only for the attempt that was sent (a stale answer changes nothing)."""
    rows = await Tranche.update({
        Tranche.status: to_status, Tranche.paid_by: paid_by, Tranche.reference: reference, Tranche.paid_at: utcnow(),
    }).where(
        (Tranche.id == tranche_id) & Tranche.status.is_in(list(source_statuses(SETTLE)))
        & (Tranche.attempt == attempt)
    ).returning(Tranche.id)
    return bool(rows)


async def move(tranche_id: int, from_status: str, to_status: str, attempt: int) -> bool:
    rows = await Tranche.update({Tranche.status: to_status}).where(
        (Tranche.id == tranche_id) & (Tranche.status == from_status) & (Tranche.attempt == attempt)
    ).returning(Tranche.id)
    return bool(rows)


async def reverse(tranche_id: int, to_status: str) -> bool:
    rows = await Tranche.update({Tranche.status: to_status}).where(
        (Tranche.id == tranche_id) & Tranche.status.is_in(list(source_statuses(REVERSE)))
    ).returning(Tranche.id)
    return bool(rows)


# --- progress reports --------------------------------------------------------------------------

_REPORT_COLUMNS = (
    ProgressReport.id, ProgressReport.grant.as_alias("grant_id"), ProgressReport.author, ProgressReport.body,
    ProgressReport.completion_percent, ProgressReport.created_at,
)


async def insert_report(grant_id: int, author: int, body: str, completion_percent: int) -> ReportRow:
    rows = await ProgressReport.insert(ProgressReport(
        grant=grant_id, author=author, body=body, completion_percent=completion_percent, created_at=utcnow(),
    )).returning(ProgressReport.id)
    row = await ProgressReport.select(*_REPORT_COLUMNS).where(ProgressReport.id == rows[0]["id"]).first()
    return msgspec.convert(row, ReportRow)


async def reports_of(grant_id: int) -> list[ReportRow]:
    rows = await ProgressReport.select(*_REPORT_COLUMNS).where(ProgressReport.grant == grant_id).order_by(
        ProgressReport.id
    )
    return [msgspec.convert(row, ReportRow) for row in rows]


# --- public reading: funded projects ------------------------------------------------------------

class FundedTranche(msgspec.Struct):
    position: int
    amount: int
    condition: str
    status: str
    paid_at: datetime | None


class FundedReport(msgspec.Struct):
    completion_percent: int
    body: str
    created_at: datetime


class FundedProject(msgspec.Struct):
    """A grant as the public sees it: no user ids, bank references or idempotency keys."""

    grant_id: int
    proposal_id: int
    title: str
    budget_id: int
    budget_name: str
    amount: int
    paid: int
    status: str
    currency: str
    tranches: list[FundedTranche] = []
    reports: list[FundedReport] = []


async def funded_projects(organisation_id: int, round_id: int) -> list[FundedProject]:
    """Every grant of a round with its tranches and progress reports (three queries, any size)."""
    rows = await Grant.select(
        Grant.id.as_alias("grant_id"), Grant.proposal.as_alias("proposal_id"), Grant.proposal.title.as_alias("title"),
        Grant.budget.as_alias("budget_id"), Grant.budget.name.as_alias("budget_name"), Grant.amount, Grant.paid,
        Grant.status, Grant.round.currency.as_alias("currency"),
    ).where((Grant.round == round_id) & (Grant.organisation_id == organisation_id)).order_by(Grant.id)
    projects = [msgspec.convert(row, FundedProject) for row in rows]
    if not projects:
        return []
    by_id = {p.grant_id: p for p in projects}
    tranches = await Tranche.select(
        Tranche.grant, Tranche.position, Tranche.amount, Tranche.condition, Tranche.status, Tranche.paid_at,
    ).where(Tranche.grant.is_in(list(by_id))).order_by(Tranche.position)
    for row in tranches:
        by_id[row.pop("grant")].tranches.append(msgspec.convert(row, FundedTranche))
    reports = await ProgressReport.select(
        ProgressReport.grant, ProgressReport.completion_percent, ProgressReport.body, ProgressReport.created_at,
    ).where(ProgressReport.grant.is_in(list(by_id))).order_by(ProgressReport.id)
    for row in reports:
        by_id[row.pop("grant")].reports.append(msgspec.convert(row, FundedReport))
    return projects
