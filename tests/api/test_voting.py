"""Casting over HTTP: one ballot per person and budget (even under concurrency), receipts, every refusal."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager

import pytest

from pb.core.canonical import sha256_hex
from tests.helpers import create_organisation, member_with_roles
from tests.steps_rounds import advance, round_in_review
from tests.steps_voting import (
    ballots_url, bind, cast, import_census, round_in_voting_with_voters, round_url,
)

pytestmark = [pytest.mark.anyio, pytest.mark.db]


async def _rows(round_id: int) -> tuple[int, int]:
    """(participation rows, ballots) of a round; while voting runs every ballot is sealed."""
    from pb.voting.tables import Ballot, Participation, SealedBallot

    return (await Participation.count().where(Participation.round == round_id),
            await SealedBallot.count().where(SealedBallot.round == round_id)
            + await Ballot.count().where(Ballot.round == round_id))


async def test_cast_returns_a_receipt_that_is_the_hash_of_the_content(client):
    world = await round_in_voting_with_voters(client)
    p1, p2, _ = world["proposals"]["north"]
    response = await cast(client, world, world["voters"][0], "north", [p2, p1])
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["receipt"] == sha256_hex(body["content"]) and body["status"] == "received"
    content = json.loads(body["content"])
    assert content["projects"] == sorted([p1, p2])
    assert content["budget_id"] == world["budgets"]["north"] and content["round_id"] == world["round_id"]
    assert content["config_hash"] == world["frozen_config_hash"]
    assert len(content["nonce"]) == 32
    assert await _rows(world["round_id"]) == (1, 1)


async def test_identical_ballots_get_distinct_receipts(client):
    world = await round_in_voting_with_voters(client)
    p6 = world["proposals"]["citywide"][0]
    receipts = {(await cast(client, world, voter, "citywide", [p6])).json()["receipt"] for voter in world["voters"]}
    assert len(receipts) == 4


async def test_receipt_lookup_says_received_during_voting_and_shows_content_after_close(client):
    world = await round_in_voting_with_voters(client)
    p4 = world["proposals"]["south"][0]
    receipt = (await cast(client, world, world["voters"][2], "south", [p4])).json()["receipt"]
    during = await client.get(round_url(world, f"/receipts/{receipt}"))  # public: no token
    assert during.status_code == 200
    assert during.json() == {"receipt": receipt, "status": "received", "budget_id": None, "content": None}
    assert (await client.get(round_url(world, "/receipts/" + "0" * 64))).status_code == 404
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    after = (await client.get(round_url(world, f"/receipts/{receipt}"))).json()
    assert after["budget_id"] == world["budgets"]["south"] and after["content"]["projects"] == [p4]


async def test_receipt_lookup_by_post_keeps_the_receipt_out_of_the_url(client):
    world = await round_in_voting_with_voters(client)
    receipt = (await cast(client, world, world["voters"][2], "south", [world["proposals"]["south"][0]])).json()["receipt"]
    during = await client.post(round_url(world, "/receipts/lookup"), json={"receipt": receipt.upper()})
    assert during.status_code == 200 and during.json()["status"] == "received" and during.json()["content"] is None
    unknown = await client.post(round_url(world, "/receipts/lookup"), json={"receipt": "f" * 64})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_receipt"
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    after = (await client.post(round_url(world, "/receipts/lookup"), json={"receipt": receipt})).json()
    assert after["receipt"] == receipt and after["budget_id"] == world["budgets"]["south"]


async def test_second_ballot_in_the_same_budget_is_409(client):
    world = await round_in_voting_with_voters(client)
    p1, p2, _ = world["proposals"]["north"]
    assert (await cast(client, world, world["voters"][0], "north", [p1])).status_code == 201
    again = await cast(client, world, world["voters"][0], "north", [p2])
    assert again.status_code == 409 and again.json()["code"] == "already_voted"
    assert (await cast(client, world, world["voters"][0], "citywide", [world["proposals"]["citywide"][0]])).status_code == 201
    assert await _rows(world["round_id"]) == (2, 2)


async def test_fifty_concurrent_casts_by_one_voter_store_exactly_one_ballot(client):
    """E1: the unique (round, budget, nullifier) index admits one ballot however requests interleave."""
    world = await round_in_voting_with_voters(client)
    p1 = world["proposals"]["north"][0]
    responses = await asyncio.gather(*(cast(client, world, world["voters"][0], "north", [p1]) for _ in range(50)))
    codes = sorted(response.status_code for response in responses)
    assert codes == [201] + [409] * 49, codes
    assert all(r.json()["code"] == "already_voted" for r in responses if r.status_code == 409)
    assert await _rows(world["round_id"]) == (1, 1)


async def test_participation_and_ballot_are_written_together(client, monkeypatch):
    """E2: a failure after the participation insert leaves neither row (one statement on PostgreSQL,
    one transaction on SQLite). The database itself fails the sealed-ballot insert: a NULL ciphertext
    breaks its NOT NULL constraint after the participation row was inserted."""
    from pb.voting import repo

    world = await round_in_voting_with_voters(client)
    write_cast = repo.write_cast

    async def broken_sealed_insert(cast, voting_phase):
        cast.ciphertext = None
        return await write_cast(cast, voting_phase)

    monkeypatch.setattr(repo, "write_cast", broken_sealed_insert)
    failed = await cast(client, world, world["voters"][0], "north", [world["proposals"]["north"][0]])
    assert failed.status_code == 500
    assert await _rows(world["round_id"]) == (0, 0)
    monkeypatch.undo()
    assert (await cast(client, world, world["voters"][0], "north", [world["proposals"]["north"][0]])).status_code == 201


async def test_no_ballot_lands_after_voting_closed_however_casts_and_the_close_interleave(client):
    """Casting re-checks the phase where it writes (PostgreSQL: under a shared lock on the round row;
    SQLite: inside BEGIN IMMEDIATE), so every cast racing the close either is in the opened box or
    was refused 409 not_voting: participation = opened ballots = accepted casts, nothing left sealed."""
    from pb.voting.tables import Ballot, Participation, SealedBallot

    world = await round_in_voting_with_voters(client)
    casts = [cast(client, world, voter, "citywide", [world["proposals"]["citywide"][0]]) for voter in world["voters"]]
    *responses, _ = await asyncio.gather(*casts, advance(client, world["org_id"], world["round_id"],
                                                         world["official"], "closed"))
    accepted = [r for r in responses if r.status_code == 201]
    assert all(r.status_code == 201 or r.json()["code"] == "not_voting" for r in responses), [r.text for r in responses]
    round_id = world["round_id"]
    assert await Participation.count().where(Participation.round == round_id) == len(accepted)
    assert await Ballot.count().where(Ballot.round == round_id) == len(accepted)
    assert await SealedBallot.count().where(SealedBallot.round == round_id) == 0


async def test_a_cast_that_read_voting_but_writes_after_the_close_committed_is_refused(client, database_url):
    """Deterministic form of the race above: another connection moves the round to closed and holds
    the change uncommitted; the cast reads "voting", then its write waits for the row (PostgreSQL:
    FOR SHARE) or the write lock (SQLite: BEGIN IMMEDIATE); the close commits; the write re-checks
    the phase, writes nothing and the cast is 409 not_voting."""
    from pb.voting.tables import Participation, SealedBallot

    world = await round_in_voting_with_voters(client)
    round_id = world["round_id"]
    async with _phase_change_held_open(database_url, round_id, "closed") as commit:
        pending = asyncio.create_task(cast(client, world, world["voters"][0], "north", [world["proposals"]["north"][0]]))
        await asyncio.sleep(0.5)  # the cast has read "voting" and waits to write
        assert not pending.done()
        await commit()
    refused = await pending
    assert refused.status_code == 409 and refused.json()["code"] == "not_voting", refused.text
    assert await Participation.count().where(Participation.round == round_id) == 0
    assert await SealedBallot.count().where(SealedBallot.round == round_id) == 0


@asynccontextmanager
async def _phase_change_held_open(database_url: str, round_id: int, phase: str):
    """On a connection of its own: UPDATE the round's phase and keep the transaction open until the
    block calls ``commit()`` (as a close does while it runs)."""
    if database_url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE round SET phase = ? WHERE id = ?", (phase, round_id))

        async def commit() -> None:
            connection.execute("COMMIT")
        try:
            yield commit
        finally:
            connection.close()
        return
    import asyncpg

    connection = await asyncpg.connect(database_url)
    transaction = connection.transaction()
    await transaction.start()
    await connection.execute("UPDATE round SET phase = $1 WHERE id = $2", phase, round_id)
    try:
        yield transaction.commit
    finally:
        await connection.close()


async def test_a_closed_round_refuses_ballots_although_its_configuration_is_cached(client):
    """The frozen configuration is cached per process, the phase never: closing takes effect at once."""
    world = await round_in_voting_with_voters(client)
    north = world["proposals"]["north"]
    assert (await cast(client, world, world["voters"][0], "north", [north[0]])).status_code == 201
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    refused = await cast(client, world, world["voters"][1], "north", [north[0]])
    assert refused.status_code == 409 and refused.json()["code"] == "not_voting", refused.text
    assert "closed" in refused.json()["detail"]
    budgets = await client.get(round_url(world, "/my-budgets"), headers=world["voters"][1])
    assert budgets.status_code == 409 and budgets.json()["code"] == "not_voting"


async def test_the_cached_configuration_is_the_one_the_stored_hash_names(client):
    """The cache is addressed by the configuration's hash, read fresh with the phase: a stored
    configuration that changed (here by hand; pb never re-freezes a round) is read anew, and one
    whose text does not match its hash is never served."""
    from pb.core.canonical import canonical_json
    from pb.rounds import repo as rounds_repo
    from pb.rounds.tables import Round

    world = await round_in_voting_with_voters(client)
    round_id, old_hash = world["round_id"], world["frozen_config_hash"]
    config = await rounds_repo.frozen_config_by_hash(round_id, old_hash)
    assert config is not None and config["round_id"] == round_id
    renamed = {**config, "title": "Renamed"}
    new_hash = sha256_hex(canonical_json(renamed))
    await Round.update({Round.frozen_config: canonical_json(renamed), Round.frozen_config_hash: new_hash}).where(
        Round.id == round_id)
    assert (await rounds_repo.frozen_config_by_hash(round_id, new_hash))["title"] == "Renamed"
    assert (await rounds_repo.frozen_config_by_hash(round_id, old_hash))["title"] == config["title"]  # by content
    assert await rounds_repo.frozen_config_by_hash(round_id, "0" * 64) is None
    response = await cast(client, world, world["voters"][0], "north", [world["proposals"]["north"][0]])
    assert json.loads(response.json()["content"])["config_hash"] == new_hash


async def test_invalid_ballots_are_422_naming_the_constraint(client):
    world = await round_in_voting_with_voters(client)
    p1, p2, p3 = world["proposals"]["north"]
    p4 = world["proposals"]["south"][0]
    p6, p7 = world["proposals"]["citywide"]
    voter = world["voters"][0]
    cases = [
        ("north", [p1, p2, p3], "too_many_projects", "2"),
        ("north", [], "too_few_projects", "1"),
        ("north", [p1, p1], "duplicate_project", f"'{p1}'"),
        ("north", [p1, p4], "unknown_project", f"'{p4}'"),
        ("north", [world["ineligible"][0]], "unknown_project", f"'{world['ineligible'][0]}'"),
        ("citywide", [p6, p7], "over_budget", "150000"),
    ]
    for key, projects, code, words in cases:
        response = await cast(client, world, voter, key, projects)
        assert response.status_code == 422, (code, response.text)
        assert response.json()["code"] == code and words in response.json()["detail"], response.json()
    assert await _rows(world["round_id"]) == (0, 0)


async def test_knapsack_minimum_spend_is_enforced(client):
    async def require_half(world: dict) -> None:
        budget = {"name": "City-wide", "kind": "citywide", "amount": 150_000, "ballot_format": "knapsack",
                  "min_spend_percent": 50}
        response = await client.patch(round_url(world, f"/budgets/{world['budgets']['citywide']}"), json=budget,
                                      headers=world["official"])
        assert response.status_code == 200, response.text

    world = await round_in_voting_with_voters(client, before_voting=require_half)
    p6, p7 = world["proposals"]["citywide"]
    response = await cast(client, world, world["voters"][0], "citywide", [p7])
    assert response.status_code == 422
    assert response.json()["code"] == "below_minimum_spend" and "75000" in response.json()["detail"]
    assert response.json()["detail"].startswith("Invalid ballot: ")
    assert (await cast(client, world, world["voters"][0], "citywide", [p6])).status_code == 201


async def test_voting_in_another_districts_budget_is_403(client):
    world = await round_in_voting_with_voters(client)
    response = await cast(client, world, world["voters"][0], "south", [world["proposals"]["south"][0]])
    assert response.status_code == 403 and response.json()["code"] == "not_eligible_for_budget"


async def test_member_without_census_binding_is_403(client):
    world = await round_in_voting_with_voters(client)
    _, stranger = await member_with_roles(client, world["org_id"], world["official"])
    response = await cast(client, world, stranger, "citywide", [world["proposals"]["citywide"][0]])
    assert response.status_code == 403 and response.json()["code"] == "not_in_census"
    assert "bind your account" in response.json()["detail"]


async def test_casting_outside_the_voting_phase_is_409(client):
    world = await round_in_review(client)
    await import_census(client, world["org_id"], world["official"])
    voter = world["citizens"][0]["headers"]
    assert (await bind(client, world["org_id"], voter, "N-1")).status_code == 200
    early = await cast(client, world, voter, "north", [world["proposals"]["north"][0]])
    assert early.status_code == 409 and early.json()["code"] == "not_voting"

    world = await round_in_voting_with_voters(client, "closed-city")
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    late = await cast(client, world, world["voters"][0], "north", [world["proposals"]["north"][0]])
    assert late.status_code == 409 and late.json()["code"] == "not_voting"


async def test_unknown_budget_round_or_organisation_is_404(client):
    world = await round_in_voting_with_voters(client)
    voter, p1 = world["voters"][0], world["proposals"]["north"][0]
    base = f"/api/orgs/{world['org_id']}/rounds"
    assert (await client.post(f"{base}/{world['round_id']}/budgets/9999/ballots", json={"projects": [p1]},
                              headers=voter)).status_code == 404
    assert (await client.post(f"{base}/9999/budgets/{world['budgets']['north']}/ballots", json={"projects": [p1]},
                              headers=voter)).status_code == 404
    other, other_official = await create_organisation(client, "elsewhere")
    _, outsider = await member_with_roles(client, other, other_official)
    response = await client.post(ballots_url(world, "north").replace(f"/orgs/{world['org_id']}/", f"/orgs/{other}/"),
                                 json={"projects": [p1]}, headers=outsider)
    assert response.status_code == 404


async def test_extra_fields_are_refused(client):
    world = await round_in_voting_with_voters(client)
    response = await client.post(ballots_url(world, "north"), headers=world["voters"][0],
                                 json={"projects": [world["proposals"]["north"][0]], "user_id": 1})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/user_id"


async def test_my_budgets_lists_district_and_citywide_with_voted_flags(client):
    world = await round_in_voting_with_voters(client)
    voter = world["voters"][0]
    assert (await cast(client, world, voter, "north", [world["proposals"]["north"][0]])).status_code == 201
    response = await client.get(round_url(world, "/my-budgets"), headers=voter)
    assert response.status_code == 200
    assert {(b["budget_id"], b["voted"]) for b in response.json()} == {
        (world["budgets"]["north"], True), (world["budgets"]["citywide"], False)}


async def test_ballots_are_unlinkable_from_voters(client):
    """G3: the ballot table has no user key and no timestamp; participation holds only a nullifier."""
    from pb.voting.tables import Ballot, Participation

    assert {c._meta.name for c in Ballot._meta.columns} == {"receipt", "round", "budget", "content"}
    world = await round_in_voting_with_voters(client)
    await cast(client, world, world["voters"][0], "north", [world["proposals"]["north"][0]])
    row = (await Participation.select().where(Participation.round == world["round_id"]))[0]
    assert len(row["nullifier"]) == 64 and row["channel"] == "online"
