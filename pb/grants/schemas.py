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
    requires_report: bool = False  # approval needs an accepted progress report


class ReportProgress(msgspec.Struct, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
    completion_percent: Annotated[int, msgspec.Meta(ge=0, le=100)] = 0
    final: bool = False  # the completion report the grant needs to end completed


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
    failure_reason: str | None = None
    reversed_amount: int = 0
    requires_report: bool = False
    report_id: int | None = None


class ReportOut(msgspec.Struct):
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


class ReviewReport(msgspec.Struct, forbid_unknown_fields=True):
    accept: bool
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class CancelGrant(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class RecipientStateOut(msgspec.Struct):
    """Whether the grantee group can receive Stripe transfers (from Stripe's account events)."""

    status: str
    detail: str
    updated_at: datetime


class GrantDetailOut(msgspec.Struct):
    grant: GrantOut
    tranches: list[TrancheOut]
    reports: list[ReportOut]
    recipient: RecipientStateOut | None = None
