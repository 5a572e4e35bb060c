"""Ballot secrecy against a database reader, tested as an attacker with SQL and file access.

The attacker has copies of the database (one taken while voting runs, one after close) but not the
secrets folder. Every join we could think of must pair ballots with participation rows no better
than chance. With N voters, a join that is blind to the link is a random matching: its number of
correct pairs is about Poisson(1), so P(>= 9 correct) ~ 1e-6 per join (about 1e-4 for the ~100
joins of a PostgreSQL run), while any join that follows the link finds far more. The same joins applied to
the copy taken while voting runs (participation <-> sealed rows, the residual the design accepts)
pair all N, which shows every join here is able to find a link where one exists.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from pb.core.canonical import sha256_hex
from pb.core.keyring import RoundKeyStore
from tests.helpers import member_with_roles
from tests.steps_rounds import advance, round_in_voting
from tests.steps_voting import bind, cast, import_census, round_url

pytestmark = [pytest.mark.anyio, pytest.mark.db]

VOTERS = 40
CHANCE_BOUND = 8  # a blind matching of 40 pairs has >= 9 correct with probability ~ 1e-6


@dataclass
class Snapshot:
    """What an attacker reads from one copy of the database: rows with every storage detail."""

    participation: list[dict[str, Any]]
    sealed: list[dict[str, Any]]
    ballots: list[dict[str, Any]]
    files: bytes = b""  # raw bytes of the database files (SQLite file and WAL; PostgreSQL heap files)
    extra: dict[str, Any] = field(default_factory=dict)


def _is_postgres(url: str) -> bool:
    return url.startswith("postgres")


def _sqlite_path(url: str) -> Path:
    return Path(url[len("sqlite:///"):])


def _sqlite_rows(connection: sqlite3.Connection, query: str) -> list[dict[str, Any]]:
    connection.row_factory = sqlite3.Row
    return [dict(row) for row in connection.execute(query)]


def _sqlite_snapshot(url: str, copy_to: Path) -> Snapshot:
    """Copy the database file and its WAL as they are on disk, then read the copy."""
    source = _sqlite_path(url)
    copy_to.mkdir(parents=True, exist_ok=True)
    files = b""
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", copy_to / f"copy.sqlite{suffix}")
            files += Path(f"{source}{suffix}").read_bytes()
    connection = sqlite3.connect(copy_to / "copy.sqlite")
    try:
        return Snapshot(
            participation=_sqlite_rows(connection, "SELECT rowid AS rowid_, * FROM participation"),
            sealed=_sqlite_rows(connection, "SELECT rowid AS rowid_, * FROM sealed_ballot"),
            ballots=_sqlite_rows(connection, "SELECT rowid AS rowid_, length(content) AS size, * FROM ballot"),
            files=files,
            extra={"issue_join": _sqlite_rows(
                connection, "SELECT p.nullifier, b.receipt FROM participation p JOIN ballot b ON b.rowid = p.id")},
        )
    finally:
        connection.close()


async def _postgres_snapshot(url: str) -> Snapshot:
    """Rows with their system columns, and the heap files' bytes after a checkpoint (superuser)."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        async def rows(query: str) -> list[dict[str, Any]]:
            return [dict(row) for row in await connection.fetch(query)]

        def system(table: str) -> str:
            return (f"SELECT (ctid::text::point)[0] * 1000000 + (ctid::text::point)[1] AS ctid_, "
                    f"(ctid::text::point)[0] AS page_, xmin::text::bigint AS xmin_, xmax::text::bigint AS xmax_, "
                    f"* FROM {table}")

        await connection.execute("CHECKPOINT")
        files = b""
        for table in ("participation", "sealed_ballot", "ballot"):
            files += await connection.fetchval(
                f"SELECT pg_read_binary_file(pg_relation_filepath('{table}'))")
        return Snapshot(
            participation=await rows(system("participation")),
            sealed=await rows(system("sealed_ballot")),
            ballots=await rows(system("ballot").replace("SELECT ", "SELECT length(content) AS size, ", 1)),
            files=files,
        )
    finally:
        await connection.close()


async def _snapshot(url: str, copy_to: Path) -> Snapshot:
    return await _postgres_snapshot(url) if _is_postgres(url) else _sqlite_snapshot(url, copy_to)


# --- the attacker's joins ------------------------------------------------------------------------


