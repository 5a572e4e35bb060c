"""Grants and tranches as pure rules: the tranche state machine and the money caps.

The database enforces the same rules with conditional updates (see ``pb.grants.repo``); this module
is the single statement of them, used by the services for clear refusals and by the property
tests that explore every action sequence.
"""

from __future__ import annotations

# Tranche statuses (DESIGN §3):
#   planned -> approved -> submitted -> paid ;  submitted -> failed -> (retry) submitted
#   paid -> reversed (once clawbacks, possibly partial, add up to the amount)
#   planned | approved | failed -> withdrawn (the grant is cancelled)
PLANNED, APPROVED, SUBMITTED, PAID, FAILED, REVERSED = "planned", "approved", "submitted", "paid", "failed", "reversed"
WITHDRAWN = "withdrawn"
TRANCHE_STATUSES = (PLANNED, APPROVED, SUBMITTED, PAID, FAILED, REVERSED, WITHDRAWN)

# Actions on a tranche; each is one official act (or one gateway answer).
APPROVE, SUBMIT, SETTLE, FAIL, RETRY, REVERSE = "approve", "submit", "settle", "fail", "retry", "reverse"
WITHDRAW = "withdraw"
TRANCHE_ACTIONS = (APPROVE, SUBMIT, SETTLE, FAIL, RETRY, REVERSE, WITHDRAW)

TRANSITIONS: dict[tuple[str, str], str] = {
    (PLANNED, APPROVE): APPROVED,
    (APPROVED, SUBMIT): SUBMITTED,  # payment order handed to the gateway (key written first)
    (SUBMITTED, SETTLE): PAID,  # the gateway (or the treasurer's bank reference) confirms
    (SUBMITTED, FAIL): FAILED,  # definitive refusal by the gateway
    (FAILED, RETRY): SUBMITTED,  # a new attempt, hence a new idempotency key
    (PAID, REVERSE): REVERSED,  # clawback
    (PLANNED, WITHDRAW): WITHDRAWN,  # grant cancelled before the money left
    (APPROVED, WITHDRAW): WITHDRAWN,
    (FAILED, WITHDRAW): WITHDRAWN,
}
# A grant can be completed once each of its tranches is in one of these.
FINAL_TRANCHE_STATUSES = (PAID, REVERSED, WITHDRAWN)

# Statuses whose amount counts as money with the grantee.
MONEY_OUT = frozenset({PAID})
# Statuses that still hold their share of the grant (a reversed tranche gives it back).
HOLDS_PLAN = frozenset(TRANCHE_STATUSES) - {REVERSED, WITHDRAWN}

# Grant statuses: active -> completed (tranches final, final report accepted) | cancelled.
ACTIVE, COMPLETED, CANCELLED = "active", "completed", "cancelled"
# Progress report review.
ACCEPTED, REJECTED = "accepted", "rejected"

# Round phases in which grants may be created; the first grant moves published -> funding.
GRANTABLE_PHASES = ("published", "funding")
FIRST_GRANT_MOVES = ("published", "funding")


class TransitionRefused(ValueError):
    """The action is not allowed in the tranche's current status."""

    def __init__(self, status: str, action: str):
        allowed = sorted(a for (s, a) in TRANSITIONS if s == status)
        super().__init__(
            f"A tranche that is {status!r} cannot be {action!r}d"
            + (f"; possible now: {', '.join(allowed)}." if allowed else "; it is final.")
        )
        self.status = status
        self.action = action


def next_status(status: str, action: str) -> str:
    """The status ``action`` leads to from ``status``, or ``TransitionRefused``."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise TransitionRefused(status, action) from None


def source_statuses(action: str) -> tuple[str, ...]:
    """Every status from which ``action`` is allowed (the WHERE of the conditional update)."""
    return tuple(status for (status, a) in TRANSITIONS if a == action)


def idempotency_key(tranche_id: int, attempt: int) -> str:
    """Deterministic per attempt, so a resend of the same attempt is recognised by any gateway."""
    return f"tranche-{tranche_id}-attempt-{attempt}"


def fits_under(cap: int, used: int, amount: int) -> bool:
    """The cap rule of budgets (granted), grants (planned) and payments (paid)."""
    return amount > 0 and used + amount <= cap


def grant_amount_problem(amount: int, final_cost: int) -> str | None:
    """Why ``amount`` cannot be granted for a project costing ``final_cost`` (None: it can)."""
    if amount <= 0:
        return "The grant amount must be positive."
    if amount > final_cost:
        return f"The grant amount {amount} is above the project's final cost {final_cost}."
    return None


def may_approve(planned_by: int, approver: int) -> bool:
    """Four eyes: whoever planned a tranche may not approve it."""
    return planned_by != approver
