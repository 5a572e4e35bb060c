"""Reviews and appeals over HTTP: criteria, decisions, reasons, adjusted costs, resubmission, the one
appeal decided by another reviewer, and every refusal."""

from __future__ import annotations


import pytest

from tests.helpers import member_with_roles
from tests.steps_rounds import (
    advance, audit_actions, create_proposal, criteria_results, proposal_body, review, round_in_submission, submit,
)

pytestmark = [pytest.mark.anyio, pytest.mark.db]


def _url(world: dict, proposal_id: int, action: str = "") -> str:
    return f"/api/orgs/{world['org_id']}/proposals/{proposal_id}" + (f"/{action}" if action else "")


async def _world_in_review(client, *, co_author_is_reviewer: bool = False) -> dict:
    """A round in review with one submitted proposal by citizen 0 (north, 20 000)."""
    world = await round_in_submission(client, citizens=2)
    author = world["citizens"][0]["headers"]
    co_proposers = [world["reviewer_id"]] if co_author_is_reviewer else []
    proposal_id = await create_proposal(client, world["org_id"], world["round_id"], author,
                                        world["budgets"]["north"], 20_000, co_proposers=co_proposers)
    assert (await submit(client, world["org_id"], proposal_id, author)).status_code == 200
    await advance(client, world["org_id"], world["round_id"], world["official"], "review")
    return {**world, "proposal_id": proposal_id, "author": author}


async def _appeal_decision(client, world, headers, decision="eligible", reason=""):
    body = {"criteria": criteria_results(decision == "eligible"), "decision": decision, "public_reason": reason}
    return await client.post(_url(world, world["proposal_id"], "appeal/decision"), json=body, headers=headers)


async def test_an_eligible_review_with_adjusted_cost_is_recorded_and_audited(client):
    world = await _world_in_review(client)
    response = await review(client, world["org_id"], world["proposal_id"], world["reviewer"], adjusted_cost=24_000)
    assert response.status_code == 201, response.text
    detail = (await client.get(_url(world, world["proposal_id"]), headers=world["author"])).json()
    assert (detail["status"], detail["final_cost"], detail["requested_amount"]) == ("eligible", 24_000, 20_000)
    [seen] = detail["reviews"]
    assert seen["adjusted_cost"] == 24_000 and seen["cost_explanation"]
    assert [c["key"] for c in seen["criteria"]] == ["feasible", "public_land"] and seen["reviewer_id"] is None
    events = [e for e in (await client.get(f"/api/orgs/{world['org_id']}/audit/events",
                                            headers=world["official"])).json() if e["action"] == "proposal.reviewed"]
    assert events[0]["payload"]["decision"] == "eligible"
    assert events[0]["actor"] == f"user:{world['reviewer_id']}"


async def test_reviews_happen_only_in_the_review_phase(client):
    world = await round_in_submission(client, citizens=1)
    author = world["citizens"][0]["headers"]
    proposal_id = await create_proposal(client, world["org_id"], world["round_id"], author,
                                        world["budgets"]["north"], 20_000)
    await submit(client, world["org_id"], proposal_id, author)
    response = await review(client, world["org_id"], proposal_id, world["reviewer"])
    assert response.status_code == 409 and "must be in review" in response.json()["detail"]


async def test_only_reviewers_and_officials_review(client):
    world = await _world_in_review(client)
    _, auditor = await member_with_roles(client, world["org_id"], world["official"], "auditor")
    for headers in (world["citizens"][1]["headers"], auditor):
        assert (await review(client, world["org_id"], world["proposal_id"], headers)).status_code == 403
    assert (await review(client, world["org_id"], world["proposal_id"], world["official"])).status_code == 201


async def test_no_one_reviews_their_own_or_a_co_authored_proposal(client):
    world = await _world_in_review(client, co_author_is_reviewer=True)
    response = await review(client, world["org_id"], world["proposal_id"], world["reviewer"])
    assert response.status_code == 403 and response.json()["code"] == "own_proposal"
    _, other_reviewer = await member_with_roles(client, world["org_id"], world["official"], "reviewer")
    assert (await client.get(_url(world, world["proposal_id"]), headers=world["reviewer"])).json()["status"] == \
        "in_review"
    # the author's own account given the reviewer role is refused just the same
    await client.put(f"/api/orgs/{world['org_id']}/members/{world['citizens'][0]['id']}/roles",
                     json={"roles": ["reviewer"]}, headers=world["official"])
    response = await review(client, world["org_id"], world["proposal_id"], world["author"])
    assert response.status_code == 403
    assert (await review(client, world["org_id"], world["proposal_id"], other_reviewer)).status_code == 201


@pytest.mark.parametrize("decision, extra, problem", [
    ("ineligible", {}, "needs a public reason"),
    ("changes_requested", {}, "needs a public reason"),
    ("eligible", {"criteria": criteria_results()[:1]}, "missing: public_land"),
    ("eligible", {"criteria": criteria_results(False)}, "fails a criterion cannot be eligible"),
    ("eligible", {"adjusted_cost": 30_000}, "Explain the adjusted cost"),
])
async def test_incomplete_reviews_are_422_naming_what_is_missing(client, decision, extra, problem):
    world = await _world_in_review(client)
    body = {"criteria": criteria_results(decision == "eligible"), "decision": decision, "public_reason": "",
            **extra}
    response = await client.post(_url(world, world["proposal_id"], "reviews"), json=body, headers=world["reviewer"])
    assert response.status_code == 422, response.text
    assert problem in response.json()["detail"]
    assert (await client.get(_url(world, world["proposal_id"]), headers=world["author"])).json()["reviews"] == []


