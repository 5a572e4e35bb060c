"""Reusable steps for rounds, proposals and reviews through the HTTP API.

Other contexts (voting, results, grants) import these; the signatures of ``round_in_review`` and
``round_in_voting`` and the keys of the world dict they return are kept stable.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

import httpx

from tests.helpers import create_organisation, member_with_roles

Headers = dict[str, str]

CRITERIA = [
    {"key": "feasible", "label": "Technically feasible"},
    {"key": "public_land", "label": "On public land"},
]
BUDGETS = [
    {"name": "North", "kind": "district", "district": "north", "amount": 100_000,
     "ballot_format": "approval", "min_projects": 1, "max_projects": 2},
    {"name": "South", "kind": "district", "district": "south", "amount": 80_000, "ballot_format": "approval"},
    {"name": "City-wide", "kind": "citywide", "amount": 150_000, "ballot_format": "knapsack"},
]
BUDGET_KEYS = ("north", "south", "citywide")
# (budget key, requested amount, reviewer's adjusted cost or None); authors take turns.
PROPOSALS = [
    ("north", 40_000, None), ("north", 50_000, None), ("north", 30_000, 35_000),
    ("south", 60_000, None), ("south", 30_000, None),
    ("citywide", 100_000, None), ("citywide", 70_000, None),
]
MAX_PROPOSAL_AMOUNT = 120_000


def round_body(**overrides: Any) -> dict[str, Any]:
    """A valid round-creation body: two district budgets and a city-wide one, two criteria."""
    return {"title": "Participatory budget 2027", "max_proposal_amount": MAX_PROPOSAL_AMOUNT,
            "budgets": [dict(b) for b in BUDGETS], "criteria": [dict(c) for c in CRITERIA],
            "tally_rule": "greedy", **overrides}


def proposal_body(budget_id: int, amount: int, title: str = "A bench by the river", **overrides: Any) -> dict:
    """A valid proposal whose two cost lines add up to ``amount``."""
    return {"budget_id": budget_id, "title": title, "summary": f"{title}: short summary",
            "description": "Longer description.", "category": "green", "requested_amount": amount,
            "cost_lines": [{"label": "material", "amount": amount - amount // 2},
                           {"label": "labour", "amount": amount // 2}], **overrides}


def criteria_results(passed: bool = True) -> list[dict[str, Any]]:
    return [{"key": c["key"], "passed": passed, "note": "checked"} for c in CRITERIA]


async def create_round(client: httpx.AsyncClient, org_id: int, official: Headers, **overrides: Any) -> dict:
    """Create a draft round; returns {"round_id", "budgets": {"north"|"south"|"citywide": id}}."""
    response = await client.post(f"/api/orgs/{org_id}/rounds", json=round_body(**overrides), headers=official)
    assert response.status_code == 201, response.text
    round_id = response.json()["id"]
    detail = await client.get(f"/api/orgs/{org_id}/staff/rounds/{round_id}", headers=official)
    assert detail.status_code == 200, detail.text
    keys = {b["district"] or "citywide": b["id"] for b in detail.json()["budgets"]}
    return {"round_id": round_id, "budgets": keys}


async def move_phase(client: httpx.AsyncClient, org_id: int, round_id: int, official: Headers,
                     target: str) -> httpx.Response:
    """Ask for a phase change (raw response, so tests can check refusals)."""
    return await client.post(f"/api/orgs/{org_id}/rounds/{round_id}/phase", json={"target": target},
                             headers=official)


async def advance(client: httpx.AsyncClient, org_id: int, round_id: int, official: Headers, *targets: str) -> None:
    for target in targets:
        response = await move_phase(client, org_id, round_id, official, target)
        assert response.status_code == 200, response.text


async def create_proposal(client: httpx.AsyncClient, org_id: int, round_id: int, headers: Headers,
                          budget_id: int, amount: int, **overrides: Any) -> int:
    response = await client.post(f"/api/orgs/{org_id}/rounds/{round_id}/proposals",
                                 json=proposal_body(budget_id, amount, **overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def submit(client: httpx.AsyncClient, org_id: int, proposal_id: int, headers: Headers) -> httpx.Response:
    return await client.post(f"/api/orgs/{org_id}/proposals/{proposal_id}/submit", headers=headers)


async def review(client: httpx.AsyncClient, org_id: int, proposal_id: int, reviewer: Headers,
                 decision: str = "eligible", *, reason: str = "", adjusted_cost: int | None = None,
                 passed: bool | None = None) -> httpx.Response:
    """Post a review (raw response). Criteria pass unless the decision is not eligible."""
    body: dict[str, Any] = {
        "criteria": criteria_results(decision == "eligible" if passed is None else passed),
        "decision": decision,
        "public_reason": reason or ("" if decision == "eligible" else "Please see the criteria."),
    }
    if adjusted_cost is not None:
        body.update(adjusted_cost=adjusted_cost, cost_explanation="Our estimate from comparable works.")
    return await client.post(f"/api/orgs/{org_id}/proposals/{proposal_id}/reviews", json=body, headers=reviewer)


async def audit_actions(client: httpx.AsyncClient, org_id: int, official: Headers) -> list[str]:
    response = await client.get(f"/api/orgs/{org_id}/audit/events", params={"limit": 1000}, headers=official)
    assert response.status_code == 200, response.text
    return [event["action"] for event in response.json()]


async def round_in_submission(client: httpx.AsyncClient, slug: str = "city", *, citizens: int = 3,
                              round_overrides: dict[str, Any] | None = None) -> dict:
    """An organisation with an official, a reviewer and ``citizens`` citizens, and a round (budgets
    north, south, city-wide; criteria CRITERIA) that takes submissions.

    Returns {"org_id", "round_id", "official", "official_id", "reviewer", "reviewer_id",
    "citizens": [{"id", "headers"}], "budgets": {"north"|"south"|"citywide": id}}.
    """
    org_id, official = await create_organisation(client, slug)
    me = await client.get("/api/me", headers=official)
    created = await create_round(client, org_id, official, **(round_overrides or {}))
    reviewer_id, reviewer = await member_with_roles(client, org_id, official, "reviewer")
    people = []
    for _ in range(citizens):
        user_id, headers = await member_with_roles(client, org_id, official)
        people.append({"id": user_id, "headers": headers})
    await advance(client, org_id, created["round_id"], official, "submission")
    return {"org_id": org_id, "round_id": created["round_id"], "official": official, "official_id": me.json()["id"],
            "reviewer": reviewer, "reviewer_id": reviewer_id, "citizens": people, "budgets": created["budgets"]}


async def round_in_review(client: httpx.AsyncClient, slug: str = "city", *,
                          round_overrides: dict[str, Any] | None = None) -> dict:
    """``round_in_submission`` carried on: the PROPOSALS (authors take turns) plus one more in north
    (20 000) are submitted, then review opens (all of them are in review).

    Returns that world plus "proposals": {budget key: [ids in PROPOSALS order]},
    "extra_proposal": id, "requested": {proposal id: amount}.
    """
    world = await round_in_submission(client, slug, round_overrides=round_overrides)
    org_id, round_id, citizens = world["org_id"], world["round_id"], world["citizens"]
    proposals: dict[str, list[int]] = {key: [] for key in BUDGET_KEYS}
    requested: dict[int, int] = {}
    for index, (key, amount, _) in enumerate([*PROPOSALS, ("north", 20_000, None)]):
        author = citizens[index % len(citizens)]["headers"]
        proposal_id = await create_proposal(client, org_id, round_id, author, world["budgets"][key], amount,
                                            title=f"Project {index + 1} in {key}")
        response = await submit(client, org_id, proposal_id, author)
        assert response.status_code == 200, response.text
        requested[proposal_id] = amount
        if index < len(PROPOSALS):
            proposals[key].append(proposal_id)
    await advance(client, org_id, round_id, world["official"], "review")
    return {**world, "proposals": proposals, "extra_proposal": max(requested), "requested": requested}


async def round_in_voting(client: httpx.AsyncClient, slug: str = "city", *,
                          before_voting: Callable[[dict], Awaitable[None]] | None = None,
                          round_overrides: dict[str, Any] | None = None) -> dict:
    """``round_in_review`` carried on: every PROPOSALS entry reviewed eligible (one with an adjusted
    cost), the extra north proposal ineligible, then voting opened (the round is frozen).

    ``before_voting(world)`` runs just before voting opens, e.g. to import the census so the frozen
    eligible counts are not zero. Returns the world of ``round_in_review`` plus
    "costs": {proposal id: final cost on the ballot}, "ineligible": [ids], "frozen_config_hash".
    """
    world = await round_in_review(client, slug, round_overrides=round_overrides)
    org_id, reviewer = world["org_id"], world["reviewer"]
    costs: dict[int, int] = {}
    remaining = {key: list(ids) for key, ids in world["proposals"].items()}
    for key, amount, adjusted in PROPOSALS:
        proposal_id = remaining[key].pop(0)
        response = await review(client, org_id, proposal_id, reviewer, adjusted_cost=adjusted)
        assert response.status_code == 201, response.text
        costs[proposal_id] = adjusted or amount
    response = await review(client, org_id, world["extra_proposal"], reviewer, "ineligible",
                            reason="Not on public land.")
    assert response.status_code == 201, response.text
    if before_voting is not None:
        await before_voting(world)
    response = await move_phase(client, org_id, world["round_id"], world["official"], "voting")
    assert response.status_code == 200, response.text
    return {**world, "costs": costs, "ineligible": [world["extra_proposal"]],
            "frozen_config_hash": response.json()["frozen_config_hash"]}
