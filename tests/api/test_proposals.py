"""Proposals over HTTP: draft, edit, submit, withdraw, visibility, and every refusal."""

from __future__ import annotations

import asyncio
import random

import pytest

from pb.proposals import domain as pd
from tests.helpers import create_organisation, member_with_roles
from tests.steps_rounds import (
    MAX_PROPOSAL_AMOUNT, advance, audit_actions, create_proposal, create_round, criteria_results, move_phase,
    proposal_body, review,
    round_in_submission, round_in_voting, submit,
)

pytestmark = [pytest.mark.anyio, pytest.mark.db]


def _url(world: dict, proposal_id: int, action: str = "") -> str:
    return f"/api/orgs/{world['org_id']}/proposals/{proposal_id}" + (f"/{action}" if action else "")


async def _status(client, world, proposal_id, headers) -> str:
    response = await client.get(_url(world, proposal_id), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["status"]


async def test_a_citizen_drafts_edits_submits_and_withdraws(client):
    world = await round_in_submission(client, citizens=1)
    author, north = world["citizens"][0]["headers"], world["budgets"]["north"]
    proposal_id = await create_proposal(client, world["org_id"], world["round_id"], author, north, 12_000)
    edited = proposal_body(north, 15_000, title="A bigger bench")
    response = await client.put(_url(world, proposal_id), json=edited, headers=author)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["title"], body["requested_amount"], body["status"]) == ("A bigger bench", 15_000, "draft")
    assert sum(line["amount"] for line in body["cost_lines"]) == 15_000
    response = await submit(client, world["org_id"], proposal_id, author)
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert response.json()["submitted_at"] is not None
    response = await client.post(_url(world, proposal_id, "withdraw"), headers=author)
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    actions = await audit_actions(client, world["org_id"], world["official"])
    assert "proposal.submitted" in actions and "proposal.withdrawn" in actions


@pytest.mark.parametrize("change, problem", [
    ({"requested_amount": MAX_PROPOSAL_AMOUNT + 2,
      "cost_lines": [{"label": "a", "amount": MAX_PROPOSAL_AMOUNT + 2}]}, "above this round's maximum"),
    ({"cost_lines": [{"label": "a", "amount": 1_000}, {"label": "b", "amount": 2_000}]},
     "add up to 3000, not to the requested amount 10000"),
    ({"cost_lines": []}, "at least one cost line"),
    ({"cost_lines": [{"label": "a", "amount": 11_000}, {"label": "refund", "amount": -1_000}]}, "must be positive"),
    ({"co_proposers": [999_999]}, "must be members of this organisation"),
])
async def test_rule_breaking_proposals_are_422_naming_the_rule(client, change, problem):
    world = await round_in_submission(client, citizens=1)
    body = {**proposal_body(world["budgets"]["north"], 10_000), **change}
    response = await client.post(f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}/proposals", json=body,
                                 headers=world["citizens"][0]["headers"])
    assert response.status_code == 422, response.text
    assert problem in response.json()["detail"]


async def test_a_budget_of_another_round_or_above_the_budget_is_422(client):
    world = await round_in_submission(client, citizens=1)
    other = await create_round(client, world["org_id"], world["official"], title="Other")
    author = world["citizens"][0]["headers"]
    url = f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}/proposals"
    response = await client.post(url, json=proposal_body(other["budgets"]["north"], 1_000), headers=author)
    assert response.status_code == 422 and "not one of this round's budgets" in response.json()["detail"]
    response = await client.post(url, json=proposal_body(world["budgets"]["south"], 90_000), headers=author)
    assert response.status_code == 422 and "above the budget's 80000" in response.json()["detail"]


async def test_proposals_can_be_created_only_while_the_round_takes_submissions(client):
    org_id, official = await create_organisation(client)
    created = await create_round(client, org_id, official)
    _, citizen = await member_with_roles(client, org_id, official)
    url = f"/api/orgs/{org_id}/rounds/{created['round_id']}/proposals"
    body = proposal_body(created["budgets"]["north"], 1_000)
    assert (await client.post(url, json=body, headers=citizen)).status_code == 409  # draft round
    await advance(client, org_id, created["round_id"], official, "submission", "review")
    response = await client.post(url, json=body, headers=citizen)
    assert response.status_code == 409 and "takes submissions" in response.json()["detail"]


async def test_a_submitted_proposal_cannot_be_edited_or_submitted_again(client):
    world = await round_in_submission(client, citizens=1)
    author, north = world["citizens"][0]["headers"], world["budgets"]["north"]
    proposal_id = await create_proposal(client, world["org_id"], world["round_id"], author, north, 12_000)
    assert (await submit(client, world["org_id"], proposal_id, author)).status_code == 200
    response = await client.put(_url(world, proposal_id), json=proposal_body(north, 1_000), headers=author)
    assert response.status_code == 409 and response.json()["code"] == "not_editable"
    assert (await submit(client, world["org_id"], proposal_id, author)).status_code == 409
    await advance(client, world["org_id"], world["round_id"], world["official"], "review")
    response = await client.post(_url(world, proposal_id, "withdraw"), headers=author)
    assert response.status_code == 409 and "'in_review' cannot withdraw" in response.json()["detail"]
    assert await _status(client, world, proposal_id, author) == "in_review"


