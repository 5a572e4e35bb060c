"""Every ballot format of the tally engine, offered to officials and cast over HTTP: choose-1,
cumulative points, scoring, rankings (besides approval and knapsack, tested elsewhere)."""

from __future__ import annotations

import json

import pytest

from pb.tally import Ballot, Instance, Project, build_profile, tally
from tests.helpers import create_organisation, member_with_roles
from tests.steps_rounds import BUDGETS, advance
from tests.steps_voting import cast, round_in_voting_with_voters, round_url

pytestmark = [pytest.mark.anyio, pytest.mark.db]

MIXED = [
    {**BUDGETS[0], "ballot_format": "cumulative", "points_per_voter": 10, "min_projects": None, "max_projects": 2},
    {**BUDGETS[1], "ballot_format": "scoring", "score_max": 5},
    {**BUDGETS[2], "ballot_format": "ordinal"},
]


async def test_officials_are_offered_every_rule_and_ballot_format(client):
    org_id, official = await create_organisation(client)
    response = await client.get(f"/api/orgs/{org_id}/staff/tally-options", headers=official)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["rules"]) == {"greedy", "mes", "phragmen", "max_welfare"}
    assert set(body["rules"]["mes"]["options"]["completion"]) == {
        "none", "add1", "add1_greedy", "add1_last_feasible", "add1_last_feasible_greedy", "budget_increase"}
    assert "points" in body["rules"]["mes"]["options"]["satisfaction"]
    formats = {f["format"]: f for f in body["ballot_formats"]}
    assert list(formats) == ["approval", "choose-1", "knapsack", "cumulative", "scoring", "ordinal"]
    assert formats["cumulative"]["settings"] == ["points_per_voter", "min_projects", "max_projects"]
    _, citizen = await member_with_roles(client, org_id, official)
    assert (await client.get(f"/api/orgs/{org_id}/staff/tally-options", headers=citizen)).status_code == 403


async def test_points_and_ranked_ballots_are_validated_stored_and_tallied(client):
    world = await round_in_voting_with_voters(client, round_overrides={"budgets": MIXED})
    p1, p2, p3 = world["proposals"]["north"]
    p4, p5 = world["proposals"]["south"]
    p6, p7 = world["proposals"]["citywide"]
    north_a, north_b, south, north_c = world["voters"]

    refusals = [
        (north_a, "north", [p1, p2], [8, 4], "too_many_points"),
        (north_a, "north", [p1], None, "malformed_points"),
        (north_a, "north", [p1, p2], [5], "malformed_points"),
        (north_a, "north", [p1, p2, p3], [1, 1, 1], "too_many_projects"),
        (north_a, "north", [p1], [0], "points_below_minimum"),
        (south, "south", [p4], [6], "points_per_project_exceeded"),
        (south, "south", [p4], [0], "points_below_minimum"),
        (north_a, "citywide", [p6, p6], None, "duplicate_project"),
        (north_a, "citywide", [p6, p7], [1, 2], "malformed_points"),
    ]
    for headers, key, projects, points, code in refusals:
        response = await cast(client, world, headers, key, projects, points)
        assert response.status_code == 422, (code, response.text)
        assert response.json()["code"] == code, response.text

    accepted = [
        (north_a, "north", [p2, p1], [4, 6]),  # points follow their project, whatever the order sent
        (north_b, "north", [p1, p3], [5, 5]),
        (north_c, "north", [p1, p2], [3, 3]),
        (south, "south", [p4, p5], [5, 2]),
        (north_a, "citywide", [p7, p6], None),  # a ranking: p7 first
        (north_b, "citywide", [p6], None),
        (south, "citywide", [p6, p7], None),
        (north_c, "citywide", [p6], None),
    ]
    contents = []
    for headers, key, projects, points in accepted:
        response = await cast(client, world, headers, key, projects, points)
        assert response.status_code == 201, response.text
        contents.append(json.loads(response.json()["content"]))
    assert (contents[0]["projects"], contents[0]["points"]) == (sorted([p1, p2]), [6, 4] if p1 < p2 else [4, 6])
    assert contents[4]["projects"] == [p7, p6] and "points" not in contents[4]

    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    response = await client.post(round_url(world, "/tally"), headers=world["official"])
    assert response.status_code == 200, response.text
    budgets = {b["budget_id"]: b for b in response.json()["budgets"]}
    north = budgets[world["budgets"]["north"]]
    votes = {p["proposal_id"]: p["votes"] for p in north["projects"]}
    assert votes == {p1: 3, p2: 2, p3: 1}  # greedy counts every listed project (approval projection)
    assert north["winners"] == [p1, p2]
    citywide = budgets[world["budgets"]["citywide"]]
    assert {p["proposal_id"]: p["votes"] for p in citywide["projects"]} == {p6: 4, p7: 2}
    assert citywide["winners"] == [p6]
    for budget in budgets.values():
        assert budget["spent"] <= budget["amount"]
        assert all(p["reason"] for p in budget["projects"])


