"""The tranche state machine and money caps, pure: examples plus a property over action sequences."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pb.grants.domain import (
    APPROVE, APPROVED, FAIL, FAILED, HOLDS_PLAN, MONEY_OUT, PAID, PLANNED, RETRY, REVERSE, REVERSED, SETTLE, SUBMIT,
    SUBMITTED, TRANCHE_ACTIONS, TRANCHE_STATUSES, TRANSITIONS, TransitionRefused, fits_under, grant_amount_problem,
    idempotency_key, may_approve, next_status, source_statuses,
)


def test_happy_path_of_a_tranche():
    status = PLANNED
    for action, expected in [(APPROVE, APPROVED), (SUBMIT, SUBMITTED), (SETTLE, PAID), (REVERSE, REVERSED)]:
        status = next_status(status, action)
        assert status == expected


def test_failed_payment_is_retried_through_submitted():
    assert next_status(next_status(SUBMITTED, FAIL), RETRY) == SUBMITTED


@pytest.mark.parametrize("status,action", [
    (PLANNED, SUBMIT), (PLANNED, SETTLE), (APPROVED, SETTLE), (PAID, SETTLE), (PAID, APPROVE), (REVERSED, REVERSE),
    (FAILED, SETTLE), (APPROVED, APPROVE),
])
def test_forbidden_transitions_are_refused_with_a_reason(status, action):
    with pytest.raises(TransitionRefused) as refused:
        next_status(status, action)
    assert repr(status) in str(refused.value)


def test_source_statuses_are_the_where_clause_of_each_action():
    assert source_statuses(APPROVE) == (PLANNED,)
    assert source_statuses(SETTLE) == (SUBMITTED,)
    assert set(source_statuses(SUBMIT) + source_statuses(RETRY)) == {APPROVED, FAILED}


def test_every_transition_stays_within_the_known_statuses():
    assert {s for s, _ in TRANSITIONS} | set(TRANSITIONS.values()) <= set(TRANCHE_STATUSES)


def test_idempotency_key_is_deterministic_per_attempt():
    assert idempotency_key(7, 1) == idempotency_key(7, 1) == "tranche-7-attempt-1"
    assert idempotency_key(7, 2) != idempotency_key(7, 1)


def test_caps_and_amount_rules():
    assert fits_under(100, 60, 40) and not fits_under(100, 61, 40) and not fits_under(100, 0, 0)
    assert grant_amount_problem(500, 500) is None
    assert "above" in grant_amount_problem(501, 500)
    assert "positive" in grant_amount_problem(0, 500)
    assert may_approve(1, 2) and not may_approve(3, 3)


# --- model-based property: any sequence of official acts keeps the money invariants -------------

@dataclass(frozen=True)
class Tranche:
    amount: int
    status: str
    planned_by: int
    approved_by: int | None = None
    history: tuple[str, ...] = (PLANNED,)


@dataclass(frozen=True)
class Book:
    """A grant and its tranches, changed only through the domain rules (as the services do)."""

    amount: int
    tranches: tuple[Tranche, ...] = ()

    @property
    def planned(self) -> int:
        return sum(t.amount for t in self.tranches if t.status in HOLDS_PLAN)

    @property
    def paid(self) -> int:
        return sum(t.amount for t in self.tranches if t.status in MONEY_OUT)

    def plan(self, amount: int, official: int) -> Book:
        if not fits_under(self.amount, self.planned, amount):
            return self
        return replace(self, tranches=(*self.tranches, Tranche(amount, PLANNED, official)))

    def act(self, index: int, action: str, official: int) -> Book:
        tranche = self.tranches[index]
        try:
            target = next_status(tranche.status, action)
        except TransitionRefused:
            return self
        if action == APPROVE and not may_approve(tranche.planned_by, official):
            return self
        if action == SETTLE and not fits_under(self.amount, self.paid, tranche.amount):
            return self
        changed = replace(tranche, status=target, history=(*tranche.history, target),
                          approved_by=official if action == APPROVE else tranche.approved_by)
        return replace(self, tranches=(*self.tranches[:index], changed, *self.tranches[index + 1:]))


plan_step = st.tuples(st.just("plan"), st.integers(1, 400), st.integers(1, 3))
act_step = st.tuples(st.sampled_from(TRANCHE_ACTIONS), st.integers(0, 7), st.integers(1, 3))


@settings(max_examples=300, deadline=None)
@given(amount=st.integers(1, 1000), steps=st.lists(st.one_of(plan_step, act_step), max_size=40))
def test_no_action_sequence_overpays_or_skips_approval_or_four_eyes(amount, steps):
    """Invariants: planned <= grant, paid <= grant, every paid tranche went planned→approved→submitted
    before paid, its approver differs from its planner, and no status outside the table appears."""
    book = Book(amount)
    for kind, value, official in steps:
        if kind == "plan":
            book = book.plan(value, official)
        elif book.tranches:
            book = book.act(value % len(book.tranches), kind, official)
        assert book.planned <= book.amount
        assert book.paid <= book.amount
        for tranche in book.tranches:
            assert tranche.status in TRANCHE_STATUSES
            for before, after in zip(tranche.history, tranche.history[1:]):
                assert after in {target for (source, _), target in TRANSITIONS.items() if source == before}
            if PAID in tranche.history:
                assert tranche.history[:3] == (PLANNED, APPROVED, SUBMITTED)
                assert tranche.approved_by is not None and tranche.approved_by != tranche.planned_by
