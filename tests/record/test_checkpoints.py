"""Signed checkpoints of the audit chain: published on every phase change, verifiable offline, and
the one thing that shows the newest events were deleted."""

from __future__ import annotations

import asyncio
import json

import pytest

from pb.audit.tables import AuditCheckpoint, AuditEvent
from pb.record import ed25519, spec
from tests.integration.test_audit_chain import _disable_append_only_sql, _restore_append_only, _run_cli
from tests.steps_rounds import advance, round_in_submission

pytestmark = [pytest.mark.db]


async def _checkpoints(client, org_id):
    response = await client.get(f"/api/orgs/{org_id}/audit/checkpoints")  # public: no token
    assert response.status_code == 200, response.text
    return response.json()


def _signature_ok(checkpoint: dict) -> bool:
    message = spec.checkpoint_message(checkpoint["organisation_id"], checkpoint["seq"], checkpoint["hash"],
                                      checkpoint["signed_at"])
    return ed25519.verify(bytes.fromhex(checkpoint["public_key"]), message, bytes.fromhex(checkpoint["signature"]))


@pytest.mark.anyio
async def test_every_phase_change_publishes_a_signed_head_that_matches_the_chain(client):
    world = await round_in_submission(client)
    await advance(client, world["org_id"], world["round_id"], world["official"], "review")
    checkpoints = await _checkpoints(client, world["org_id"])
    events = (await client.get(f"/api/orgs/{world['org_id']}/audit/events", params={"limit": 1000},
                               headers=world["official"])).json()
    by_seq = {e["seq"]: e for e in events}
    phase_changes = [e["seq"] for e in events if e["action"] == "round.phase_changed"]
    assert [c["seq"] for c in checkpoints] == phase_changes  # one per phase change, at its event
    assert all(_signature_ok(c) and by_seq[c["seq"]]["hash"] == c["hash"] for c in checkpoints)
    assert len({c["public_key"] for c in checkpoints}) == 1
    forged = dict(checkpoints[-1], seq=checkpoints[-1]["seq"] + 1)
    assert not _signature_ok(forged)


@pytest.mark.anyio
async def test_deleting_the_newest_events_is_now_caught(client):
    world = await round_in_submission(client)
    org_id, official = world["org_id"], world["official"]
    head = (await _checkpoints(client, org_id))[-1]["seq"]
    try:
        for statement in _disable_append_only_sql():
            await AuditEvent.raw(statement)
        await AuditEvent.raw("DELETE FROM audit_event WHERE organisation_id = {} AND seq >= {}", org_id, head - 1)
    finally:
        await _restore_append_only()
    verdict = (await client.get(f"/api/orgs/{org_id}/audit/verify", headers=official)).json()
    assert verdict["ok"] is False
    assert f"the audit log ends at event {head - 2}, but event {head} was signed" in verdict["problem"]


def test_pb_audit_verify_catches_a_deletion_with_a_checkpoint_the_auditor_kept(database_url, secrets_dir, tmp_path):
    """The attacker deletes the newest events and the stored checkpoints too; the checkpoint file an
    auditor saved earlier still shows it. The hourly job (`pb audit checkpoint`) signs moved heads once."""
    from tests.integration.test_audit_chain import _seed_chain

    organisation_id = asyncio.run(_seed_chain(database_url, role_changes=4))
    first = _run_cli(database_url, secrets_dir, "audit", "checkpoint")
    assert first.exit_code == 0 and "signed 1 new checkpoint(s)" in first.output and "published 0 board" in first.output, first.output
    assert "signed 0 new" in _run_cli(database_url, secrets_dir, "audit", "checkpoint").output
    kept = asyncio.run(_stored_checkpoints(database_url, organisation_id))
    assert kept[0]["seq"] == 5 and _signature_ok(kept[0])
    saved = tmp_path / "checkpoints.json"
    saved.write_text(json.dumps(kept))
    asyncio.run(_delete_newest(database_url, organisation_id, from_seq=4))
    assert _run_cli(database_url, secrets_dir, "audit", "verify").exit_code == 0  # links are intact
    caught = _run_cli(database_url, secrets_dir, "audit", "verify", "--checkpoint", str(saved))
    assert caught.exit_code == 1
    assert f"BROKEN: organisation {organisation_id}" in caught.output and "cut off" in caught.output


async def _stored_checkpoints(database_url: str, organisation_id: int) -> list[dict]:
    from pb import db
    from pb.audit import service

    db.bind_engine(db.make_engine(database_url))
    return [c.__dict__ if hasattr(c, "__dict__") else {f: getattr(c, f) for f in c.__slots__}
            for c in await service.checkpoints(organisation_id)]


async def _delete_newest(database_url: str, organisation_id: int, from_seq: int) -> None:
    from pb import db

    db.bind_engine(db.make_engine(database_url))
    try:
        for statement in _disable_append_only_sql():
            await AuditEvent.raw(statement)
        await AuditEvent.raw("DELETE FROM audit_event WHERE organisation_id = {} AND seq >= {}",
                             organisation_id, from_seq)
        await AuditCheckpoint.raw("DELETE FROM audit_checkpoint WHERE organisation_id = {}", organisation_id)
    finally:
        await _restore_append_only()