async def test_mes_with_points_satisfaction_counts_the_points(client):
    all_points = [MIXED[0], MIXED[1], {**BUDGETS[2], "ballot_format": "cumulative", "points_per_voter": 10}]
    world = await round_in_voting_with_voters(client, round_overrides={
        "budgets": all_points, "tally_rule": "mes", "tally_options": {"satisfaction": "points"}})
    p1, p2, p3 = world["proposals"]["north"]
    north_a, north_b, _, north_c = world["voters"]
    ballots = [(north_a, [p1, p2], [9, 1]), (north_b, [p1, p3], [5, 5]), (north_c, [p3], [10])]
    for headers, projects, points in ballots:
        response = await cast(client, world, headers, "north", projects, points)
        assert response.status_code == 201, response.text
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    response = await client.post(round_url(world, "/tally"), headers=world["official"])
    assert response.status_code == 200, response.text
    north = next(b for b in response.json()["budgets"] if b["budget_id"] == world["budgets"]["north"])

    # the engine on the same ballots, built here from the test's own data
    costs = {str(pid): world["costs"][pid] for pid in (p1, p2, p3)}
    instance = Instance({pid: Project(pid, cost) for pid, cost in costs.items()}, budget=BUDGETS[0]["amount"])
    profile = build_profile("cumulative", [
        Ballot(tuple(str(p) for p, _ in sorted(zip(projects, points))), tuple(v for _, v in sorted(zip(projects, points))))
        for _, projects, points in ballots])
    expected = tally(instance, profile, "mes", satisfaction="points")
    assert north["winners"] == [int(pid) for pid in expected.winners]
    assert north["options"]["satisfaction"] == "points"
    paid = {p["proposal_id"]: p["figures"].get("payments") for p in north["projects"] if p["selected"]}
    assert paid and all(paid.values())  # MES explains who paid what for each funded project


async def test_choose_one_ballot_takes_exactly_one_project(client):
    budgets = [BUDGETS[0], BUDGETS[1], {**BUDGETS[2], "ballot_format": "choose-1"}]
    world = await round_in_voting_with_voters(client, round_overrides={"budgets": budgets})
    p6, p7 = world["proposals"]["citywide"]
    voter = world["voters"][0]
    assert (await cast(client, world, voter, "citywide", [p6, p7])).json()["code"] == "too_many_projects"
    assert (await cast(client, world, voter, "citywide", [])).json()["code"] == "too_few_projects"
    assert (await cast(client, world, voter, "citywide", [p7])).status_code == 201


async def test_points_satisfaction_is_refused_for_a_round_without_points_ballots(client):
    org_id, official = await create_organisation(client)
    round_id = (await client.post(f"/api/orgs/{org_id}/rounds", json={
        "title": "R", "max_proposal_amount": 1000, "budgets": [MIXED[0]], "tally_rule": "mes",
        "tally_options": {"satisfaction": "points"}}, headers=official)).json()["id"]
    response = await client.post(f"/api/orgs/{org_id}/rounds/{round_id}/budgets", json=BUDGETS[2], headers=official)
    assert response.status_code == 422
    assert "Points satisfaction needs cumulative or scoring ballots" in response.text
    response = await client.patch(f"/api/orgs/{org_id}/rounds/{round_id}",
                                  json={"tally_options": {"satisfaction": "cost"}}, headers=official)
    assert response.status_code == 200, response.text
    response = await client.post(f"/api/orgs/{org_id}/rounds/{round_id}/budgets", json=BUDGETS[2], headers=official)
    assert response.status_code == 201, response.text
