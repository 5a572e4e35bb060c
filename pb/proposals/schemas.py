"""Request and response bodies for proposals, reviews and appeals (explicit allow-lists)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from pb.core.inputs import Id, Input, line, text
from pb.core.fields import MinorUnits, MinorUnitsIn, UtcTime, choices, doc, money, utc

Minor = MinorUnitsIn
Reason = text(5000)

STATUS_MEANINGS = {
    "draft": "being written, visible to its authors only",
    "submitted": "sent for review",
    "in_review": "a reviewer is judging it",
    "eligible": "passed review; goes on the ballot when voting opens",
    "ineligible": "failed review (public reason given; may be appealed once)",
    "changes_requested": "the authors must revise and resubmit",
    "appealed": "the authors appealed an ineligible decision",
    "on_ballot": "on the frozen ballot of the vote",
    "selected": "won the vote",
    "not_selected": "did not win",
    "funded": "a grant was created for it",
    "withdrawn": "withdrawn by its authors",
}
ProposalStatus = Annotated[str, doc(choices("Where the proposal stands.", STATUS_MEANINGS), "eligible")]
DECISION_MEANINGS = {
    "eligible": "meets every criterion",
    "ineligible": "fails a criterion (public_reason required)",
    "changes_requested": "could be eligible after changes (public_reason required)",
}
REQUESTED = "The amount the proposers ask for: the sum of the cost lines."
ADJUSTED = "The reviewer's corrected cost estimate, when it differs from the request (explained in cost_explanation)."
FINAL_COST = "The cost used on the ballot: the adjusted cost if any, else the requested amount; null before review."
CriterionKey = Annotated[str, doc("The key of one of the round's criteria.", "public_land")]


class CostLine(Input):
    label: Annotated[line(200), doc("What the money buys.", "Benches (4)")]
    # positivity is a rule: 422 names the line
    amount: Annotated[int, msgspec.Meta(ge=-(10**15), le=10**15), money("The line's cost, positive.", 1_200_000)]


class ProposalIn(Input):
    """The whole content of a proposal (an edit sends it all again)."""

    budget_id: Annotated[Id, doc("The round's budget (district or city-wide) the proposal competes in.", 1)]
    title: Annotated[line(200), doc("Short public title.", "Benches by the river")]
    summary: Annotated[text(500, min_length=1),
                       doc("One or two sentences shown on the ballot.", "Four benches along the river path.")]
    requested_amount: Annotated[Minor, money(REQUESTED, 1_200_000)]
    cost_lines: Annotated[list[CostLine], doc("The cost breakdown; the amounts add up to requested_amount.")]
    description: text(20_000) = ""
    category: line(80, min_length=0) = ""
    co_proposers: Annotated[list[Id], msgspec.Meta(max_length=20),
                            doc("User ids of co-authors (members of the organisation).", [])] = []


class CriterionResultIn(Input):
    key: Annotated[CriterionKey, msgspec.Meta(min_length=1, max_length=40)]
    passed: Annotated[bool, doc("Does the proposal meet this criterion?", True)]
    note: text(2000) = ""


class ReviewIn(Input):
    criteria: Annotated[list[CriterionResultIn], doc("One result for each of the round's criteria.")]
    decision: Annotated[Literal["eligible", "ineligible", "changes_requested"],
                        doc(choices("The review's outcome.", DECISION_MEANINGS), "eligible")]
    public_reason: Reason = ""
    adjusted_cost: Annotated[Minor, money(ADJUSTED, 1_100_000)] | None = None
    cost_explanation: Reason = ""


class AppealIn(Input):
    reason: Annotated[text(5000, min_length=1),
                      doc("Why the authors think the ineligible decision is wrong (public).",
                          "The site is municipal land: see the land registry extract.")]


class AppealDecisionIn(Input):
    criteria: Annotated[list[CriterionResultIn], doc("One result for each of the round's criteria.")]
    decision: Annotated[Literal["eligible", "ineligible"],
                        doc(choices("The final outcome of the appeal.", DECISION_MEANINGS), "eligible")]
    public_reason: Reason = ""
    adjusted_cost: Annotated[Minor, money(ADJUSTED, 1_100_000)] | None = None
    cost_explanation: Reason = ""


class CostLineOut(msgspec.Struct):
    label: str
    amount: Annotated[int, money("The line's cost.", 1_200_000)]


class CriterionResultOut(msgspec.Struct):
    key: str
    passed: bool
    note: str


class ReviewOut(msgspec.Struct):
    id: int
    stage: Annotated[str, doc(choices("Which decision this is.", {"review": "the first review",
                                                                    "appeal": "the decision on an appeal"}))]
    decision: Annotated[str, doc(choices("The outcome.", DECISION_MEANINGS), "eligible")]
    public_reason: str
    criteria: list[CriterionResultOut]
    adjusted_cost: Annotated[MinorUnits, money(ADJUSTED)] | None
    cost_explanation: str
    created_at: Annotated[UtcTime, utc("When the decision was recorded.")]
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
    status: ProposalStatus
    requested_amount: Annotated[MinorUnits, money(REQUESTED, 1_200_000)]
    cost_lines: list[CostLineOut]
    final_cost: Annotated[MinorUnits, money(FINAL_COST, 1_100_000)] | None
    appealed: Annotated[bool, doc("Has the one allowed appeal been used?")]
    submitted_at: Annotated[UtcTime, utc("When it was last submitted.")] | None
    appeal_reason: str | None
    reviews: list[ReviewOut]


class ProposalSummaryOut(msgspec.Struct):
    id: int
    budget_id: int
    title: str
    summary: str
    category: str
    status: ProposalStatus
    requested_amount: Annotated[MinorUnits, money(REQUESTED, 1_200_000)]
    final_cost: Annotated[MinorUnits, money(FINAL_COST, 1_100_000)] | None


class PublicProposalPageOut(msgspec.Struct):
    proposals: list[ProposalSummaryOut]
    total: int
    page: int
    pages: int


class Created(msgspec.Struct):
    id: int
