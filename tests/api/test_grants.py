"""Grants over HTTP: created from selected proposals within the budget, tranches planned within the
grant and approved with four eyes, progress reports by the grantee, and the refusals."""

from __future__ import annotations

import asyncio

import pytest

from pb.grants import repo as grants_repo
from pb.proposals import repo as proposals_repo
from pb.rounds import repo as rounds_repo
from tests.helpers import create_organisation, member_with_roles
from tests.steps_grants import (
    approved_tranche, audit_trail, create_grant, grant_detail, grant_world, grant_world_before_publication, granted,
    plan,
)

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_selected_proposal_becomes_a_grant_of_its_final_cost_and_the_round_starts_funding(client):
    world = await grant_world(client)
    project = world.selected[0]
    grant = await granted(client, world, project)
    assert grant["amount"] == project.cost
    assert (grant["proposal_id"], grant["budget_id"], grant["planned"], grant["paid"]) == (
        project.id, world.budget_id, 0, 0)
    assert (await proposals_repo.get_proposal(world.organisation_id, project.id)).status == "funded"
    round_ = await rounds_repo.get_round(world.organisation_id, world.round_id)
    assert round_.phase == "funding"
    budget = await rounds_repo.get_budget(world.round_id, world.budget_id)
    assert budget.granted == project.cost
    trail = await audit_trail(client, world)
    assert ("grant.created", f"grant:{grant['id']}",
            {"round": world.round_id, "budget": world.budget_id, "proposal": project.id, "amount": project.cost}) in trail
    assert [a for a, s, _ in trail if a == "round.phase_changed" and s == f"round:{world.round_id}"][-1:] == [
        "round.phase_changed"]


async def test_later_grants_keep_the_round_in_funding_and_are_listed(client):
    world = await grant_world(client)
    first = await granted(client, world, world.selected[0])
    second = await granted(client, world, world.selected[1])
    assert (await rounds_repo.get_round(world.organisation_id, world.round_id)).phase == "funding"
    _, citizen = await member_with_roles(client, world.organisation_id, world.planner)
    response = await client.get(world.url(f"/rounds/{world.round_id}/grants"), headers=citizen)
    assert response.status_code == 200
    assert [g["id"] for g in response.json()] == [first["id"], second["id"]]


async def test_a_smaller_grant_is_allowed_but_not_one_above_the_final_cost(client):
    world = await grant_world(client)
    project = world.selected[0]
    response = await create_grant(client, world, project, amount=project.cost + 1)
    assert response.status_code == 422
    assert response.json()["code"] == "bad_grant_amount" and "final cost" in response.json()["detail"]
    response = await create_grant(client, world, project, amount=project.cost - 100)
    assert response.status_code == 201 and response.json()["amount"] == project.cost - 100


async def test_second_grant_for_the_same_proposal_is_409(client):
    world = await grant_world(client)
    await granted(client, world, world.selected[0])
    response = await create_grant(client, world, world.selected[0])
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_grant_for_an_unselected_proposal_is_409(client):
    world = await grant_world(client)
    response = await create_grant(client, world, world.not_selected)
    assert response.status_code == 409
    assert response.json()["code"] == "proposal_not_selected"
    assert (await rounds_repo.get_budget(world.round_id, world.budget_id)).granted == 0


async def test_grant_over_what_the_budget_has_left_is_422_and_changes_nothing(client):
    """Selected projects always fit their budget, so the DB cap is a backstop: use up most of the
    budget first, as earlier grants of the same budget would have."""
    world = await grant_world(client)
    project = world.selected[0]
    assert await grants_repo.reserve_budget(world.budget_id, world.budget_amount - project.cost + 1)
    response = await create_grant(client, world, project)
    assert response.status_code == 422
    assert response.json()["code"] == "over_budget" and response.json()["budget_left"] == project.cost - 1
    assert (await proposals_repo.get_proposal(world.organisation_id, project.id)).status == "selected"
    assert (await rounds_repo.get_budget(world.round_id, world.budget_id)).granted == world.budget_amount - project.cost + 1


