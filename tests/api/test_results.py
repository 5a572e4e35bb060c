"""Close -> tally -> results -> publish over HTTP: fair rule from the frozen config, visibility, verification."""

from __future__ import annotations

import asyncio
import json

import pytest

from pb.accounts.domain import AUDITOR
from pb.core.canonical import canonical_json
from tests.helpers import create_organisation, member_with_roles
from tests.steps_voting import (
    expected_winners, round_closed_with_ballots, round_tallied, round_tallied_and_published, round_url,
)

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_whole_flow_selects_the_expected_winners(client):
    world = await round_tallied_and_published(client)
    assert world["selected"] == expected_winners(world)
    assert world["results"]["phase"] == "published"
    north = next(b for b in world["results"]["budgets"] if b["budget_id"] == world["budgets"]["north"])
    p1, p2, p3 = world["proposals"]["north"]
    assert north["spent"] == world["costs"][p1] + world["costs"][p2]
    assert north["ballots"] == 3 and north["rule"] == "greedy"
    rows = {p["proposal_id"]: p for p in north["projects"]}
    assert [rows[p]["votes"] for p in (p1, p2, p3)] == [3, 2, 1]
    assert [rows[p]["reason"] for p in (p1, p2, p3)] == ["selected", "selected", "not_affordable"]
    assert [rows[p]["rank"] for p in (p1, p2, p3)] == [1, 2, None]


async def test_tally_settles_proposals_and_logs_the_result_hashes(client):
    from pb.proposals import repo as proposals_repo
    from tests.steps_rounds import audit_actions

    world = await round_tallied(client)
    winners = {pid for ids in world["tally"]["budgets"] for pid in ids["winners"]}
    on_ballot = [pid for ids in world["proposals"].values() for pid in ids]
    statuses = {pid: (await proposals_repo.get_proposal(world["org_id"], pid)).status for pid in on_ballot}
    assert {pid for pid, status in statuses.items() if status == "selected"} == winners
    assert {pid for pid, status in statuses.items() if status == "not_selected"} == set(on_ballot) - winners
    ineligible = await proposals_repo.get_proposal(world["org_id"], world["ineligible"][0])
    assert ineligible.status == "ineligible"
    assert "results.tallied" in await audit_actions(client, world["org_id"], world["official"])
    events = (await client.get(f"/api/orgs/{world['org_id']}/audit/events", params={"limit": 1000},
                               headers=world["official"])).json()
    tallied = next(e for e in events if e["action"] == "results.tallied")
    payload = tallied["payload"]
    assert payload["result_hashes"] == {str(b["budget_id"]): b["result_hash"] for b in world["tally"]["budgets"]}


async def test_every_project_has_votes_and_a_reason(client):
    world = await round_tallied(client)
    by_budget = {b["budget_id"]: b for b in world["tally"]["budgets"]}
    for key, ids in world["proposals"].items():
        budget = by_budget[world["budgets"][key]]
        assert sorted(p["proposal_id"] for p in budget["projects"]) == sorted(ids)
        assert budget["spent"] <= budget["amount"]
        assert budget["spent"] == sum(world["costs"][pid] for pid in budget["winners"])
        for project in budget["projects"]:
            assert project["reason"] and (project["reason"] == "selected") == project["selected"]
    south = by_budget[world["budgets"]["south"]]
    assert {p["proposal_id"]: p["votes"] for p in south["projects"]} == dict(zip(world["proposals"]["south"], [1, 0]))


async def test_tally_needs_a_closed_round_and_an_official(client):
    from tests.steps_voting import round_in_voting_with_voters

    world = await round_in_voting_with_voters(client)
    early = await client.post(round_url(world, "/tally"), headers=world["official"])
    assert early.status_code == 409 and early.json()["code"] == "not_closed"
    world = await round_closed_with_ballots(client, "second")
    _, auditor = await member_with_roles(client, world["org_id"], world["official"], AUDITOR)
    for headers in (world["voters"][0], auditor):
        assert (await client.post(round_url(world, "/tally"), headers=headers)).status_code == 403
    assert (await client.post(round_url(world, "/tally"), headers=world["official"])).status_code == 200
    again = await client.post(round_url(world, "/tally"), headers=world["official"])
    assert again.status_code == 409


async def test_concurrent_tallies_store_one_result(client):
    from pb.results.tables import ProjectResult, TallyRun

    world = await round_closed_with_ballots(client)
    responses = await asyncio.gather(*(client.post(round_url(world, "/tally"), headers=world["official"])
                                       for _ in range(5)))
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409]
    assert await TallyRun.count().where(TallyRun.round == world["round_id"]) == 3
    assert await ProjectResult.count().where(ProjectResult.round == world["round_id"]) == 7


