"""The audit chain end to end, on both engines: linking, append-only triggers, tamper detection
at the exact row, `pb audit verify`, concurrent appends, and auditors who change nothing."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from pb.accounts.domain import AUDITOR, CITIZEN, OFFICIAL, REVIEWER
from pb.audit.domain import GENESIS_HASH
from pb.audit.tables import AuditEvent
from tests.helpers import create_organisation, member_with_roles
from tests.steps_routes import organisation_writes

pytestmark = [pytest.mark.db]

TAMPER_SEQ = 3


async def _events(client, organisation_id, headers):
    response = await client.get(f"/api/orgs/{organisation_id}/audit/events", params={"limit": 1000}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _verify(client, organisation_id, headers):
    response = await client.get(f"/api/orgs/{organisation_id}/audit/verify", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _organisation_with_role_changes(client, changes: int = 4, slug: str = "city"):
    """An organisation whose chain has 1 + ``changes`` events (creation, then role changes)."""
    organisation_id, official = await create_organisation(client, slug)
    user_id, _ = await member_with_roles(client, organisation_id, official)
    for number in range(changes):
        roles = [REVIEWER] if number % 2 == 0 else [AUDITOR]
        response = await client.put(f"/api/orgs/{organisation_id}/members/{user_id}/roles",
                                    json={"roles": roles}, headers=official)
        assert response.status_code == 204, response.text
    return organisation_id, official


def _disable_append_only_sql() -> list[str]:
    """What an attacker with schema rights does first: switch the append-only triggers off."""
    from pb.db import is_postgres

    if is_postgres():
        return ["ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"]
    return ["DROP TRIGGER audit_event_no_update", "DROP TRIGGER audit_event_no_delete"]


async def _restore_append_only() -> None:
    """PostgreSQL keeps one database per session: switch the trigger back on for later tests."""
    from pb.db import is_postgres

    if is_postgres():
        await AuditEvent.raw("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")


# Raw SQL with Piccolo's {} placeholders: (organisation_id, seq).
TAMPERING = {
    "payload": "UPDATE audit_event SET payload = '[\"forged\"]' WHERE organisation_id = {} AND seq = {}",
    "actor": "UPDATE audit_event SET actor = 'user:999' WHERE organisation_id = {} AND seq = {}",
    "delete": "DELETE FROM audit_event WHERE organisation_id = {} AND seq = {}",
}


async def _tamper(how: str, organisation_id: int, seq: int) -> None:
    for statement in _disable_append_only_sql():
        await AuditEvent.raw(statement)
    await AuditEvent.raw(TAMPERING[how], organisation_id, seq)


@pytest.mark.anyio
async def test_appended_events_link_each_to_the_one_before(client):
    organisation_id, official = await _organisation_with_role_changes(client, changes=4)
    events = await _events(client, organisation_id, official)
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert events[0]["prev_hash"] == GENESIS_HASH
    for before, after in zip(events, events[1:]):
        assert after["prev_hash"] == before["hash"]
    assert [e["action"] for e in events] == ["organisation.created"] + ["membership.roles_changed"] * 4
    verdict = await _verify(client, organisation_id, official)
    assert verdict == {"ok": True, "events_checked": 5, "head_hash": events[-1]["hash"], "broken_seq": None,
                       "problem": None}


@pytest.mark.anyio
@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET actor = 'user:999' WHERE seq = 1",
    "DELETE FROM audit_event WHERE seq = 1",
])
async def test_the_database_refuses_plain_update_and_delete(client, statement):
    organisation_id, official = await _organisation_with_role_changes(client, changes=1)
    with pytest.raises(Exception, match="append-only"):
        await AuditEvent.raw(statement)
    assert (await _verify(client, organisation_id, official))["ok"] is True


@pytest.mark.anyio
@pytest.mark.parametrize("how", sorted(TAMPERING))
async def test_tampering_with_a_row_breaks_verification_at_that_row(client, how):
    organisation_id, official = await _organisation_with_role_changes(client, changes=4)
    try:
        await _tamper(how, organisation_id, TAMPER_SEQ)
    finally:
        await _restore_append_only()
    verdict = await _verify(client, organisation_id, official)
    assert verdict["ok"] is False
    assert verdict["broken_seq"] == TAMPER_SEQ
    assert verdict["events_checked"] == TAMPER_SEQ - 1
    assert ("missing" if how == "delete" else "altered") in verdict["problem"]


@pytest.mark.anyio
async def test_tampering_in_one_organisation_leaves_the_others_chain_valid(client):
    first, first_official = await _organisation_with_role_changes(client, changes=3, slug="first")
    second, second_official = await _organisation_with_role_changes(client, changes=3, slug="second")
    try:
        await _tamper("actor", first, 2)
    finally:
        await _restore_append_only()
    assert (await _verify(client, first, first_official))["broken_seq"] == 2
    assert (await _verify(client, second, second_official))["ok"] is True


@pytest.mark.anyio
async def test_concurrent_role_changes_keep_the_chain_linear_and_valid(client):
    organisation_id, official = await create_organisation(client)
    members = [(await member_with_roles(client, organisation_id, official))[0] for _ in range(20)]

    async def promote(user_id: int):
        return await client.put(f"/api/orgs/{organisation_id}/members/{user_id}/roles",
                                json={"roles": [REVIEWER]}, headers=official)

    responses = await asyncio.gather(*(promote(user_id) for user_id in members))
    assert [r.status_code for r in responses] == [204] * 20, [r.text for r in responses if r.status_code != 204]
    events = await _events(client, organisation_id, official)
    assert [e["seq"] for e in events] == list(range(1, 22))
    assert sorted(e["subject"] for e in events[1:]) == sorted(f"user:{user_id}" for user_id in members)
    assert (await _verify(client, organisation_id, official))["ok"] is True


@pytest.mark.anyio
async def test_auditors_get_403_on_every_write_route(app, client):
    """Auditors change nothing: the auditor role stands alone (no citizen role), and every write
    route under the organisation refuses them with 403 before reading the body. Walks the route
    table, so routes added later are covered."""
    organisation_id, official = await _organisation_with_role_changes(client, changes=2)
    _, auditor = await member_with_roles(client, organisation_id, official, AUDITOR)

    assert len(await _events(client, organisation_id, auditor)) == 4
    assert (await _verify(client, organisation_id, auditor))["ok"] is True
    assert (await client.get(f"/api/orgs/{organisation_id}/members", headers=auditor)).status_code == 200

    writes = organisation_writes(app)
    assert writes, "the route table has no organisation write routes to check"
    allowed = []
    for operation in writes:
        response = await client.request(operation.method, operation.url(organisation_id), json={}, headers=auditor)
        if response.status_code != 403:
            allowed.append(f"{operation.method} {operation.path}: {response.status_code}")
    assert not allowed, "auditors are not refused on these write routes:\n" + "\n".join(allowed)
    assert len(await _events(client, organisation_id, auditor)) == 4


# --- `pb audit verify` on the command line (a fresh event loop per command, so plain sync tests) ---


async def _seed_chain(database_url: str, role_changes: int) -> int:
    """An organisation with 1 + ``role_changes`` events, written through the services."""
    from pb import db
    from pb.accounts import repo, service
    from pb.accounts.domain import Actor

    db.bind_engine(db.make_engine(database_url))
    async with db.write_transaction():
        official_id = await repo.insert_user("chief@example.org", "Chief", "not-a-login-hash")
        citizen_id = await repo.insert_user("cit@example.org", "Cit", "not-a-login-hash")
    organisation_id = await service.create_organisation("Testville", "testville", official_id)
    await service.join_organisation(citizen_id, organisation_id)
    official = Actor(official_id, organisation_id, frozenset({OFFICIAL, CITIZEN}))
    for number in range(role_changes):
        await service.set_roles(official, citizen_id, {REVIEWER} if number % 2 == 0 else {CITIZEN})
    return organisation_id


async def _tamper_offline(database_url: str, how: str, organisation_id: int, seq: int) -> None:
    from pb import db

    db.bind_engine(db.make_engine(database_url))
    try:
        await _tamper(how, organisation_id, seq)
    finally:
        await _restore_append_only()


def _run_cli(database_url: str, secrets_dir, *args: str):
    from pb.cli import main

    env = {"PB_DATABASE_URL": database_url, "PB_SECRETS_DIR": str(secrets_dir)}
    return CliRunner().invoke(main, list(args), env=env)


def test_cli_audit_verify_exits_zero_on_an_intact_chain(database_url, secrets_dir):
    asyncio.run(_seed_chain(database_url, role_changes=3))
    result = _run_cli(database_url, secrets_dir, "audit", "verify")
    assert result.exit_code == 0, result.output
    assert "ok: 1 organisation chain(s), 4 events verified" in result.output


@pytest.mark.parametrize("how", ["payload", "delete"])
def test_cli_audit_verify_fails_naming_the_broken_event(database_url, secrets_dir, how):
    organisation_id = asyncio.run(_seed_chain(database_url, role_changes=4))
    asyncio.run(_tamper_offline(database_url, how, organisation_id, TAMPER_SEQ))
    result = _run_cli(database_url, secrets_dir, "audit", "verify")
    assert result.exit_code == 1
    assert f"BROKEN: organisation {organisation_id}, event seq {TAMPER_SEQ}" in result.output