async def test_citizens_cannot_create_grants_and_other_organisations_see_nothing(client):
    world = await grant_world(client)
    response = await client.post(world.url(f"/rounds/{world.round_id}/grants"), json={"proposal_id": world.selected[0].id},
                                 headers=world.selected[0].author_headers)
    assert response.status_code == 403
    grant = await granted(client, world, world.selected[0])
    other_org, other_official = await create_organisation(client, "elsewhere")
    for method, path, body in [
        ("GET", f"/grants/{grant['id']}", None),
        ("POST", f"/grants/{grant['id']}/tranches", {"amount": 1, "condition": "x"}),
        ("POST", f"/rounds/{world.round_id}/grants", {"proposal_id": world.selected[1].id}),
    ]:
        response = await client.request(method, f"/api/orgs/{other_org}{path}", json=body, headers=other_official)
        assert response.status_code == 404, (path, response.text)


async def test_tranches_are_planned_within_the_grant_and_numbered(client):
    world = await grant_world(client)
    grant = await granted(client, world, world.selected[0])
    half = grant["amount"] // 2
    first = await plan(client, world, grant["id"], half, "on signature")
    second = await plan(client, world, grant["id"], grant["amount"] - half, "on completion report")
    assert first.status_code == second.status_code == 201
    assert (first.json()["position"], second.json()["position"]) == (1, 2)
    assert first.json()["status"] == "planned"
    over = await plan(client, world, grant["id"], 1)
    assert over.status_code == 422
    assert over.json()["code"] == "over_grant" and over.json()["grant_left"] == 0
    detail = await grant_detail(client, world, grant["id"])
    assert detail["grant"]["planned"] == grant["amount"]
    assert [t["condition"] for t in detail["tranches"]] == ["on signature", "on completion report"]


async def test_four_eyes_the_planner_cannot_approve_another_official_can_once(client):
    world = await grant_world(client)
    grant = await granted(client, world, world.selected[0])
    tranche = (await plan(client, world, grant["id"], 1000)).json()
    approve = world.url(f"/grants/{grant['id']}/tranches/{tranche['id']}/approve")
    own = await client.post(approve, headers=world.planner)
    assert own.status_code == 403 and own.json()["code"] == "four_eyes"
    citizen = await client.post(approve, headers=world.selected[0].author_headers)
    assert citizen.status_code == 403
    approved = await client.post(approve, headers=world.approver)
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved" and approved.json()["approved_by"] != tranche["planned_by"]
    again = await client.post(approve, headers=world.approver)
    assert again.status_code == 409 and again.json()["code"] == "tranche_state"
    trail = await audit_trail(client, world)
    assert [a for a, s, _ in trail if s == f"tranche:{tranche['id']}"] == ["tranche.planned", "tranche.approved"]