async def test_results_are_public_only_once_published(client):
    world = await round_closed_with_ballots(client)
    _, auditor = await member_with_roles(client, world["org_id"], world["official"], AUDITOR)
    assert (await client.get(round_url(world, "/tally"), headers=world["official"])).status_code == 404
    assert (await client.post(round_url(world, "/results/publish"), headers=world["official"])).status_code == 409
    await client.post(round_url(world, "/tally"), headers=world["official"])
    hidden = await client.get(round_url(world, "/results"))
    assert hidden.status_code == 404 and hidden.json()["code"] == "no_results_yet"
    for headers in (world["official"], auditor):
        staff = await client.get(round_url(world, "/tally"), headers=headers)
        assert staff.status_code == 200 and staff.json()["phase"] == "tallied"
    assert (await client.get(round_url(world, "/tally"), headers=world["voters"][0])).status_code == 403
    for headers in (world["voters"][0], auditor):
        assert (await client.post(round_url(world, "/results/publish"), headers=headers)).status_code == 403
    published = await client.post(round_url(world, "/results/publish"), headers=world["official"])
    assert published.status_code == 200
    public = await client.get(round_url(world, "/results"))
    assert public.status_code == 200 and public.json()["phase"] == "published"
    assert public.json()["budgets"] == published.json()["budgets"]
    assert (await client.post(round_url(world, "/results/publish"), headers=world["official"])).status_code == 409


async def test_another_organisations_results_are_not_found(client):
    world = await round_tallied_and_published(client)
    other, other_official = await create_organisation(client, "elsewhere")
    url = f"/api/orgs/{other}/rounds/{world['round_id']}"
    assert (await client.get(url + "/results")).status_code == 404
    assert (await client.get(url + "/tally", headers=other_official)).status_code == 404
    assert (await client.post(url + "/results/publish", headers=other_official)).status_code == 404
    assert (await client.get(url + "/tally/verification", headers=other_official)).status_code == 404


async def test_selected_projects_for_grants(client):
    from pb.results.repo import selected_projects

    world = await round_tallied_and_published(client)
    rows = await selected_projects(world["round_id"])
    expected = expected_winners(world)
    by_budget_id = sorted(world["budgets"], key=world["budgets"].get)
    assert [(r.proposal_id, r.budget_id, r.cost) for r in rows] == [
        (pid, world["budgets"][key], world["costs"][pid]) for key in by_budget_id for pid in expected[key]
    ]


async def test_verification_recomputes_the_same_hashes(client):
    world = await round_tallied(client)
    _, auditor = await member_with_roles(client, world["org_id"], world["official"], AUDITOR)
    for headers in (world["official"], auditor):
        response = await client.get(round_url(world, "/tally/verification"), headers=headers)
        assert response.status_code == 200
        report = response.json()
        assert report["match"] is True
        stored = {b["budget_id"]: b["result_hash"] for b in world["tally"]["budgets"]}
        assert {b["budget_id"]: b["recomputed_hash"] for b in report["budgets"]} == stored
        assert all(b["ballots"] == b["participations"] and b["receipts_intact"] for b in report["budgets"])
    assert (await client.get(round_url(world, "/tally/verification"), headers=world["voters"][0])).status_code == 403


async def test_verification_detects_a_tampered_ballot(client):
    from pb.voting.tables import Ballot

    world = await round_tallied(client)
    p1, p2, p3 = world["proposals"]["north"]
    north = world["budgets"]["north"]
    victim = (await Ballot.select().where(Ballot.budget == north).order_by(Ballot.receipt).first())
    content = json.loads(victim["content"])
    content["projects"] = [p3]
    await Ballot.update({Ballot.content: canonical_json(content)}).where(Ballot.receipt == victim["receipt"])
    report = (await client.get(round_url(world, "/tally/verification"), headers=world["official"])).json()
    assert report["match"] is False
    budget = next(b for b in report["budgets"] if b["budget_id"] == north)
    assert budget["receipts_intact"] is False and budget["match"] is False
    assert budget["recomputed_hash"] != budget["stored_hash"]
    assert all(b["match"] for b in report["budgets"] if b["budget_id"] != north)


async def test_verification_detects_a_removed_ballot(client):
    from pb.voting.tables import Ballot

    world = await round_tallied(client)
    south = world["budgets"]["south"]
    await Ballot.delete().where(Ballot.budget == south)
    report = (await client.get(round_url(world, "/tally/verification"), headers=world["official"])).json()
    budget = next(b for b in report["budgets"] if b["budget_id"] == south)
    assert report["match"] is False and budget["ballots"] == 0 and budget["participations"] == 1


async def test_verification_before_the_tally_is_409(client):
    world = await round_closed_with_ballots(client)
    response = await client.get(round_url(world, "/tally/verification"), headers=world["official"])
    assert response.status_code == 409