def _order_joins(left: list[dict], right: list[dict], left_keys: list[str], right_keys: list[str],
                 tie: str, right_tie: str) -> dict[str, list[tuple[dict, dict]]]:
    """Pair the i-th row of ``left`` with the i-th (and with the (N-1-i)-th) row of ``right`` for every
    ordering of each side by a storage detail (ties broken by a value unrelated to the link)."""
    joins = {}
    for left_key in left_keys:
        ordered_left = sorted(left, key=lambda row: (row[left_key], row[tie]))
        for right_key in right_keys:
            ordered_right = sorted(right, key=lambda row: (row[right_key], row[right_tie]))
            joins[f"{left_key} order = {right_key} order"] = list(zip(ordered_left, ordered_right))
            joins[f"{left_key} order = reversed {right_key} order"] = list(zip(ordered_left, ordered_right[::-1]))
    return joins


def _score(pairs: list[tuple[dict, dict]], is_link: Callable[[dict, dict], bool]) -> int:
    return sum(1 for a, b in pairs if is_link(a, b))


def _equality_score(left: list[dict], right: list[dict], left_key: str, right_key: str,
                    is_link: Callable[[dict, dict], bool]) -> float:
    """Correct pairs expected when each left row picks one of the right rows with an equal value.

    A join that cannot tell rows apart (every value equal) scores 1, like a random matching; the
    join the issue found (PostgreSQL: equal xmin of the cast transaction) scores N.
    """
    score = 0.0
    for row in left:
        candidates = [other for other in right if row[left_key] == other[right_key]]
        if candidates:
            score += sum(1 for other in candidates if is_link(row, other)) / len(candidates)
    return score


# --- the scenario ---------------------------------------------------------------------------------


async def _voted_round(client, settings, tmp_path: Path) -> dict:
    """VOTERS residents of north each cast one ballot in the north budget, one after another.

    Returns the world plus "truth": {nullifier: receipt} (known to the test, never to the attacker)
    and "during": the snapshot an attacker takes while voting runs.
    """
    from pb.voting.tables import Participation

    residents = [f"V-{n}" for n in range(1, VOTERS + 1)]
    census = "identifier,district\n" + "".join(f"{r},north\n" for r in residents)

    async def import_residents(world: dict) -> None:
        await import_census(client, world["org_id"], world["official"], census)

    world = await round_in_voting(client, "secret-city", before_voting=import_residents)
    p1, p2, p3 = world["proposals"]["north"]
    choices = [[p1], [p2], [p3], [p1, p2], [p1, p3], [p2, p3]]
    truth: dict[str, str] = {}
    nonces = []
    for number, resident in enumerate(residents):
        _, headers = await member_with_roles(client, world["org_id"], world["official"])
        assert (await bind(client, world["org_id"], headers, resident)).status_code == 200
        before = {row["nullifier"] for row in await Participation.select(Participation.nullifier)}
        response = await cast(client, world, headers, "north", choices[number % len(choices)])
        assert response.status_code == 201, response.text
        (nullifier,) = {row["nullifier"] for row in await Participation.select(Participation.nullifier)} - before
        truth[nullifier] = response.json()["receipt"]
        nonces.append(json.loads(response.json()["content"])["nonce"])
    keys = RoundKeyStore(settings.secrets_dir).load(world["round_id"])
    tag_truth = {nullifier: keys.receipt_tag(receipt) for nullifier, receipt in truth.items()}
    during = await _snapshot(settings.database_url, tmp_path / "during")
    return {**world, "truth": truth, "tag_truth": tag_truth, "nonces": nonces, "during": during}


def _storage_keys(url: str) -> tuple[list[str], list[str]]:
    """Participation-side and ballot-side storage orderings an attacker can read."""
    if _is_postgres(url):
        return ["id", "ctid_", "page_", "xmin_", "xmax_"], ["ctid_", "page_", "xmin_", "xmax_", "size", "receipt"]
    return ["id", "rowid_"], ["rowid_", "size", "receipt"]


