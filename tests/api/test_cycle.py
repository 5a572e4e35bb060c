"""The whole participatory budgeting cycle through the HTTP API, on SQLite and PostgreSQL.

One round goes from creation to a paid micro-grant: proposals, reviews (changes requested and
resubmitted, an appeal decided by a second reviewer), census, voting, close, tally, publication,
grant, four-eyes tranche approval, ledger payment, progress report, completion. Along the way an
auditor reads everything and can change nothing, and the audit chain covers every official act.
"""

from __future__ import annotations

import json

import pytest

from pb.accounts.domain import AUDITOR, OFFICIAL
from tests.helpers import member_with_roles
from tests.steps_rounds import advance
from tests.steps_voting import (
    cast_standard_ballots, expected_winners, round_in_voting_with_voters, round_url,
)

pytestmark = [pytest.mark.anyio, pytest.mark.db]




async def test_round_from_creation_to_paid_grant(client):
    # --- setup to an open vote: round, budgets, proposals, reviews, census, freeze ------------------
    world = await round_in_voting_with_voters(client, "cycle")
    org, round_id, official = world["org_id"], world["round_id"], world["official"]
    _, auditor = await member_with_roles(client, org, official, AUDITOR)
    _, second_official = await member_with_roles(client, org, official, OFFICIAL)

    frozen = await client.get(round_url(world, "/frozen-config"), headers=auditor)
    assert frozen.status_code == 200, frozen.text
    # The frozen round refuses changes.
    change = await client.patch(f"/api/orgs/{org}/rounds/{round_id}", json={"title": "Changed"}, headers=official)
    assert change.status_code == 409

    # --- voting ------------------------------------------------------------------------------------
    receipts = await cast_standard_ballots(client, world)
    assert len(set(receipts)) == len(receipts)
    again = await client.post(
        f"/api/orgs/{org}/rounds/{round_id}/budgets/{world['budgets']['north']}/ballots",
        json={"projects": [world["proposals"]["north"][0]]}, headers=world["voters"][0],
    )
    assert again.status_code == 409  # one person, one ballot per budget
    # Results are not public while voting runs.
    assert (await client.get(round_url(world, "/results"))).status_code in (403, 404, 409)

    # --- close, tally, publish ---------------------------------------------------------------------
    await advance(client, org, round_id, official, "closed")
    tally = await client.post(round_url(world, "/tally"), headers=official)
    assert tally.status_code == 200, tally.text
    verification = await client.get(round_url(world, "/tally/verification"), headers=auditor)
    assert verification.status_code == 200, verification.text
    assert verification.json()["match"] is True
    assert (await client.post(round_url(world, "/results/publish"), headers=auditor)).status_code == 403
    published = await client.post(round_url(world, "/results/publish"), headers=official)
    assert published.status_code == 200, published.text
    results = (await client.get(round_url(world, "/results"))).json()
    winners = {budget["budget_id"]: budget["winners"] for budget in results["budgets"]}
    expected = expected_winners(world)
    assert {key: winners[budget_id] for key, budget_id in world["budgets"].items()} == expected
    for budget in results["budgets"]:
        assert budget["spent"] <= budget["amount"]

    # --- grant, tranches, four eyes, ledger payment, progress report -------------------------------
    winner = expected["north"][0]
    response = await client.post(f"/api/orgs/{org}/rounds/{round_id}/grants", json={"proposal_id": winner},
                                 headers=official)
    assert response.status_code == 201, response.text
    grant = response.json()
    assert grant["amount"] == world["costs"][winner]
    tranche_ids = []
    for amount, condition in [(grant["amount"] // 2, "on signature"),
                              (grant["amount"] - grant["amount"] // 2, "on completion report")]:
        response = await client.post(f"/api/orgs/{org}/grants/{grant['id']}/tranches",
                                     json={"amount": amount, "condition": condition}, headers=official)
        assert response.status_code == 201, response.text
        tranche_ids.append(response.json()["id"])
    first = f"/api/orgs/{org}/grants/{grant['id']}/tranches/{tranche_ids[0]}"
    # The planner may not approve their own plan; the auditor may not approve at all.
    assert (await client.post(first + "/approve", headers=official)).status_code in (403, 409)
    assert (await client.post(first + "/approve", headers=auditor)).status_code == 403
    assert (await client.post(first + "/pay", json={"reference": "EARLY"}, headers=second_official)).status_code == 409
    assert (await client.post(first + "/approve", headers=second_official)).status_code == 200
    paid = await client.post(first + "/pay", json={"reference": "SEPA-2027-0001"}, headers=second_official)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid"

    author_id = (await client.get(f"/api/orgs/{org}/proposals/{winner}", headers=official)).json()["author_id"]
    grantee = next(c["headers"] for c in world["citizens"] if c["id"] == author_id)
    report = await client.post(f"/api/orgs/{org}/grants/{grant['id']}/reports",
                               json={"body": "Benches ordered, installation next month.", "completion_percent": 50},
                               headers=grantee)
    assert report.status_code == 201, report.text
    detail = (await client.get(f"/api/orgs/{org}/grants/{grant['id']}", headers=auditor)).json()
    assert detail["grant"]["paid"] == grant["amount"] // 2 <= detail["grant"]["amount"]
    assert [t["status"] for t in detail["tranches"]] == ["paid", "planned"]

    await advance(client, org, round_id, official, "completed")

    # --- audit: the chain verifies and names every kind of official act ----------------------------
    verdict = (await client.get(f"/api/orgs/{org}/audit/verify", headers=auditor)).json()
    assert verdict["ok"] is True and verdict["broken_seq"] is None
    events = (await client.get(f"/api/orgs/{org}/audit/events", params={"limit": 1000}, headers=auditor)).json()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    actions = {e["action"] for e in events}
    phases = [e["payload"].get("to") or e["payload"].get("target")
              for e in events if e["action"] == "round.phase_changed"]
    for phase in ("submission", "review", "voting", "closed", "completed"):
        assert phase in phases, (phase, phases)
    prefixes = {action.split(".")[0] for action in actions}
    assert {"round", "proposal", "census", "grant", "tranche"} <= prefixes, actions
    assert any("frozen" in action for action in actions)
    assert any("tall" in action for action in actions) and any("publish" in action for action in actions)
    assert any("review" in action for action in actions)
    # Every payload is free of personal data (no emails, no census identifiers).
    for event in events:
        assert "@" not in json.dumps(event["payload"]) and "N-1" not in json.dumps(event["payload"])
