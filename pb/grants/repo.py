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
    failure_reason: str | None = None
    reversed_amount: int = 0
    requires_report: bool = False
    report_id: int | None = None


class ReportRow(msgspec.Struct):
    id: int
    grant_id: int
    author: int
    body: str
    completion_percent: int
    created_at: datetime
    is_final: bool = False
    status: str = "submitted"
    reviewed_by: int | None = None
    review_note: str | None = None


_GRANT_COLUMNS = (
    Grant.id, Grant.round.as_alias("round_id"), Grant.budget.as_alias("budget_id"),
    Grant.proposal.as_alias("proposal_id"), Grant.grantee_user_id, Grant.amount, Grant.planned, Grant.paid,
    Grant.status, Grant.round.currency.as_alias("currency"), Grant.created_by, Grant.created_at,
)
_TRANCHE_COLUMNS = (
    Tranche.id, Tranche.grant.as_alias("grant_id"), Tranche.position, Tranche.amount, Tranche.condition,
    Tranche.status, Tranche.planned_by, Tranche.approved_by, Tranche.paid_by, Tranche.gateway, Tranche.reference,
    Tranche.idempotency_key, Tranche.attempt, Tranche.paid_at, Tranche.created_at, Tranche.failure_reason,
    Tranche.reversed_amount, Tranche.requires_report, Tranche.report_id,
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


async def insert_tranche(grant_id: int, position: int, amount: int, condition: str, planned_by: int,
                         requires_report: bool = False) -> int:
    rows = await Tranche.insert(Tranche(
        grant=grant_id, position=position, amount=amount, condition=condition, status=PLANNED,
        planned_by=planned_by, created_at=utcnow(), requires_report=requires_report,
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


async def settle(tranche_id: int, attempt: int, to_status: str, paid_by: int | None, reference: str | None) -> bool:
    """submitted -> paid, only for the attempt that was sent (a stale answer changes nothing)."""
    rows = await Tranche.update({
        Tranche.status: to_status, Tranche.paid_by: paid_by, Tranche.reference: reference, Tranche.paid_at: utcnow(),
        Tranche.failure_reason: None,
    }).where(
        (Tranche.id == tranche_id) & Tranche.status.is_in(list(source_statuses(SETTLE)))
        & (Tranche.attempt == attempt)
    ).returning(Tranche.id)
    return bool(rows)


async def move(tranche_id: int, from_status: str, to_status: str, attempt: int, reason: str | None = None) -> bool:
    rows = await Tranche.update({Tranche.status: to_status, Tranche.failure_reason: reason}).where(
        (Tranche.id == tranche_id) & (Tranche.status == from_status) & (Tranche.attempt == attempt)
    ).returning(Tranche.id)
    return bool(rows)


async def note_failure(tranche_id: int, attempt: int, reason: str) -> None:
    """Why the attempt in flight is not settled yet (shown on the tranche; the state stays)."""
    await Tranche.update({Tranche.failure_reason: reason}).where(
        (Tranche.id == tranche_id) & (Tranche.attempt == attempt) & (Tranche.status == "submitted"))


async def add_reversed(tranche_id: int, amount: int, to_status: str) -> bool:
    """A clawback of ``amount`` from a paid tranche, never more than was paid; the tranche becomes
    ``to_status`` (reversed) once everything came back."""
    rows = await Tranche.update({Tranche.reversed_amount: Tranche.reversed_amount + amount}).where(
        (Tranche.id == tranche_id) & Tranche.status.is_in(list(source_statuses(REVERSE)))
        & WhereRaw("reversed_amount + {} <= amount", amount)
    ).returning(Tranche.reversed_amount, Tranche.amount)
    if not rows:
        return False
    if rows[0]["reversed_amount"] == rows[0]["amount"]:
        await Tranche.update({Tranche.status: to_status}).where(
            (Tranche.id == tranche_id) & Tranche.status.is_in(list(source_statuses(REVERSE))))
    return True


async def link_accepted_report(grant_id: int, tranche_id: int) -> int | None:
    """Bind the oldest accepted report no other tranche used yet (UNIQUE(report_id) backs it)."""
    rows = await Tranche.raw(
        'UPDATE tranche SET report_id = (SELECT MIN(r.id) FROM progress_report r WHERE r."grant" = {} '
        "AND r.status = 'accepted' AND r.id NOT IN (SELECT t.report_id FROM tranche t WHERE t.report_id IS NOT NULL)) "
        "WHERE id = {} AND report_id IS NULL RETURNING report_id", grant_id, tranche_id)
    return rows[0]["report_id"] if rows and rows[0]["report_id"] is not None else None


async def clear_report(tranche_id: int) -> None:
    await Tranche.update({Tranche.report_id: None}).where(Tranche.id == tranche_id)


async def withdraw_unpaid(grant_id: int, statuses: tuple[str, ...], to_status: str) -> list[dict]:
    """Every tranche not yet paid leaves the grant (grant cancelled): (id, amount) of each."""
    return await Tranche.update({Tranche.status: to_status}).where(
        (Tranche.grant == grant_id) & Tranche.status.is_in(list(statuses))
    ).returning(Tranche.id, Tranche.amount)


async def change_grant_status(grant_id: int, to_status: str, unplanned: int = 0) -> bool:
    """active -> cancelled, only while no tranche is being paid (money in flight blocks it)."""
    rows = await Grant.update({Grant.status: to_status, Grant.planned: Grant.planned - unplanned}).where(
        (Grant.id == grant_id) & (Grant.status == ACTIVE)
        & WhereRaw("NOT EXISTS (SELECT 1 FROM tranche t WHERE t.\"grant\" = {} AND t.status = 'submitted')", grant_id)
    ).returning(Grant.id)
    return bool(rows)


async def release_budget(budget_id: int, amount: int) -> None:
    """A cancelled grant gives what it did not pay back to its budget."""
    await Budget.update({Budget.granted: Budget.granted - amount}).where(
        (Budget.id == budget_id) & WhereRaw("granted >= {}", amount))


async def complete_grant(grant_id: int, to_status: str, final_statuses: tuple[str, ...]) -> bool:
    """active -> completed WHEN every tranche is final, something was paid, and a final report was
    accepted: checked by the database in the same statement."""
    listed = ", ".join(f"'{status}'" for status in final_statuses)
    rows = await Grant.update({Grant.status: to_status}).where(
        (Grant.id == grant_id) & (Grant.status == ACTIVE) & WhereRaw("paid > 0")
        & WhereRaw(f"NOT EXISTS (SELECT 1 FROM tranche t WHERE t.\"grant\" = {{}} AND t.status NOT IN ({listed}))",
                   grant_id)
        & WhereRaw("EXISTS (SELECT 1 FROM progress_report r WHERE r.\"grant\" = {} AND r.is_final = {} "
                   "AND r.status = 'accepted')", grant_id, True)
    ).returning(Grant.id)
    return bool(rows)


async def stripe_tranches(organisation_id: int, statuses: tuple[str, ...]) -> list[TrancheRow]:
    rows = await Tranche.select(*_TRANCHE_COLUMNS).where(
        (Tranche.grant.organisation_id == organisation_id) & (Tranche.gateway == "stripe")
        & Tranche.status.is_in(list(statuses))
    ).order_by(Tranche.id)
    return [msgspec.convert(row, TrancheRow) for row in rows]


async def tranche_by_id(tranche_id: int) -> TrancheRow | None:
    row = await Tranche.select(*_TRANCHE_COLUMNS).where(Tranche.id == tranche_id).first()
    return msgspec.convert(row, TrancheRow) if row else None


# --- progress reports --------------------------------------------------------------------------

_REPORT_COLUMNS = (
    ProgressReport.id, ProgressReport.grant.as_alias("grant_id"), ProgressReport.author, ProgressReport.body,
    ProgressReport.completion_percent, ProgressReport.created_at, ProgressReport.is_final, ProgressReport.status,
    ProgressReport.reviewed_by, ProgressReport.review_note,
)


async def insert_report(grant_id: int, author: int, body: str, completion_percent: int,
                        is_final: bool = False) -> ReportRow:
    rows = await ProgressReport.insert(ProgressReport(
        grant=grant_id, author=author, body=body, completion_percent=completion_percent, created_at=utcnow(),
        is_final=is_final, status="submitted",
    )).returning(ProgressReport.id)
    row = await ProgressReport.select(*_REPORT_COLUMNS).where(ProgressReport.id == rows[0]["id"]).first()
    return msgspec.convert(row, ReportRow)


async def reports_of(grant_id: int) -> list[ReportRow]:
    rows = await ProgressReport.select(*_REPORT_COLUMNS).where(ProgressReport.grant == grant_id).order_by(
        ProgressReport.id
    )
    return [msgspec.convert(row, ReportRow) for row in rows]


async def report(grant_id: int, report_id: int) -> ReportRow | None:
    row = await ProgressReport.select(*_REPORT_COLUMNS).where(
        (ProgressReport.id == report_id) & (ProgressReport.grant == grant_id)).first()
    return msgspec.convert(row, ReportRow) if row else None


async def review_report(report_id: int, status: str, reviewer: int, note: str) -> bool:
    """submitted -> accepted|rejected, once, never by the report's author."""
    rows = await ProgressReport.update({
        ProgressReport.status: status, ProgressReport.reviewed_by: reviewer, ProgressReport.review_note: note,
    }).where((ProgressReport.id == report_id) & (ProgressReport.status == "submitted")
             & WhereRaw("author <> {}", reviewer)).returning(ProgressReport.id)
    return bool(rows)


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
