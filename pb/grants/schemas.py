"""Request and response bodies for grants, tranches and progress reports (explicit allow-lists)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Amount = Annotated[int, msgspec.Meta(gt=0, le=10**15)]  # minor units


class CreateGrant(msgspec.Struct, forbid_unknown_fields=True):
    proposal_id: int
    amount: Amount | None = None  # default: the proposal's final cost


class PlanTranche(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount
    condition: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class ReportProgress(msgspec.Struct, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
    completion_percent: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0


class GrantOut(msgspec.Struct):
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
    created_at: datetime


class TrancheOut(msgspec.Struct):
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


class ReportOut(msgspec.Struct):
    id: int
    grant_id: int
    author: int
    body: str
    completion_percent: int
    created_at: datetime


class GrantDetailOut(msgspec.Struct):
    grant: GrantOut
    tranches: list[TrancheOut]
    reports: list[ReportOut]


class FundedTrancheOut(msgspec.Struct):
    position: int
    amount: int
    condition: str
    status: str
    paid_at: datetime | None


class FundedReportOut(msgspec.Struct):
    completion_percent: int
    body: str
    created_at: datetime


class FundedProjectOut(msgspec.Struct):
    grant_id: int
    proposal_id: int
    title: str
    budget_id: int
    budget_name: str
    amount: int
    paid: int
    status: str
    currency: str
    tranches: list[FundedTrancheOut]
    reports: list[FundedReportOut]
