"""Opening the ballot box survives crashes: interrupted at any step (or by kill -9 of a real server)
it is finished later, and every acknowledged ballot ends up public exactly once."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time

import httpx
import pytest

from pb import db
from pb.core.keyring import RoundKeyStore
from pb.voting import repo as voting_repo
from pb.voting import service as voting_service
from tests.steps_rounds import advance
from tests.steps_voting import cast, cast_standard_ballots, expected_winners, round_in_voting_with_voters, round_url

pytestmark = [pytest.mark.anyio, pytest.mark.db]

PORTS = {"sqlite": 8131, "postgres": 8132}


class Crash(Exception):
    """Stands for the process dying at this point (the database rolls back what was not committed)."""


async def _crash(*args, **kwargs):
    raise Crash("the process died here")


def _crash_sync(*args, **kwargs):
    raise Crash("the process died here")


async def _ballot_box_state(settings, round_id: int) -> tuple[int, int, bool]:
    """(sealed rows, public ballots, keys present) of a round."""
    from pb.voting.tables import Ballot

    return (await voting_repo.sealed_count(round_id), await Ballot.count().where(Ballot.round == round_id),
            RoundKeyStore(settings.secrets_dir).exists(round_id))


async def _assert_opened_once(client, settings, world: dict, receipts: list[str]) -> None:
    """The tally (which finishes an unfinished opening) finds the winners the ballots say; every
    acknowledged ballot is public exactly once, nothing sealed is left, the keys are gone."""
    from pb.voting.tables import Ballot

    response = await client.post(round_url(world, "/tally"), headers=world["official"])
    assert response.status_code == 200, response.text
    winners = {b["budget_id"]: b["winners"] for b in response.json()["budgets"]}
    assert {key: winners[world["budgets"][key]] for key in world["budgets"]} == expected_winners(world)
    rows = await Ballot.select(Ballot.receipt).where(Ballot.round == world["round_id"])
    assert sorted(row["receipt"] for row in rows) == sorted(receipts)
    assert await _ballot_box_state(settings, world["round_id"]) == (0, len(receipts), False)


async def _restart(settings) -> None:
    """A new app process's start-up on the same database and secrets folder."""
    from pb.app import create_app

    engine = db.current_engine()
    try:
        async with create_app(settings).lifespan():
            pass
    finally:
        db.bind_engine(engine)  # the test's own app goes on with its engine


# (what fails, the state it leaves: sealed rows?, public ballots?, keys?, how it is finished)
INTERRUPTIONS = {
    "after the close commits, before opening": (voting_service, "open_ballot_box", (True, False, True), "tally"),
    "inside the opening transaction": (voting_repo, "delete_sealed_ballots", (True, False, True), "restart"),
    "after the opening commits": (voting_repo, "reclaim_sealed_space", (False, True, True), "tally"),
    "before the keys are destroyed": (RoundKeyStore, "destroy", (False, True, True), "restart"),
}


@pytest.mark.parametrize("step", list(INTERRUPTIONS))
async def test_an_interrupted_opening_is_finished_without_losing_or_doubling_a_ballot(client, settings,
                                                                                     monkeypatch, step):
    target, name, (sealed, public, keys), recovery = INTERRUPTIONS[step]
    world = await round_in_voting_with_voters(client)
    receipts = await cast_standard_ballots(client, world)
    monkeypatch.setattr(target, name, _crash_sync if target is RoundKeyStore else _crash)
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")  # the close stands
    monkeypatch.undo()
    state = await _ballot_box_state(settings, world["round_id"])
    assert (state[0] > 0, state[1] > 0, state[2]) == (sealed, public, keys), state
    assert state[0] + state[1] == len(receipts)
    if recovery == "restart":
        await _restart(settings)
        assert await _ballot_box_state(settings, world["round_id"]) == (0, len(receipts), False)
    await _assert_opened_once(client, settings, world, receipts)


