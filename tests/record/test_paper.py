"""Paper ballots: double entry by two officials, mismatches listed, one vote per resident across
channels, channel counts in the election record."""

from __future__ import annotations

import pytest

from pb.accounts.domain import OFFICIAL
from pb.record import format as fmt
from pb.record.verify import verify_record
from tests.helpers import member_with_roles
from tests.steps_rounds import advance
from tests.steps_voting import cast, round_in_voting_with_voters, round_url

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def _world(client):
    world = await round_in_voting_with_voters(client)
    _, second = await member_with_roles(client, world["org_id"], world["official"], OFFICIAL)
    return {**world, "second": second}


async def _enter(client, world, headers, sheet, identifier, budget_key, projects):
    body = {"budget_id": world["budgets"][budget_key], "sheet": sheet, "station": "Library",
            "identifier": identifier, "projects": projects}
    return await client.post(round_url(world, "/paper-ballots"), json=body, headers=headers)


async def test_a_sheet_counts_once_two_officials_typed_it_alike_and_is_in_the_record(client):
    world = await _world(client)
    p4, p5 = world["proposals"]["south"]
    first = await _enter(client, world, world["official"], "S-0001", "S-2", "south", [p4])
    assert first.status_code == 200 and first.json()["status"] == "awaiting_second_entry"
    again = await _enter(client, world, world["official"], "S-0001", "S-2", "south", [p4])
    assert again.status_code == 409 and again.json()["code"] == "paper_already_entered"
    second = await _enter(client, world, world["second"], "S-0001", "S-2", "south", [p4])
    assert second.json()["status"] == "counted" and len(second.json()["receipt"]) == 64
    receipt = second.json()["receipt"]
    assert (await client.get(round_url(world, f"/receipts/{receipt}"))).json()["status"] == "received"
    assert (await cast(client, world, world["voters"][2], "south", [p5])).status_code == 201  # S-1 online
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    for step in ("/tally", "/results/publish"):
        assert (await client.post(round_url(world, step), headers=world["official"])).status_code == 200
    record = (await client.get(round_url(world, "/record"))).content
    assert verify_record(record).ok
    south = next(b for b in fmt.read_record(record).json(fmt.ROUND)["budgets"]
                 if b["budget_id"] == world["budgets"]["south"])
    assert south["participation"] == {"online": 1, "paper": 1} and south["ballots"] == 2


async def test_paper_and_online_share_one_vote_per_resident(client):
    world = await _world(client)
    p1, p2, _ = world["proposals"]["north"]
    await _enter(client, world, world["official"], "N-7", "N-3", "north", [p1])
    assert (await _enter(client, world, world["second"], "N-7", "N-3", "north", [p1])).json()["status"] == "counted"
    online = await cast(client, world, world["voters"][3], "north", [p2])  # the account bound to N-3
    assert online.status_code == 409 and online.json()["code"] == "already_voted"
    assert (await cast(client, world, world["voters"][0], "north", [p2])).status_code == 201  # N-1 online first
    await _enter(client, world, world["official"], "N-8", "N-1", "north", [p1])
    refused = await _enter(client, world, world["second"], "N-8", "N-1", "north", [p1])
    assert refused.status_code == 409 and refused.json()["code"] == "already_voted"
    assert (await client.get(round_url(world, "/paper-ballots/unconfirmed"), headers=world["official"])).json() == []


async def test_mismatched_entries_are_listed_with_the_fields_and_can_be_typed_again(client):
    world = await _world(client)
    p4, p5 = world["proposals"]["south"]
    await _enter(client, world, world["official"], "S-9", "S-2", "south", [p4])
    mismatch = await _enter(client, world, world["second"], "S-9", "S-2", "south", [p5])
    assert mismatch.json() == {"status": "mismatch", "differences": ["projects"], "receipt": None, "content": None}
    listed = (await client.get(round_url(world, "/paper-ballots/unconfirmed"), headers=world["official"])).json()
    assert [(u["sheet"], u["status"], u["differences"], len(u["entered_by"])) for u in listed] == [
        ("S-9", "mismatch", ["projects"], 2)]
    _, third = await member_with_roles(client, world["org_id"], world["official"], OFFICIAL)
    blocked = await _enter(client, world, third, "S-9", "S-2", "south", [p4])
    assert blocked.status_code == 409 and blocked.json()["code"] == "paper_mismatch_open"
    sheet_url = round_url(world, f"/paper-ballots/{world['budgets']['south']}/S-9")
    assert (await client.delete(sheet_url, headers=world["official"])).status_code == 204
    await _enter(client, world, world["official"], "S-9", "S-2", "south", [p4])
    assert (await _enter(client, world, third, "S-9", "S-2", "south", [p4])).json()["status"] == "counted"


async def test_paper_entry_refuses_citizens_strangers_to_the_census_and_invalid_ballots(client):
    world = await _world(client)
    p4, _ = world["proposals"]["south"]
    assert (await _enter(client, world, world["voters"][0], "X-1", "S-2", "south", [p4])).status_code == 403
    unknown = await _enter(client, world, world["official"], "X-1", "NOBODY", "south", [p4])
    assert unknown.status_code == 404 and unknown.json()["code"] == "census_entry_not_found"
    elsewhere = await _enter(client, world, world["official"], "X-1", "S-2", "north", world["proposals"]["north"][:1])
    assert elsewhere.status_code == 403
    invalid = await _enter(client, world, world["official"], "X-1", "S-2", "south", [999999])
    assert invalid.status_code == 422
    bad_sheet = await _enter(client, world, world["official"], "no spaces!", "S-2", "south", [p4])
    assert bad_sheet.status_code in (400, 422)
