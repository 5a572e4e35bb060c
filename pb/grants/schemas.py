"""Request and response bodies for grants, tranches and progress reports (explicit allow-lists)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from pb.core.inputs import Id, Input, line, text

Amount = Annotated[int, msgspec.Meta(gt=0, le=10**15)]  # minor units


class CreateGrant(Input):
    proposal_id: Id
    amount: Amount | None = None  # default: the proposal's final cost


class PlanTranche(Input):
    amount: Amount
    condition: line(500)


class ReportProgress(Input):
    body: text(10_000, min_length=1)
    completion_percent: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0


class GrantOut(msgspec.Struct):
    id: int
    round_id: int
    budget_id: int
    proposal_id: Id
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
