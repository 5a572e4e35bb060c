"""A grant's end: ``completed`` once its tranches are paid and its final report is accepted, or
``cancelled`` with unpaid tranches withdrawn and the unpaid money back in the budget; tranches that
need an accepted progress report before approval."""

from __future__ import annotations

import pytest

from tests.steps_grants import approved_tranche, audit_trail, grant_detail, grant_world, granted, pay, plan

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def _report(client, world, grant_id, project, final=False, body="Work is done."):
    response = await client.post(world.url(f"/grants/{grant_id}/reports"),
                                 json={"body": body, "completion_percent": 100 if final else 50, "final": final},
                                 headers=project.author_headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _review(client, world, grant_id, report_id, accept=True):
    return await client.post(world.url(f"/grants/{grant_id}/reports/{report_id}/review"),
                             json={"accept": accept, "note": "checked on site"}, headers=world.approver)


async def test_a_grant_completes_when_paid_and_its_final_report_is_accepted(client):
    world = await grant_world(client)
    project = world.selected[0]
    grant = await granted(client, world, project)
    half = grant["amount"] // 2
    first = await approved_tranche(client, world, grant["id"], half)
    second = await approved_tranche(client, world, grant["id"], grant["amount"] - half)
    assert (await pay(client, world, grant["id"], first["id"])).status_code == 200
    final = await _report(client, world, grant["id"], project, final=True)
    rejected = await _review(client, world, grant["id"], final["id"], accept=False)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (await _review(client, world, grant["id"], final["id"])).status_code == 409  # decided once
    final = await _report(client, world, grant["id"], project, final=True, body="Done, with photos.")
    accepted = await _review(client, world, grant["id"], final["id"])
    assert accepted.json()["status"] == "accepted"
    assert (await grant_detail(client, world, grant["id"]))["grant"]["status"] == "active"  # a tranche is unpaid
    assert (await pay(client, world, grant["id"], second["id"], "BANK-2")).status_code == 200
    assert (await grant_detail(client, world, grant["id"]))["grant"]["status"] == "completed"
    actions = [a for a, s, _ in await audit_trail(client, world) if s == f"grant:{grant['id']}"]
    assert actions.count("grant.completed") == 1 and actions[-1] == "grant.completed"
    assert (await plan(client, world, grant["id"], 1)).status_code in (409, 422)


async def test_cancelling_withdraws_unpaid_tranches_and_returns_the_money_to_the_budget(client):
    world = await grant_world(client)
    grant = await granted(client, world, world.selected[0])
    paid = await approved_tranche(client, world, grant["id"], 1000)
    approved = await approved_tranche(client, world, grant["id"], 2000)
    planned = (await plan(client, world, grant["id"], 3000)).json()
    assert (await pay(client, world, grant["id"], paid["id"])).status_code == 200
    cancel = world.url(f"/grants/{grant['id']}/cancel")
    citizen = await client.post(cancel, json={"reason": "x"}, headers=world.selected[0].author_headers)
    assert citizen.status_code == 403
    response = await client.post(cancel, json={"reason": "the group dissolved"}, headers=world.planner)
    assert response.status_code == 200 and response.json()["status"] == "cancelled", response.text
    detail = await grant_detail(client, world, grant["id"])
    assert {t["id"]: t["status"] for t in detail["tranches"]} == {
        paid["id"]: "paid", approved["id"]: "withdrawn", planned["id"]: "withdrawn"}
    assert (detail["grant"]["paid"], detail["grant"]["planned"]) == (1000, 1000)
    assert (await pay(client, world, grant["id"], approved["id"])).status_code == 409
    assert (await client.post(cancel, json={"reason": "again"}, headers=world.planner)).status_code == 409
    # the unpaid part is back in the budget: the second winner's grant plus the freed money fit
    trail = await audit_trail(client, world)
    assert [p for a, s, p in trail if a == "grant.cancelled"] == [
        {"reason": "the group dissolved", "withdrawn": 2, "released": grant["amount"] - 1000}]
    assert sorted(s for a, s, _ in trail if a == "tranche.withdrawn") == sorted(
        [f"tranche:{approved['id']}", f"tranche:{planned['id']}"])


async def test_a_tranche_needing_a_report_is_approved_only_after_one_is_accepted_once(client):
    world = await grant_world(client)
    project = world.selected[0]
    grant = await granted(client, world, project)
    needs = []
    for _ in range(2):
        response = await client.post(world.url(f"/grants/{grant['id']}/tranches"),
                                     json={"amount": 1000, "condition": "after the midway report",
                                           "requires_report": True}, headers=world.planner)
        assert response.status_code == 201 and response.json()["requires_report"] is True
        needs.append(response.json())
    approve = [world.url(f"/grants/{grant['id']}/tranches/{t['id']}/approve") for t in needs]
    refused = await client.post(approve[0], headers=world.approver)
    assert refused.status_code == 409 and refused.json()["code"] == "report_required"
    report = await _report(client, world, grant["id"], project)
    assert (await client.post(approve[0], headers=world.approver)).status_code == 409  # not accepted yet
    assert (await _review(client, world, grant["id"], report["id"])).status_code == 200
    response = await client.post(approve[0], headers=world.approver)
    assert response.status_code == 200 and response.json()["report_id"] == report["id"]
    assert (await client.post(approve[1], headers=world.approver)).json()["code"] == "report_required"
