"""Vote revision: until close a voter may replace their ballot; exactly one counts; replaced receipts
show "replaced"; after close nothing in the database links a voter to a ballot."""

from __future__ import annotations

import asyncio

import pytest

from pb.core.keyring import RoundKeyStore
from pb.voting.tables import Ballot, Participation, ReplacedReceipt, SealedBallot
from tests.steps_rounds import advance
from tests.steps_voting import cast, round_in_voting_with_voters, round_url

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def _receipt_status(client, world, receipt):
    response = await client.get(round_url(world, f"/receipts/{receipt}"))
    return response.json().get("status") if response.status_code == 200 else response.status_code


async def test_a_revised_ballot_replaces_the_old_one_and_exactly_one_counts(client, secrets_dir):
    world = await round_in_voting_with_voters(client, round_overrides={"allow_revision": True})
    p1, p2, p3 = world["proposals"]["north"]
    voter, other = world["voters"][0], world["voters"][1]
    first = (await cast(client, world, voter, "north", [p1])).json()["receipt"]
    second = (await cast(client, world, voter, "north", [p2, p3])).json()["receipt"]
    kept = (await cast(client, world, other, "north", [p1])).json()["receipt"]
    assert await _receipt_status(client, world, first) == "replaced"
    assert await _receipt_status(client, world, second) == "received"
    assert await Participation.count().where(Participation.round == world["round_id"]) == 2
    assert await SealedBallot.count().where(SealedBallot.round == world["round_id"]) == 2
    pointers = [row["pointer"] for row in await Participation.select(Participation.pointer)]
    keys = RoundKeyStore(secrets_dir).load(world["round_id"])
    assert sorted(keys.unseal(bytes(p)).decode() for p in pointers) == sorted([second, kept])  # only the server
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    tallied = (await client.post(round_url(world, "/tally"), headers=world["official"])).json()
    north = next(b for b in tallied["budgets"] if b["budget_id"] == world["budgets"]["north"])
    assert north["ballots"] == 2
    assert {p["proposal_id"]: p["votes"] for p in north["projects"]} == {p1: 1, p2: 1, p3: 1}
    assert await _receipt_status(client, world, first) == "replaced"
    proof = (await client.get(round_url(world, f"/board/proofs/{first}"))).json()
    assert proof["status"] == "replaced"
    assert (await client.get(round_url(world, f"/board/proofs/{second}"))).json()["status"] == "counted"


async def test_without_revision_a_second_ballot_is_refused(client):
    world = await round_in_voting_with_voters(client)
    p1, p2, _ = world["proposals"]["north"]
    assert (await cast(client, world, world["voters"][0], "north", [p1])).status_code == 201
    again = await cast(client, world, world["voters"][0], "north", [p2])
    assert again.status_code == 409 and again.json()["code"] == "already_voted"


async def test_concurrent_revisions_leave_exactly_one_ballot_per_voter(client):
    world = await round_in_voting_with_voters(client, round_overrides={"allow_revision": True})
    p1, p2, p3 = world["proposals"]["north"]
    voter = world["voters"][0]
    assert (await cast(client, world, voter, "north", [p1])).status_code == 201
    responses = await asyncio.gather(*(cast(client, world, voter, "north", [choice])
                                       for choice in (p1, p2, p3, p1, p2, p3)))
    assert {r.status_code for r in responses} <= {201, 409}
    assert any(r.status_code == 201 for r in responses)
    assert await SealedBallot.count().where(SealedBallot.round == world["round_id"]) == 1
    replaced = await ReplacedReceipt.count().where(ReplacedReceipt.round == world["round_id"])
    assert replaced == sum(r.status_code == 201 for r in responses)


def _values(rows: list[dict]) -> set:
    found = set()
    for row in rows:
        for value in row.values():
            if value is not None:
                found.add(bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else value)
    return found


async def test_after_close_no_join_links_a_voter_to_a_ballot(client, secrets_dir):
    """As a database reader after close: the revision pointers are gone (NULL), the keys that sealed
    them are destroyed, and no value of a participation row appears in any ballot or replaced-receipt
    row, so no join on any column pair can pair them."""
    world = await round_in_voting_with_voters(client, round_overrides={"allow_revision": True})
    p1, p2, _ = world["proposals"]["north"]
    for voter in world["voters"][:2]:
        assert (await cast(client, world, voter, "north", [p1])).status_code == 201
        assert (await cast(client, world, voter, "north", [p2])).status_code == 201
    during = [bytes(row["pointer"]) for row in await Participation.select(Participation.pointer)]
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    participation = await Participation.select().where(Participation.round == world["round_id"])
    assert participation and all(row["pointer"] is None for row in participation)
    assert RoundKeyStore(secrets_dir).load(world["round_id"]) is None  # the copies taken during voting stay sealed
    assert all(len(pointer) > 32 for pointer in during)
    ballots = await Ballot.select(Ballot.receipt, Ballot.content).where(Ballot.round == world["round_id"])
    replaced = await ReplacedReceipt.select(ReplacedReceipt.receipt).where(ReplacedReceipt.round == world["round_id"])
    assert len(ballots) == 2 and len(replaced) == 2
    voter_values = _values([{k: v for k, v in row.items() if k not in ("round", "budget", "channel")}
                            for row in participation])
    ballot_values = _values(ballots) | _values(replaced)
    assert not voter_values & ballot_values
    nullifiers = [row["nullifier"] for row in participation]
    assert not any(n in b["content"] or n in b["receipt"] for n in nullifiers for b in ballots)
