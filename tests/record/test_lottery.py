"""The tie-break lottery: seed committed at voting open, revealed at the tally, mixed with the
ballot digest; a round never gets stuck with tally settings it cannot run."""

from __future__ import annotations

import json

import pytest

from pb.record import spec
from tests.record.steps import LOTTERY_OVERRIDES
from tests.steps_rounds import advance, create_organisation, create_round
from tests.steps_voting import cast_standard_ballots, round_in_voting_with_voters, round_url

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_the_seed_is_committed_at_open_revealed_at_tally_and_mixed_with_the_ballots(client, secrets_dir):
    world = await round_in_voting_with_voters(client, round_overrides=LOTTERY_OVERRIDES)
    config = (await client.get(f"/api/orgs/{world['org_id']}/rounds/{world['round_id']}/frozen-config")).json()
    commitment = config["tally"]["lottery_commitment"]
    seed_file = secrets_dir / "lottery" / f"org{world['org_id']}-round{world['round_id']}.seed"
    assert spec.lottery_commitment(seed_file.read_text()) == commitment
    await cast_standard_ballots(client, world)
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    tallied = await client.post(round_url(world, "/tally"), headers=world["official"])
    assert tallied.status_code == 200, tallied.text  # a lottery round is no longer stuck in "closed"
    events = (await client.get(f"/api/orgs/{world['org_id']}/audit/events", params={"limit": 1000},
                               headers=world["official"])).json()
    revealed = next(e for e in events if e["action"] == "results.tallied")["payload"]["lottery_seed"]
    assert spec.lottery_commitment(revealed) == commitment
    for budget in tallied.json()["budgets"]:
        assert budget["options"]["seed"] == spec.lottery_draw_seed(revealed, budget["ballots_digest"])


async def test_a_lost_seed_refuses_the_tally_and_leaves_the_round_closed_until_restored(client, secrets_dir):
    world = await round_in_voting_with_voters(client, "lost", round_overrides=LOTTERY_OVERRIDES)
    await cast_standard_ballots(client, world)
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    seed_file = secrets_dir / "lottery" / f"org{world['org_id']}-round{world['round_id']}.seed"
    kept = seed_file.read_text()
    seed_file.write_text("ab" * 32)  # not the committed seed: refused, not silently used
    refused = await client.post(round_url(world, "/tally"), headers=world["official"])
    assert refused.status_code == 409 and refused.json()["code"] == "lottery_seed_missing"
    seed_file.write_text(kept)
    assert (await client.post(round_url(world, "/tally"), headers=world["official"])).status_code == 200


async def test_tally_settings_that_cannot_run_are_refused_before_voting_opens(client):
    org_id, official = await create_organisation(client, "strict")
    bad = await client.post(f"/api/orgs/{org_id}/rounds", headers=official, json={
        "title": "Bad threshold", "max_proposal_amount": 1000, "tally_rule": "greedy",
        "tally_options": {"threshold": "many"},
        "budgets": [{"name": "All", "kind": "citywide", "amount": 1000, "ballot_format": "approval"}]})
    assert bad.status_code == 422 and bad.json()["code"] == "bad_tally_rule"
    assert "cannot run" in bad.json()["detail"]
    seeded = await client.post(f"/api/orgs/{org_id}/rounds", headers=official, json={
        "title": "Own seed", "max_proposal_amount": 1000, "tally_rule": "greedy",
        "tally_options": {"tie_break": ["lottery"], "seed": "mine"},
        "budgets": [{"name": "All", "kind": "citywide", "amount": 1000, "ballot_format": "approval"}]})
    assert seeded.status_code == 422 and "seed" in seeded.json()["detail"]  # the server draws the seed
    created = await create_round(client, org_id, official, tally_options={"tie_break": ["min_cost", "lottery"]})
    assert created["round_id"]