async def test_drafts_are_seen_and_edited_only_by_their_proposers(client):
    world = await round_in_submission(client, citizens=3)
    author, co_proposer, stranger = (c["headers"] for c in world["citizens"])
    north = world["budgets"]["north"]
    body = proposal_body(north, 12_000, co_proposers=[world["citizens"][1]["id"]])
    response = await client.post(f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}/proposals", json=body,
                                 headers=author)
    proposal_id = response.json()["id"]
    for headers in (stranger, world["official"], world["reviewer"]):
        assert (await client.get(_url(world, proposal_id), headers=headers)).status_code == 404
        assert (await client.put(_url(world, proposal_id), json=body, headers=headers)).status_code == 404
    assert (await client.get(_url(world, proposal_id), headers=co_proposer)).json()["co_proposers"] == [
        world["citizens"][1]["id"]]
    response = await client.put(_url(world, proposal_id), json={**body, "title": "Co-written"}, headers=co_proposer)
    assert response.status_code == 200 and response.json()["title"] == "Co-written"
    response = await client.put(_url(world, proposal_id), json={**body, "co_proposers": []}, headers=co_proposer)
    assert response.status_code == 403 and "co-proposers" in response.json()["detail"]
    assert (await submit(client, world["org_id"], proposal_id, co_proposer)).status_code == 403
    listing = f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}/proposals"
    assert [p["id"] for p in (await client.get(listing, headers=co_proposer)).json()] == [proposal_id]
    assert (await client.get(listing, headers=stranger)).json() == []
    assert (await client.get(listing, headers=world["official"])).json() == []


async def test_submitted_proposals_are_public_but_only_their_author_acts_on_them(client):
    world = await round_in_submission(client, citizens=2)
    author, stranger = world["citizens"][0]["headers"], world["citizens"][1]["headers"]
    _, auditor = await member_with_roles(client, world["org_id"], world["official"], "auditor")
    proposal_id = await create_proposal(client, world["org_id"], world["round_id"], author,
                                        world["budgets"]["north"], 12_000)
    public = f"/api/orgs/{world['org_id']}/public-proposals/{proposal_id}"
    assert (await client.get(public)).status_code == 404  # a draft stays private
    await submit(client, world["org_id"], proposal_id, author)
    for headers in (world["official"], world["reviewer"], auditor, stranger):
        assert await _status(client, world, proposal_id, headers) == "submitted"
    visitor = (await client.get(public)).json()
    assert visitor["status"] == "submitted" and visitor["cost_lines"]
    assert (await client.post(_url(world, proposal_id, "withdraw"), headers=auditor)).status_code == 403
    assert (await client.post(_url(world, proposal_id, "withdraw"), headers=stranger)).status_code == 403


async def test_everyone_sees_the_ballot_and_the_public_reason_of_ineligible_proposals(client):
    world = await round_in_voting(client)
    _, newcomer = await member_with_roles(client, world["org_id"], world["official"])
    listing = f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}/proposals"
    seen = {p["id"]: (p["status"], p["final_cost"]) for p in (await client.get(listing, headers=newcomer)).json()}
    assert {pid: seen[pid] for pid in world["costs"]} == {pid: ("on_ballot", cost) for pid, cost in world["costs"].items()}
    ineligible = (await client.get(_url(world, world["ineligible"][0]), headers=newcomer)).json()
    assert ineligible["status"] == "ineligible" and ineligible["reviews"][0]["public_reason"]
    detail = (await client.get(_url(world, world["proposals"]["north"][2]), headers=newcomer)).json()
    assert detail["final_cost"] == 35_000 and detail["reviews"][0]["reviewer_id"] is None
    staff = (await client.get(_url(world, world["proposals"]["north"][2]), headers=world["official"])).json()
    assert staff["reviews"][0]["reviewer_id"] == world["reviewer_id"]


async def test_another_organisations_proposal_is_not_found(client):
    world = await round_in_submission(client, "a", citizens=1)
    author = world["citizens"][0]["headers"]
    proposal_id = await create_proposal(client, world["org_id"], world["round_id"], author,
                                        world["budgets"]["north"], 12_000)
    await submit(client, world["org_id"], proposal_id, author)
    org_b, official_b = await create_organisation(client, "b")
    for method, suffix in (("GET", ""), ("POST", "/withdraw"), ("POST", "/submit")):
        response = await client.request(method, f"/api/orgs/{org_b}/proposals/{proposal_id}{suffix}",
                                        headers=official_b)
        assert response.status_code == 404, (method, suffix)
    response = await review(client, org_b, proposal_id, official_b)
    assert response.status_code == 404
    response = await client.get(f"/api/orgs/{org_b}/rounds/{world['round_id']}/proposals", headers=official_b)
    assert response.status_code == 404


