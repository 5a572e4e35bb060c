"""Small API behaviours a newcomer trips over: an organisation that does not exist is a 404 (not an
empty list), and an audit event's payload is a JSON object whose canonical form the hash covers."""

from __future__ import annotations

import pytest

from pb.audit.domain import event_hash
from pb.core.canonical import canonical_json
from tests.helpers import create_organisation
from tests.steps_rounds import create_round, move_phase

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def test_rounds_of_an_organisation_that_does_not_exist_are_a_404(client):
    org_id, official = await create_organisation(client)
    assert (await client.get(f"/api/orgs/{org_id}/rounds")).json() == []  # exists, no public round yet
    response = await client.get(f"/api/orgs/{org_id + 98}/rounds")
    assert response.status_code == 404
    assert response.json()["detail"] == "No such organisation."


async def test_audit_payload_is_an_object_and_its_canonical_json_is_what_the_hash_covers(client):
    org_id, official = await create_organisation(client)
    round_id = (await create_round(client, org_id, official))["round_id"]
    assert (await move_phase(client, org_id, round_id, official, "submission")).status_code == 200
    events = (await client.get(f"/api/orgs/{org_id}/audit/events", headers=official)).json()
    moved = [event for event in events if event["action"] == "round.phase_changed"]
    assert moved and moved[0]["payload"]["to"] == "submission"
    for event in events:
        assert isinstance(event["payload"], dict)
        assert event_hash(
            organisation_id=org_id, seq=event["seq"], prev_hash=event["prev_hash"], actor=event["actor"],
            action=event["action"], subject=event["subject"], payload=canonical_json(event["payload"]),
            occurred_at=event["occurred_at"],
        ) == event["hash"]
