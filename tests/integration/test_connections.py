"""Connection reuse (pb.engines): one checkout per request, nothing leaked, rollbacks intact, and
SQLite bursts answered 2xx/409/503-with-Retry-After, never 500, with every acknowledged write stored."""

from __future__ import annotations

import asyncio

import pytest

from pb import db
from tests.helpers import PASSWORD, create_organisation, member_with_roles, sign_up_and_log_in

pytestmark = [pytest.mark.anyio, pytest.mark.db]


def _pool():
    return db.current_engine().pool


async def test_a_request_of_many_queries_checks_out_one_connection(client):
    organisation_id, _ = await create_organisation(client)
    _, headers = await sign_up_and_log_in(client)
    engine, pool = db.current_engine(), _pool()
    queries, checkouts = engine.query_id, pool.checkouts

    response = await client.post(f"/api/orgs/{organisation_id}/join", headers=headers)

    assert response.status_code == 204, response.text
    assert engine.query_id - queries >= 3  # organisation, membership, insert (in a transaction)
    assert pool.checkouts - checkouts == 1
    assert pool.in_use == 0


async def test_no_connection_is_left_checked_out_after_requests_that_fail(client, monkeypatch):
    organisation_id, official = await create_organisation(client)
    user_id, headers = await member_with_roles(client, organisation_id, official)
    roles_url = f"/api/orgs/{organisation_id}/members/{user_id}/roles"
    from pb.accounts import service

    async def audit_fails(*args, **kwargs):
        raise RuntimeError("the audit log failed half-way through the transaction")

    statuses = []
    for _ in range(3):
        statuses.append((await client.post(f"/api/orgs/{organisation_id}/join", headers=headers)).status_code)
        statuses.append((await client.get(f"/api/orgs/{organisation_id + 999}/members", headers=official)).status_code)
        statuses.append((await client.get("/api/no/such/route")).status_code)
        with monkeypatch.context() as patch:
            patch.setattr(service.audit, "record", audit_fails)
            statuses.append((await client.put(roles_url, json={"roles": ["reviewer"]}, headers=official)).status_code)

    assert set(statuses) == {409, 404, 500}
    assert _pool().in_use == 0
    members = (await client.get(f"/api/orgs/{organisation_id}/members", headers=official)).json()
    mine = next(member for member in members if member["user_id"] == user_id)
    assert "reviewer" not in mine["roles"]  # each failed transaction was rolled back
    response = await client.put(roles_url, json={"roles": ["reviewer"]}, headers=official)
    assert response.status_code == 204, response.text  # and the connections still work


async def test_a_transaction_outside_requests_rolls_back_and_returns_its_connection(client):
    from pb.accounts import repo

    pool = _pool()
    with pytest.raises(RuntimeError):
        async with db.write_transaction():
            await repo.insert_user("ghost@example.org", "Ghost", "not-a-login-hash")
            raise RuntimeError("after the insert")
    assert await repo.user_by_email("ghost@example.org") is None
    assert pool.in_use == 0


async def test_a_cancelled_transaction_rolls_back_and_frees_its_connection_and_write_turn(client):
    """A client that goes away cancels its request's task, possibly inside a transaction."""
    from pb.accounts import repo

    inside = asyncio.Event()

    async def slow_write() -> None:
        async with db.write_transaction():
            await repo.insert_user("gone@example.org", "Gone", "not-a-login-hash")
            inside.set()
            await asyncio.sleep(60)

    task = asyncio.ensure_future(slow_write())
    await inside.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _pool().in_use == 0
    async with asyncio.timeout(10):  # the write turn is free again
        async with db.write_transaction():
            await repo.insert_user("next@example.org", "Next", "not-a-login-hash")
    assert await repo.user_by_email("gone@example.org") is None
    assert await repo.user_by_email("next@example.org") is not None


# --- SQLite under a burst -----------------------------------------------------------------------

@pytest.fixture
def settings(settings):
    """Tiny pool and queue: a burst of writers meets a full queue at once."""
    return settings.with_overrides(database_pool_size=3, database_queue_seconds=0.01)