async def test_the_grantee_reports_progress_and_other_citizens_cannot(client):
    world = await grant_world(client)
    project = world.selected[0]
    grant = await granted(client, world, project)
    reports = world.url(f"/grants/{grant['id']}/reports")
    response = await client.post(reports, json={"body": "Benches ordered.", "completion_percent": 30},
                                 headers=project.author_headers)
    assert response.status_code == 201 and response.json()["completion_percent"] == 30
    _, stranger = await member_with_roles(client, world.organisation_id, world.planner)
    refused = await client.post(reports, json={"body": "Not mine."}, headers=stranger)
    assert refused.status_code == 403 and refused.json()["code"] == "not_grantee"
    official = await client.post(reports, json={"body": "Not mine either."}, headers=world.approver)
    assert official.status_code == 403
    bad = await client.post(reports, json={"body": "x", "completion_percent": 101}, headers=project.author_headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/completion_percent"
    assert [r["body"] for r in (await grant_detail(client, world, grant["id"]))["reports"]] == ["Benches ordered."]


async def test_concurrent_grant_creations_never_exceed_the_budget(client):
    """Invariant: Budget.granted <= Budget.amount whatever the interleaving (DB conditional UPDATE)."""
    world = await grant_world(client)
    costs = sorted(p.cost for p in world.selected)
    room = costs[-1] + costs[0] - 1  # room for some of the grants, never for all of them
    assert await grants_repo.reserve_budget(world.budget_id, world.budget_amount - room)
    responses = await asyncio.gather(*(create_grant(client, world, p) for p in world.selected))
    created = [r.json()["amount"] for r in responses if r.status_code == 201]
    assert {r.status_code for r in responses} <= {201, 422}
    assert created and sum(created) <= room < sum(p.cost for p in world.selected)
    budget = await rounds_repo.get_budget(world.round_id, world.budget_id)
    assert budget.granted == world.budget_amount - room + sum(created) <= world.budget_amount


async def test_concurrent_tranche_plans_never_exceed_the_grant(client):
    """Invariant: Grant.planned <= Grant.amount and positions stay unique under 20 concurrent plans."""
    world = await grant_world(client)
    grant = await granted(client, world, world.selected[0])
    share = grant["amount"] // 5
    responses = await asyncio.gather(*(plan(client, world, grant["id"], share) for _ in range(20)))
    assert sorted(r.status_code for r in responses) == [201] * 5 + [422] * 15
    detail = await grant_detail(client, world, grant["id"])
    assert detail["grant"]["planned"] == 5 * share <= grant["amount"]
    assert sorted(t["position"] for t in detail["tranches"]) == [1, 2, 3, 4, 5]


async def test_approving_from_a_stranger_route_or_unknown_tranche_is_404(client):
    world = await grant_world(client)
    first = await granted(client, world, world.selected[0])
    second = await granted(client, world, world.selected[1])
    tranche = await approved_tranche(client, world, first["id"], 500)
    response = await client.post(world.url(f"/grants/{second['id']}/tranches/{tranche['id']}/approve"),
                                 headers=world.approver)
    assert response.status_code == 404


async def test_no_grant_before_the_results_are_published(client):
    world = await grant_world_before_publication(client)
    response = await create_grant(client, world, world.selected[0])
    assert response.status_code == 409
    assert response.json()["code"] == "wrong_phase" and "'tallied'" in response.json()["detail"]


async def test_auditors_read_grants_but_cannot_plan_or_approve(client):
    world = await grant_world(client)
    grant = await granted(client, world, world.selected[0])
    tranche = (await plan(client, world, grant["id"], 1000)).json()
    _, auditor = await member_with_roles(client, world.organisation_id, world.planner, "auditor")
    response = await client.get(world.url(f"/grants/{grant['id']}"), headers=auditor)
    assert response.status_code == 200 and response.json()["tranches"][0]["id"] == tranche["id"]
    planned = await client.post(world.url(f"/grants/{grant['id']}/tranches"), json={"amount": 1, "condition": "x"},
                                headers=auditor)
    approved = await client.post(world.url(f"/grants/{grant['id']}/tranches/{tranche['id']}/approve"), headers=auditor)
    assert (planned.status_code, approved.status_code) == (403, 403)
    assert (await grant_detail(client, world, grant["id"]))["tranches"][0]["status"] == "planned"


async def test_concurrent_approvals_approve_a_tranche_once(client):
    """Invariant: the planned -> approved step happens once (one 200, the rest 409), audited once."""
    world = await grant_world(client)
    grant = await granted(client, world, world.selected[0])
    tranche = (await plan(client, world, grant["id"], 1000)).json()
    approve = world.url(f"/grants/{grant['id']}/tranches/{tranche['id']}/approve")
    responses = await asyncio.gather(*(client.post(approve, headers=world.approver) for _ in range(10)))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 9
    trail = [a for a, s, _ in await audit_trail(client, world) if s == f"tranche:{tranche['id']}"]
    assert trail == ["tranche.planned", "tranche.approved"]