async def test_a_decided_proposal_is_not_reviewed_again(client):
    world = await _world_in_review(client)
    assert (await review(client, world["org_id"], world["proposal_id"], world["reviewer"])).status_code == 201
    response = await review(client, world["org_id"], world["proposal_id"], world["official"], "ineligible",
                            reason="Second opinion")
    assert response.status_code == 409 and response.json()["code"] == "illegal_status_change"


async def test_changes_requested_then_edited_and_resubmitted_during_review_then_reviewed_again(client):
    world = await _world_in_review(client)
    org_id, proposal_id, author = world["org_id"], world["proposal_id"], world["author"]
    response = await review(client, org_id, proposal_id, world["reviewer"], "changes_requested",
                            reason="Add a maintenance plan.")
    assert response.status_code == 201
    edited = proposal_body(world["budgets"]["north"], 22_000, description="With a maintenance plan.")
    response = await client.put(_url(world, proposal_id), json=edited, headers=author)
    assert response.status_code == 200 and response.json()["status"] == "changes_requested"
    response = await submit(client, org_id, proposal_id, author)
    assert response.status_code == 200 and response.json()["status"] == "submitted"
    assert (await client.put(_url(world, proposal_id), json=edited, headers=author)).status_code == 409
    assert (await review(client, org_id, proposal_id, world["reviewer"])).status_code == 201
    detail = (await client.get(_url(world, proposal_id), headers=author)).json()
    assert (detail["status"], detail["final_cost"]) == ("eligible", 22_000)
    assert [r["decision"] for r in detail["reviews"]] == ["changes_requested", "eligible"]
    assert "proposal.resubmitted" in await audit_actions(client, org_id, world["official"])


async def test_one_appeal_decided_by_another_reviewer(client):
    world = await _world_in_review(client)
    org_id, proposal_id, author = world["org_id"], world["proposal_id"], world["author"]
    response = await review(client, org_id, proposal_id, world["reviewer"], "ineligible", reason="Private land.")
    assert response.status_code == 201
    response = await client.post(_url(world, proposal_id, "appeal"), json={"reason": "It is the town square."},
                                 headers=author)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["appeal_reason"]) == ("appealed", "It is the town square.")
    again = await client.post(_url(world, proposal_id, "appeal"), json={"reason": "Again"}, headers=author)
    assert again.status_code == 409
    response = await _appeal_decision(client, world, world["reviewer"])
    assert response.status_code == 403 and response.json()["code"] == "same_reviewer"
    response = await _appeal_decision(client, world, world["official"], "ineligible")
    assert response.status_code == 422 and "needs a public reason" in response.json()["detail"]
    response = await _appeal_decision(client, world, world["official"], "changes_requested", "r")
    assert response.status_code == 422  # not an appeal outcome
    assert response.json()["errors"][0]["pointer"] == "/decision"
    assert (await _appeal_decision(client, world, world["official"])).status_code == 201
    detail = (await client.get(_url(world, proposal_id), headers=author)).json()
    assert (detail["status"], detail["appealed"]) == ("eligible", True)
    assert [r["stage"] for r in detail["reviews"]] == ["review", "appeal"]
    actions = await audit_actions(client, org_id, world["official"])
    assert "proposal.appealed" in actions and "proposal.appeal_decided" in actions


async def test_an_appeal_lost_is_final(client):
    world = await _world_in_review(client)
    await review(client, world["org_id"], world["proposal_id"], world["reviewer"], "ineligible", reason="No.")
    await client.post(_url(world, world["proposal_id"], "appeal"), json={"reason": "Please"}, headers=world["author"])
    assert (await _appeal_decision(client, world, world["official"], "ineligible", "Still no.")).status_code == 201
    response = await client.post(_url(world, world["proposal_id"], "appeal"), json={"reason": "Please!"},
                                 headers=world["author"])
    assert response.status_code == 409 and "only once" in response.json()["detail"]
    assert (await _appeal_decision(client, world, world["official"])).status_code == 409


async def test_only_the_author_appeals_and_only_against_ineligible(client):
    world = await _world_in_review(client)
    url = _url(world, world["proposal_id"], "appeal")
    response = await client.post(url, json={"reason": "Early"}, headers=world["author"])
    assert response.status_code == 409  # still in review: nothing to appeal against
    await review(client, world["org_id"], world["proposal_id"], world["reviewer"], "ineligible", reason="No.")
    assert (await client.post(url, json={"reason": "Me too"}, headers=world["official"])).status_code == 403
    assert (await client.post(url, json={"reason": "Me too"}, headers=world["citizens"][1]["headers"])).status_code \
        == 403  # a submitted proposal is public, but only its author appeals
    assert (await client.post(url, json={"reason": ""}, headers=world["author"])).status_code == 422
    await advance(client, world["org_id"], world["round_id"], world["official"], "cancelled")
    response = await client.post(url, json={"reason": "Too late"}, headers=world["author"])
    assert response.status_code == 409 and "must be in review" in response.json()["detail"]