async def test_when_every_connection_is_taken_pages_and_api_answer_503_with_retry_after(client):
    pool = _pool()
    taken = [await pool.acquire() for _ in range(pool.size)]  # outside requests: no time limit
    try:
        page = await client.get("/", headers={"accept-language": "pl"})
        api = await client.get("/api/me", headers={"Authorization": "Bearer x"})
        login = await client.post("/api/auth/login", json={"email": "a@example.org", "password": PASSWORD})
    finally:
        for connection in taken:
            await pool.release(connection)
    assert page.status_code == 503 and page.headers["Retry-After"] == "1"
    assert "Serwer jest zajęty; spróbuj ponownie za kilka sekund." in page.text
    assert login.status_code == 503 and login.headers["Retry-After"] == "1", login.text
    assert "all database connections are in use" in login.json()["detail"]
    assert api.status_code == 401  # a request that needs no database is not held up
    assert pool.in_use == 0
    assert (await client.get("/")).status_code == 200


def _only_sqlite(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only: its write queue and connection settings")


async def test_a_writer_that_cannot_get_its_turn_is_told_when_to_come_back(client, database_url):
    _only_sqlite(database_url)
    queue = db.current_engine().write_queue
    await queue.take_turn()  # someone else is writing (outside requests: no time limit)
    try:
        response = await client.post("/api/auth/signup", json={
            "email": "late@example.org", "password": PASSWORD, "display_name": "Late"})
    finally:
        queue.end_turn()
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert response.json()["code"] == "server_busy"
    assert "The server is busy" in response.json()["detail"] and "try again in 1 second" in response.json()["detail"]
    assert _pool().in_use == 0


async def test_a_burst_of_writers_gets_answers_never_a_500_and_every_acknowledged_write_is_stored(
        client, database_url):
    """Invariant: under a burst every writer gets 201, 409 (the same email twice) or 503 with
    Retry-After (never 500, never a hang near the busy timeout), and every 201 names a stored row."""
    _only_sqlite(database_url)
    from pb.accounts import repo

    emails = [f"burst{n}@example.org" for n in range(40)] * 2  # each sign-up sent twice at once

    async def sign_up(email: str):
        return email, await client.post("/api/auth/signup", json={
            "email": email, "password": PASSWORD, "display_name": email.split("@")[0]})

    answers = await asyncio.gather(*(sign_up(email) for email in emails))

    statuses = {response.status_code for _, response in answers}
    assert statuses <= {201, 409, 503}, statuses
    assert 201 in statuses and 503 in statuses  # with a 10 ms queue, some writers must be turned away
    created = {}
    for email, response in answers:
        if response.status_code == 201:
            assert email not in created, f"{email} was created twice"
            created[email] = response.json()["id"]
        elif response.status_code == 503:
            assert int(response.headers["Retry-After"]) >= 1
    for email in set(emails):
        stored = await repo.user_by_email(email)
        if email in created:
            assert stored is not None and stored.id == created[email]
        else:  # refused twice (503/409): a 409 means the other request stored it and said 201
            assert stored is None
    assert _pool().in_use == 0


@pytest.mark.parametrize("synchronous, pragma", [("full", 2), ("normal", 1)])
async def test_served_sqlite_connections_use_the_configured_synchronous_mode(settings, database_url, synchronous,
                                                                           pragma):
    _only_sqlite(database_url)
    from pb.app import create_app

    app = create_app(settings.with_overrides(database_sqlite_synchronous=synchronous))
    async with app.lifespan():
        rows = await db.current_engine().run_ddl("PRAGMA synchronous")
        assert rows == [{"synchronous": pragma}]
        assert (await db.current_engine().run_ddl("PRAGMA journal_mode")) == [{"journal_mode": "wal"}]


async def test_plain_updates_and_inserts_wait_for_the_write_turn_and_reads_do_not(client, database_url):
    _only_sqlite(database_url)
    from pb.accounts import repo
    from pb.accounts.tables import User

    user_id = await repo.insert_user("turn@example.org", "Turn", "not-a-login-hash")
    queue = db.current_engine().write_queue
    await queue.take_turn()
    try:
        assert (await repo.user_by_id(user_id)).display_name == "Turn"  # a read goes ahead
        update = asyncio.ensure_future(User.update({User.display_name: "Renamed"}).where(User.id == user_id).run())
        insert = asyncio.ensure_future(repo.insert_user("second@example.org", "Second", "not-a-login-hash"))
        await asyncio.sleep(0.2)
        assert not update.done() and not insert.done()
    finally:
        queue.end_turn()
    await asyncio.gather(update, insert)
    assert (await repo.user_by_id(user_id)).display_name == "Renamed"
    assert await repo.user_by_email("second@example.org") is not None