async def test_concurrent_submissions_of_one_proposal_succeed_once(client):
    world = await round_in_submission(client, citizens=1)
    author = world["citizens"][0]["headers"]
    proposal_id = await create_proposal(client, world["org_id"], world["round_id"], author,
                                        world["budgets"]["north"], 12_000)
    responses = await asyncio.gather(*(submit(client, world["org_id"], proposal_id, author) for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5
    actions = await audit_actions(client, world["org_id"], world["official"])
    assert actions.count("proposal.submitted") == 1


ACTIONS_TO_MODEL = {"submit": "submit", "withdraw": "withdraw", "appeal": "appeal", "review": "decide",
                    "appeal_decision": "decide_appeal"}


def _model(state: pd.ProposalState, phase: str, action: str, decision: str) -> tuple[bool, pd.ProposalState]:
    """What the pure rules say a request does: (allowed, the state after it)."""
    if action == "open_review":
        allowed = phase == "submission"
        return allowed, pd.ProposalState("in_review") if allowed and state.status == "submitted" else state
    if action == "edit":
        return pd.editable_in(state.status, phase), state
    name = ACTIONS_TO_MODEL[action]
    source = pd.apply(state, "start_review") if name == "decide" and state.status == "submitted" else state
    try:
        after = pd.apply(source, name, decision)
    except pd.IllegalStatusChange:
        return False, state
    allowed = phase in pd.phases_for(name, state.status)
    return allowed, after if allowed else state


async def test_random_proposal_actions_do_exactly_what_the_status_machine_allows(client):
    """Invariant at the DB: a seeded random walk of citizen and reviewer actions on three proposals (half
    of them legal, half not) gets 409 exactly where the pure machine and phase rules refuse, and a
    refusal changes nothing."""
    world = await round_in_submission(client, citizens=1)
    org_id, author = world["org_id"], world["citizens"][0]["headers"]
    north = world["budgets"]["north"]
    ids = [await create_proposal(client, org_id, world["round_id"], author, north, 12_000) for _ in range(3)]
    states = {pid: pd.ProposalState("draft") for pid in ids}
    phase, rng, legal_steps = "submission", random.Random(7), 0
    actions = ["submit", "edit", "review", "appeal", "appeal_decision", "open_review", "withdraw"]
    for _ in range(40):
        choices = [(a, pid, d) for a in actions for pid in ids
                   for d in (pd.DECISIONS if a == "review" else pd.APPEAL_DECISIONS if a == "appeal_decision"
                             else (None,))]
        legal = [c for c in choices if _model(states[c[1]], phase, c[0], c[2])[0] and c[0] != "withdraw"]
        action, proposal_id, decision = rng.choice(legal if legal and rng.random() < 0.5 else choices)
        state = states[proposal_id]
        allowed, expected = _model(state, phase, action, decision)
        if action == "open_review":
            response = await move_phase(client, org_id, world["round_id"], world["official"], "review")
            if allowed:
                phase = "review"
                states = {pid: _model(st, "submission", "open_review", None)[1] for pid, st in states.items()}
        elif action == "edit":
            response = await client.put(_url(world, proposal_id), json=proposal_body(north, 13_000), headers=author)
        else:
            response = await _act(client, world, proposal_id, author, action, decision)
            states[proposal_id] = expected
        # staff cannot even see a proposal that was never submitted: 404 rather than 409
        hidden = action in ("review", "appeal_decision") and state.status == "draft"
        refusal = 404 if hidden else 409
        assert response.status_code in ((200, 201) if allowed else (refusal,)), (action, state, phase, response.text)
        legal_steps += allowed
        for pid in ids:
            detail = (await client.get(_url(world, pid), headers=author)).json()
            assert (detail["status"], detail["appealed"]) == (states[pid].status, states[pid].appealed), action
    assert legal_steps >= 6 and phase == "review"  # the walk did get somewhere


async def _act(client, world, proposal_id, author, action, decision):
    if action in ("submit", "withdraw"):
        return await client.post(_url(world, proposal_id, action), headers=author)
    if action == "appeal":
        return await client.post(_url(world, proposal_id, "appeal"), json={"reason": "Please"}, headers=author)
    passed = decision == "eligible"
    if action == "review":
        return await review(client, world["org_id"], proposal_id, world["reviewer"], decision)
    body = {"criteria": criteria_results(passed), "decision": decision, "public_reason": "Final."}
    return await client.post(_url(world, proposal_id, "appeal/decision"), json=body, headers=world["official"])
