"""Request and response bodies for proposals, reviews and appeals (explicit allow-lists)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from pb.core.inputs import Id, Input, line, text

Minor = Annotated[int, msgspec.Meta(ge=1, le=10**15)]
Reason = text(5000)
Label = line(200)


class CostLine(Input):
    label: Label
    amount: Annotated[int, msgspec.Meta(ge=-(10**15), le=10**15)]  # positivity is a rule: 422 names the line


class ProposalIn(Input):
    """The whole content of a proposal (an edit sends it all again)."""

    budget_id: Id
    title: Label
    summary: text(500, min_length=1)
    requested_amount: Minor
    cost_lines: list[CostLine]
    description: text(20_000) = ""
    category: line(80, min_length=0) = ""
    co_proposers: Annotated[list[Id], msgspec.Meta(max_length=20)] = []


class CriterionResultIn(Input):
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    passed: bool
    note: text(2000) = ""


class ReviewIn(Input):
    criteria: list[CriterionResultIn]
    decision: Literal["eligible", "ineligible", "changes_requested"]
    public_reason: Reason = ""
    adjusted_cost: Minor | None = None
    cost_explanation: Reason = ""


class AppealIn(Input):
    reason: text(5000, min_length=1)


class AppealDecisionIn(Input):
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


class Created(msgspec.Struct):
    id: int