async def test_a_tampered_sealed_ballot_stops_the_tally_and_opens_nothing(client, settings):
    from pb.voting.tables import SealedBallot

    world = await round_in_voting_with_voters(client)
    await cast_standard_ballots(client, world)
    row = await SealedBallot.select().where(SealedBallot.round == world["round_id"]).first()
    tampered = bytearray(row["ciphertext"])
    tampered[-1] ^= 1
    await SealedBallot.update({SealedBallot.ciphertext: bytes(tampered)}).where(
        SealedBallot.receipt_tag == row["receipt_tag"])
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    response = await client.post(round_url(world, "/tally"), headers=world["official"])
    assert response.status_code == 409 and response.json()["code"] == "ballot_box_corrupt", response.text
    assert await _ballot_box_state(settings, world["round_id"]) == (7, 0, True)


async def test_missing_round_keys_refuse_casting_and_the_tally_with_a_clear_409(client, settings):
    world = await round_in_voting_with_voters(client)
    receipts = await cast_standard_ballots(client, world)
    store = RoundKeyStore(settings.secrets_dir)
    key_file = store.folder / f"round-{world['round_id']}.json"
    saved = key_file.read_bytes()
    key_file.unlink()  # the server remembers the sealing keys from the casts above: the file decides
    response = await cast(client, world, world["voters"][3], "citywide", [world["proposals"]["citywide"][0]])
    assert response.status_code == 409 and response.json()["code"] == "ballot_box_unavailable"
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    response = await client.post(round_url(world, "/tally"), headers=world["official"])
    assert response.status_code == 409 and response.json()["code"] == "ballot_box_keys_missing"
    key_file.write_bytes(saved)  # the folder restored from its backup: the tally opens the box
    await _assert_opened_once(client, settings, world, receipts)


# --- kill -9 of a real server ------------------------------------------------------------------------


def _start_server(settings, port: int) -> subprocess.Popen:
    env = {**os.environ, "PB_DATABASE_URL": settings.database_url, "PB_SECRETS_DIR": str(settings.secrets_dir),
           "PB_SERVER_PUBLIC_URL": settings.public_url, "PB_SECURITY_RATE_LIMIT_PER_MINUTE": "0",
           "PB_SECURITY_PASSWORD_TIME_COST": "1", "PB_SECURITY_PASSWORD_MEMORY_KIB": "1024"}
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "pb.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"], env=env)


async def _wait_until_up(http: httpx.AsyncClient, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            await http.get("/api/orgs/1/rounds")
            return
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    raise AssertionError("the server did not start within 30 s")


def _kill(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=10)


async def test_kill_9_while_closing_loses_and_doubles_no_ballot(client, settings, request):
    """R1/R4: a real server is SIGKILLed at a random moment of the close request (before, during or
    after the opening); after a restart every acknowledged ballot is public exactly once."""
    engine = "postgres" if settings.database_url.startswith("postgres") else "sqlite"
    port = PORTS[engine]
    rng = random.Random()
    for cycle in range(2):
        world = await round_in_voting_with_voters(client, f"killed-{cycle}")
        receipts = await cast_standard_ballots(client, world)
        server = _start_server(settings, port)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                await _wait_until_up(http, server)
                closing = asyncio.create_task(http.post(round_url(world, "/phase"), json={"target": "closed"},
                                                        headers=world["official"]))
                await asyncio.sleep(rng.uniform(0.0, 0.25))
                _kill(server)
                try:
                    await closing
                except httpx.TransportError:
                    pass
                server = _start_server(settings, port)  # start-up finishes an interrupted opening
                await _wait_until_up(http, server)
                phase = (await http.get(round_url(world, ""))).json()["phase"]
                if phase == "voting":  # killed before the close committed: close again
                    response = await http.post(round_url(world, "/phase"), json={"target": "closed"},
                                               headers=world["official"])
                    assert response.status_code == 200, response.text
        finally:
            _kill(server)
        if engine == "sqlite":
            import sqlite3

            with sqlite3.connect(settings.database_url[len("sqlite:///"):]) as check:
                assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        await _assert_opened_once(client, settings, world, receipts)
