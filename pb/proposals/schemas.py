"""Request and response bodies for proposals, reviews and appeals (explicit allow-lists)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Minor = Annotated[int, msgspec.Meta(ge=1, le=10**15)]
Reason = Annotated[str, msgspec.Meta(max_length=5000)]


class CostLine(msgspec.Struct, forbid_unknown_fields=True):
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    amount: Annotated[int, msgspec.Meta(ge=-(10**15), le=10**15)]  # positivity is a rule: 422 names the line


class ProposalIn(msgspec.Struct, forbid_unknown_fields=True):
    """The whole content of a proposal (an edit sends it all again)."""

    budget_id: int
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    requested_amount: Minor
    cost_lines: list[CostLine]
    description: Annotated[str, msgspec.Meta(max_length=20_000)] = ""
    category: Annotated[str, msgspec.Meta(max_length=80)] = ""
    co_proposers: Annotated[list[int], msgspec.Meta(max_length=20)] = []


class CriterionResultIn(msgspec.Struct, forbid_unknown_fields=True):
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    passed: bool
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    criteria: list[CriterionResultIn]
    decision: Literal["eligible", "ineligible", "changes_requested"]
    public_reason: Reason = ""
    adjusted_cost: Minor | None = None
    cost_explanation: Reason = ""


class AppealIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class AppealDecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    criteria: list[CriterionResultIn]
    decision: Literal["eligible", "ineligible"]
    public_reason: Reason = ""
    adjusted_cost: Minor | None = None
    cost_explanation: Reason = ""


class CostLineOut(msgspec.Struct):
    label: str
    amount: int


class CriterionResultOut(msgspec.Struct):
    key: str
    passed: bool
    note: str


class ReviewOut(msgspec.Struct):
    id: int
    stage: str
    decision: str
    public_reason: str
    criteria: list[CriterionResultOut]
    adjusted_cost: int | None
    cost_explanation: str
    created_at: datetime
    reviewer_id: int | None  # shown to staff only


class ProposalOut(msgspec.Struct):
    id: int
    round_id: int
    budget_id: int
    author_id: int
    co_proposers: list[int]
    title: str
    summary: str
    description: str
    category: str
    status: str
    requested_amount: int
    cost_lines: list[CostLineOut]
    final_cost: int | None
    appealed: bool
    submitted_at: datetime | None
    appeal_reason: str | None
    reviews: list[ReviewOut]


class ProposalSummaryOut(msgspec.Struct):
    id: int
    budget_id: int
    title: str
    summary: str
    category: str
    status: str
    requested_amount: int
    final_cost: int | None


class PublicProposalPageOut(msgspec.Struct):
    proposals: list[ProposalSummaryOut]
    total: int
    page: int
    pages: int


class Created(msgspec.Struct):
    id: int
