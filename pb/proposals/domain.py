"""Proposals as pure rules: the status machine (with the one-appeal rule), who may act in which phase,
cost lines, reviews and visibility.

The status machine is a table of (status, action) -> allowed target statuses; ``apply`` is the only
way a status changes, so a property test over random action sequences covers every path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from pb.rounds.domain import REVIEW, SUBMISSION, VOTING, FROZEN_PHASES

DRAFT, SUBMITTED, IN_REVIEW = "draft", "submitted", "in_review"
ELIGIBLE, INELIGIBLE, CHANGES_REQUESTED, APPEALED = "eligible", "ineligible", "changes_requested", "appealed"
ON_BALLOT, SELECTED, NOT_SELECTED, FUNDED, WITHDRAWN = "on_ballot", "selected", "not_selected", "funded", "withdrawn"
STATUSES = (DRAFT, SUBMITTED, IN_REVIEW, ELIGIBLE, INELIGIBLE, CHANGES_REQUESTED, APPEALED, ON_BALLOT,
            SELECTED, NOT_SELECTED, FUNDED, WITHDRAWN)
DECISIONS = (ELIGIBLE, INELIGIBLE, CHANGES_REQUESTED)
APPEAL_DECISIONS = (ELIGIBLE, INELIGIBLE)
REASON_REQUIRED = frozenset({INELIGIBLE, CHANGES_REQUESTED})
EDITABLE = frozenset({DRAFT, CHANGES_REQUESTED})

SUBMIT, WITHDRAW, START_REVIEW, DECIDE = "submit", "withdraw", "start_review", "decide"
APPEAL, DECIDE_APPEAL, PUT_ON_BALLOT, SELECT, FUND = "appeal", "decide_appeal", "put_on_ballot", "select", "fund"

TRANSITIONS: Mapping[tuple[str, str], frozenset[str]] = {
    (DRAFT, SUBMIT): frozenset({SUBMITTED}),
    (CHANGES_REQUESTED, SUBMIT): frozenset({SUBMITTED}),
    (DRAFT, WITHDRAW): frozenset({WITHDRAWN}),
    (SUBMITTED, WITHDRAW): frozenset({WITHDRAWN}),
    (SUBMITTED, START_REVIEW): frozenset({IN_REVIEW}),
    (IN_REVIEW, DECIDE): frozenset(DECISIONS),
    (INELIGIBLE, APPEAL): frozenset({APPEALED}),
    (APPEALED, DECIDE_APPEAL): frozenset(APPEAL_DECISIONS),
    (ELIGIBLE, PUT_ON_BALLOT): frozenset({ON_BALLOT}),
    (ON_BALLOT, SELECT): frozenset({SELECTED, NOT_SELECTED}),
    (SELECTED, FUND): frozenset({FUNDED}),
}
# Round phases in which each citizen/reviewer action may happen (the rest are system steps).
ACTION_PHASES: Mapping[str, frozenset[str]] = {
    SUBMIT: frozenset({SUBMISSION}),  # resubmission: see phases_for
    WITHDRAW: frozenset({SUBMISSION, REVIEW}),
    START_REVIEW: frozenset({REVIEW}),
    DECIDE: frozenset({REVIEW}),
    APPEAL: frozenset({REVIEW}),
    DECIDE_APPEAL: frozenset({REVIEW}),
    PUT_ON_BALLOT: frozenset({VOTING}),
}


class IllegalStatusChange(ValueError):
    """The status machine does not allow this action from this status."""


@dataclass(frozen=True, slots=True)
class ProposalState:
    status: str
    appealed: bool = False


def apply(state: ProposalState, action: str, target: str | None = None) -> ProposalState:
    """The state after ``action`` (``target`` picks among several outcomes, e.g. a decision)."""
    targets = TRANSITIONS.get((state.status, action))
    if not targets:
        raise IllegalStatusChange(f"A proposal that is {state.status!r} cannot {action.replace('_', ' ')}.")
    if action == APPEAL and state.appealed:
        raise IllegalStatusChange("A proposal can be appealed only once.")
    if target is None and len(targets) == 1:
        target = next(iter(targets))
    if target not in targets:
        raise IllegalStatusChange(f"{action!r} from {state.status!r} leads to one of {', '.join(sorted(targets))}, "
                                  f"not {target!r}.")
    return ProposalState(target, state.appealed or action == APPEAL)


def phases_for(action: str, status: str) -> frozenset[str]:
    """Round phases allowing ``action``; a proposal sent back for changes may be resubmitted during review."""
    if action == SUBMIT and status == CHANGES_REQUESTED:
        return frozenset({SUBMISSION, REVIEW})
    return ACTION_PHASES.get(action, frozenset())


def editable_in(status: str, phase: str) -> bool:
    """Content edits: drafts while submission is open; sent-back proposals until review ends."""
    if status == DRAFT:
        return phase == SUBMISSION
    if status == CHANGES_REQUESTED:
        return phase in (SUBMISSION, REVIEW)
    return False


def cost_line_problems(lines: Sequence[tuple[str, int]], requested_amount: int, max_amount: int,
                       budget_amount: int) -> list[str]:
    problems = []
    if not lines:
        problems.append("List at least one cost line.")
    if any(amount <= 0 for _, amount in lines):
        problems.append("Every cost line amount must be positive (minor units).")
    total = sum(amount for _, amount in lines)
    if lines and total != requested_amount:
        problems.append(f"The cost lines add up to {total}, not to the requested amount {requested_amount}.")
    if requested_amount > max_amount:
        problems.append(f"The requested amount {requested_amount} is above this round's maximum {max_amount}.")
    if requested_amount > budget_amount:
        problems.append(f"The requested amount {requested_amount} is above the budget's {budget_amount}.")
    return problems


@dataclass(frozen=True, slots=True)
class CriterionResult:
    key: str
    passed: bool
    note: str = ""


def review_problems(criteria_keys: Sequence[str], results: Sequence[CriterionResult], decision: str,
                    public_reason: str, adjusted_cost: int | None, cost_explanation: str,
                    allowed_decisions: Sequence[str] = DECISIONS) -> list[str]:
    """A review must judge each of the round's criteria once, give reasons where they are owed, and
    explain any cost it adjusts."""
    problems = []
    if decision not in allowed_decisions:
        problems.append(f"The decision must be one of {', '.join(allowed_decisions)}.")
    given = [result.key for result in results]
    missing = [key for key in criteria_keys if key not in given]
    unknown = sorted({key for key in given if key not in criteria_keys})
    repeated = sorted({key for key in given if given.count(key) > 1})
    if missing:
        problems.append(f"Judge every criterion; missing: {', '.join(missing)}.")
    if unknown:
        problems.append(f"Unknown criteria: {', '.join(unknown)}.")
    if repeated:
        problems.append(f"Judge each criterion once; repeated: {', '.join(repeated)}.")
    if decision in REASON_REQUIRED and not public_reason.strip():
        problems.append(f"A {decision!r} decision needs a public reason.")
    if decision == ELIGIBLE and any(not result.passed for result in results):
        problems.append("A proposal that fails a criterion cannot be eligible.")
    if adjusted_cost is not None:
        if adjusted_cost <= 0:
            problems.append("The adjusted cost must be positive (minor units).")
        if not cost_explanation.strip():
            problems.append("Explain the adjusted cost.")
    return problems


def final_cost(requested_amount: int, adjusted_cost: int | None) -> int:
    """The cost on the ballot: the reviewer's estimate when they adjusted it, else what was asked."""
    return requested_amount if adjusted_cost is None else adjusted_cost


@dataclass(frozen=True, slots=True)
class Viewer:
    is_proposer: bool  # author or co-proposer
    is_staff: bool  # official, reviewer or auditor


def visible_to(viewer: Viewer, status: str, ever_submitted: bool, round_phase: str) -> bool:
    """Drafts stay with their proposers; once submitted, a proposal is public (visitors included)."""
    if viewer.is_proposer or ever_submitted:
        return True
    return round_phase in FROZEN_PHASES and status in (ON_BALLOT, SELECTED, NOT_SELECTED, FUNDED)