async def test_while_voting_runs_the_database_holds_no_ballot_content_nor_receipt(client, settings, tmp_path):
    """What a reader learns during voting: who voted and the participation-to-sealed-row link, but
    no content (no plaintext, no ballot row, equal ciphertext sizes) and no receipt in clear."""
    world = await _voted_round(client, settings, tmp_path)
    during = world["during"]
    assert during.ballots == []
    assert len({len(row["ciphertext"]) for row in during.sealed}) == 1, "ciphertext sizes reveal the ballot"
    for nonce in world["nonces"]:
        assert nonce.encode() not in during.files, "a ballot's content is readable in the database files"
    for receipt in world["truth"].values():
        assert receipt.encode() not in during.files, "a receipt is stored in clear while voting runs"
    # the residual link the design accepts while voting runs: the cast transaction ties the rows
    storage = "xmin_" if _is_postgres(settings.database_url) else "rowid_"
    linked = _order_joins(during.participation, during.sealed, ["id"], [storage], "nullifier", "receipt_tag")
    pairs = linked[f"id order = {storage} order"]
    assert _score(pairs, lambda p, s: world["tag_truth"][p["nullifier"]] == s["receipt_tag"]) == VOTERS
    # and a receipt lookup says "received" without showing the content
    receipt = next(iter(world["truth"].values()))
    found = (await client.get(round_url(world, f"/receipts/{receipt}"))).json()
    assert found["status"] == "received" and found["content"] is None


async def test_after_close_no_join_pairs_ballots_with_voters_better_than_chance(client, settings, tmp_path):
    """Invariant: after close, every storage-level join between participation and ballots (ids,
    rowid, ctid, xmin/xmax, insertion order, sizes, receipts; alone or with a copy taken during
    voting) gets at most chance-level correct pairs, and no sealed remnant is left in the files."""
    url = settings.database_url
    world = await _voted_round(client, settings, tmp_path)
    truth, during = world["truth"], world["during"]
    await advance(client, world["org_id"], world["round_id"], world["official"], "closed")
    after = await _snapshot(url, tmp_path / "after")

    assert sorted(row["receipt"] for row in after.ballots) == sorted(truth.values())
    assert after.sealed == [] and not RoundKeyStore(settings.secrets_dir).exists(world["round_id"])

    def voter_cast(participation: dict, ballot: dict) -> bool:
        return truth[participation["nullifier"]] == ballot["receipt"]

    left_keys, right_keys = _storage_keys(url)
    scores = {name: _score(pairs, voter_cast) for name, pairs in _order_joins(
        after.participation, after.ballots, left_keys, right_keys, "nullifier", "receipt").items()}
    if _is_postgres(url):
        for key in ("xmin_", "xmax_", "page_"):
            scores[f"{key} = {key}"] = _equality_score(after.participation, after.ballots, key, key, voter_cast)
    else:
        scores["the issue's join: ballot.rowid = participation.id"] = sum(
            1 for row in after.extra["issue_join"] if truth[row["nullifier"]] == row["receipt"])

    # two copies together: participation -> sealed row (copy during voting, a perfect link), then
    # sealed row -> ballot by every storage order or size the two copies show
    by_tag = dict(zip(world["tag_truth"].values(), world["tag_truth"].keys()))  # tag -> nullifier
    sealed_keys = ["ctid_", "xmin_", "receipt_tag"] if _is_postgres(url) else ["rowid_", "receipt_tag"]
    for name, pairs in _order_joins(during.sealed, after.ballots, sealed_keys, right_keys, "receipt_tag",
                                    "receipt").items():
        scores[f"during[{name}]"] = sum(1 for sealed, ballot in pairs if truth[by_tag[sealed["receipt_tag"]]]
                                        == ballot["receipt"])
    scores["tag = sha256(receipt)"] = sum(1 for row in during.sealed for b in after.ballots
                                          if row["receipt_tag"] in (b["receipt"], sha256_hex(b["receipt"])))

    best = max(scores, key=scores.get)
    assert scores[best] <= CHANCE_BOUND, f"{best} pairs {scores[best]} of {VOTERS} ballots with their voters"
    assert len(scores) >= 10

    # nothing of the sealed rows is left in the files an attacker can copy
    for row in during.sealed:
        assert row["ciphertext"][16:48] not in after.files, "a sealed ballot's ciphertext is left in the files"
        assert row["receipt_tag"].encode() not in after.files, "a receipt tag is left in the files"
    assert during.sealed and during.sealed[0]["ciphertext"][16:48] in during.files  # the scan can see them

    # the receipts still work, now with their content
    receipt = truth[next(iter(truth))]
    found = (await client.get(round_url(world, f"/receipts/{receipt}"))).json()
    assert found["content"]["nonce"] and found["budget_id"] == world["budgets"]["north"]
