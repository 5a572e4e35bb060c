"""The election record of a published round: exported over HTTP, verified, stable, public only once published."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pb.record import format as fmt
from pb.record.verify import verify_record
from tests.record.steps import published_round_record
from tests.steps_voting import round_closed_with_ballots, round_url

pytestmark = [pytest.mark.anyio, pytest.mark.db]

GOLDEN = Path(__file__).parent / "golden"


async def test_a_published_round_exports_a_record_that_verifies_and_is_byte_identical_again(client):
    world = await published_round_record(client)
    report = verify_record(world["record"])
    assert report.ok, report.problems
    again = await client.get(round_url(world, "/record"))
    assert again.content == world["record"]
    record = fmt.read_record(world["record"])
    summary = record.json(fmt.ROUND)
    assert {b["budget_id"]: b["ballots"] for b in summary["budgets"]} == {
        world["budgets"]["north"]: 3, world["budgets"]["south"]: 1, world["budgets"]["citywide"]: 3}
    assert all(b["participation"] == {"online": b["ballots"], "paper": 0} for b in summary["budgets"])
    receipts = {row["receipt"] for name in record.files if name.startswith(fmt.BALLOTS_DIR)
                for row in record.lines(name)}
    assert receipts == set(world["receipts"])
    lottery = record.json(fmt.LOTTERY)
    assert lottery["commitment"] == record.json(fmt.CONFIG)["tally"]["lottery_commitment"]
    assert any(f"winners {world['proposals']['north'][0]}, {world['proposals']['north'][1]}" in fact
               for fact in report.facts)
    if os.environ.get("PB_WRITE_GOLDEN_RECORD"):  # deliberate: regenerate the committed golden record
        (GOLDEN / "record.zip").write_bytes(world["record"])


async def test_audit_events_of_other_rounds_are_only_links(client):
    world = await published_round_record(client, lottery=False)
    events = fmt.read_record(world["record"]).lines(fmt.AUDIT)
    full = [e for e in events if "action" in e]
    assert {e["subject"].split(":")[0] for e in full} <= {"round", "budget", "proposal"}
    assert any(e["action"] == "round.frozen" for e in full)
    assert any("action" not in e and set(e) == {"seq", "prev_hash", "hash"} for e in events)  # memberships etc.
    assert verify_record(world["record"]).ok


async def test_no_record_before_publication_and_none_of_another_organisation(client):
    from tests.helpers import create_organisation

    world = await round_closed_with_ballots(client)
    early = await client.get(round_url(world, "/record"))
    assert early.status_code == 409 and early.json()["code"] == "not_published"
    other, _ = await create_organisation(client, "elsewhere")
    assert (await client.get(f"/api/orgs/{other}/rounds/{world['round_id']}/record")).status_code == 404
    assert (await client.get(f"/api/orgs/{world['org_id']}/rounds/999999/record")).status_code == 404


async def test_the_record_keeps_its_bytes_after_the_organisation_moves_on(client):
    from tests.steps_rounds import create_round

    world = await published_round_record(client, lottery=False)
    await create_round(client, world["org_id"], world["official"])  # more audit events, a new head
    later = await client.get(round_url(world, "/record"))
    assert later.content == world["record"]


async def test_the_receipt_check_finds_a_voters_ballot_and_refuses_an_unknown_receipt(client):
    from pb.record.verify import verify_receipt

    world = await published_round_record(client, lottery=False)
    mine = verify_receipt(world["receipts"][0], record=world["record"])
    assert mine.ok and "ballot" in mine.facts[0]
    missing = verify_receipt("ab" * 32, record=world["record"])
    assert not missing.ok and "not among" in missing.problems[0]
    assert json.loads(json.dumps(mine.facts))  # printable
