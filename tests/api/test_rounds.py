"""Rounds over HTTP: creation, phases, the freeze, the public views, and every refusal."""

from __future__ import annotations

import pytest

from tests.steps_rounds import round_in_voting

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_round_in_voting_step_freezes_the_ballot(client):
    world = await round_in_voting(client)
    response = await client.get(f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["phase"] == "voting"
    ballot = {p["proposal_id"]: p["cost"] for b in body["budgets"] for p in b["ballot"]}
    assert ballot == world["costs"]
