"""The proposal status machine (with the one-appeal rule) and the pure proposal and review rules."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pb.proposals import domain
from pb.proposals.domain import (
    APPEAL, APPEALED, DRAFT, ELIGIBLE, FUNDED, NOT_SELECTED, ON_BALLOT, SELECTED, STATUSES, TRANSITIONS, WITHDRAWN,
    CriterionResult, ProposalState, Viewer,
)
from pb.rounds.domain import PHASES, REVIEW, SUBMISSION, is_frozen

ACTIONS = sorted({action for _, action in TRANSITIONS})
FINAL = {WITHDRAWN, FUNDED, NOT_SELECTED}
BALLOT_AND_AFTER = {ON_BALLOT, SELECTED, NOT_SELECTED, FUNDED}


@settings(max_examples=400)
@given(st.lists(st.tuples(st.sampled_from(ACTIONS), st.none() | st.sampled_from(STATUSES)), max_size=40))
def test_no_sequence_of_proposal_actions_reaches_a_forbidden_state(steps):
    """Invariant: each change is an edge of the table; at most one appeal ever; nothing leaves a final
    status; nothing gets back before the ballot once on it; a proposal reaches the ballot only from eligible."""
    state, appeals = ProposalState(DRAFT), 0
    for action, target in steps:
        try:
            after = domain.apply(state, action, target)
        except domain.IllegalStatusChange:
            continue
        assert after.status in TRANSITIONS[state.status, action]
        assert state.status not in FINAL
        appeals += action == APPEAL
        assert appeals <= 1 and after.appealed == (appeals == 1)
        if state.status in BALLOT_AND_AFTER:
            assert after.status in BALLOT_AND_AFTER
        if after.status == ON_BALLOT:
            assert state.status == ELIGIBLE
        state = after


def test_every_status_is_reachable_from_draft():
    seen, queue = {DRAFT}, deque([DRAFT])
    while queue:
        status = queue.popleft()
        for (source, _), targets in TRANSITIONS.items():
            if source == status:
                for target in targets - seen:
                    seen.add(target)
                    queue.append(target)
    assert seen == set(STATUSES)


def test_a_second_appeal_is_refused_even_after_the_appeal_made_it_ineligible_again():
    state = domain.apply(ProposalState("ineligible"), APPEAL)
    assert state == ProposalState(APPEALED, appealed=True)
    state = domain.apply(state, "decide_appeal", "ineligible")
    with pytest.raises(domain.IllegalStatusChange, match="only once"):
        domain.apply(state, APPEAL)


def test_a_decision_must_name_an_allowed_outcome():
    with pytest.raises(domain.IllegalStatusChange):
        domain.apply(ProposalState("in_review"), "decide")
    with pytest.raises(domain.IllegalStatusChange):
        domain.apply(ProposalState("in_review"), "decide", "funded")
    assert domain.apply(ProposalState("in_review"), "decide", "eligible").status == "eligible"


@given(st.sampled_from(STATUSES), st.sampled_from(PHASES))
def test_content_is_editable_only_for_drafts_in_submission_and_sent_back_proposals_until_review_ends(status, phase):
    expected = (status == DRAFT and phase == SUBMISSION) or (
        status == "changes_requested" and phase in (SUBMISSION, REVIEW))
    assert domain.editable_in(status, phase) == expected


def test_resubmission_is_allowed_during_review_but_a_first_submission_is_not():
    assert REVIEW in domain.phases_for("submit", "changes_requested")
    assert domain.phases_for("submit", DRAFT) == {SUBMISSION}


amounts = st.integers(min_value=-5, max_value=200)


@given(st.lists(amounts, max_size=5), st.integers(min_value=1, max_value=500), st.integers(1, 300), st.integers(1, 300))
def test_cost_lines_are_accepted_exactly_when_every_rule_holds(lines, requested, maximum, budget):
    problems = domain.cost_line_problems([("x", a) for a in lines], requested, maximum, budget)
    valid = bool(lines) and all(a > 0 for a in lines) and sum(lines) == requested and requested <= maximum \
        and requested <= budget
    assert (problems == []) == valid


def test_review_problems_name_what_is_missing():
    keys = ["feasible", "land"]
    ok = [CriterionResult("feasible", True), CriterionResult("land", True)]
    assert domain.review_problems(keys, ok, "eligible", "", None, "") == []
    assert domain.review_problems(keys, ok, "ineligible", " ", None, "") == ["A 'ineligible' decision needs a public reason."]
    assert "needs a public reason" in domain.review_problems(keys, ok, "changes_requested", "", None, "")[0]
    assert domain.review_problems(keys, ok[:1], "eligible", "", None, "") == ["Judge every criterion; missing: land."]
    failed = [CriterionResult("feasible", False), CriterionResult("land", True)]
    assert domain.review_problems(keys, failed, "eligible", "", None, "") == [
        "A proposal that fails a criterion cannot be eligible."]
    assert domain.review_problems(keys, ok, "eligible", "", 500, "") == ["Explain the adjusted cost."]
    assert "Unknown criteria: x" in domain.review_problems(keys, [*ok, CriterionResult("x", True)], "eligible", "",
                                                           None, "")[0]
    assert "must be one of eligible, ineligible" in domain.review_problems(
        keys, ok, "changes_requested", "r", None, "", domain.APPEAL_DECISIONS)[0]


def test_final_cost_is_the_adjusted_cost_when_there_is_one():
    assert domain.final_cost(100, None) == 100
    assert domain.final_cost(100, 120) == 120


@given(st.sampled_from(STATUSES), st.booleans(), st.booleans(), st.sampled_from(PHASES), st.booleans())
def test_drafts_stay_with_their_proposers(status, is_proposer, is_staff, phase, submitted):
    """Invariant: someone who is not a proposer never sees a never-submitted proposal unless it is on the
    ballot of a frozen round; once submitted, a proposal is public."""
    visible = domain.visible_to(Viewer(is_proposer, is_staff), status, submitted, phase)
    if is_proposer or submitted:
        assert visible
    else:
        assert visible == (status in BALLOT_AND_AFTER and is_frozen(phase))
