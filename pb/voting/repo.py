"""Queries for the census, participation, sealed and opened ballots. Engine differences live here."""

from __future__ import annotations

from datetime import datetime

import asyncio
import logging
import secrets

import msgspec

from pb.accounts import repo as accounts_repo
from pb.accounts.repo import MemberCheck
from pb.db import current_engine, fetch, is_postgres, write_transaction
from pb.rounds.tables import Round
from pb.voting.tables import Ballot, CensusEntry, Participation, ReplacedReceipt, SealedBallot

INSERT_CHUNK = 500  # rows per INSERT: well under SQLite's bound-parameter limit
CHECKPOINT_ATTEMPTS = 50  # SQLite: a TRUNCATE checkpoint waits for readers; bounded retries

log = logging.getLogger(__name__)


class CensusEntryRow(msgspec.Struct):
    id: int
    district: str
    user: int | None


class DistrictCount(msgspec.Struct):
    district: str
    entries: int
    bound: int


class StoredBallot(msgspec.Struct):
    receipt: str
    round: int
    budget: int
    content: str


async def eligible_counts(organisation_id: int) -> dict[str, int]:
    """Census entries per district: the eligible counts committed when voting opens.

    A city-wide budget's eligible count is the sum of all districts.
    """
    return {row.district: row.entries for row in await district_counts(organisation_id)}


async def district_counts(organisation_id: int) -> list[DistrictCount]:
    rows = await CensusEntry.raw(
        "SELECT district, COUNT(*) AS entries, COUNT(\"user\") AS bound FROM census_entry "
        "WHERE organisation_id = {} GROUP BY district ORDER BY district",
        organisation_id,
    )
    return [DistrictCount(row["district"], int(row["entries"]), int(row["bound"])) for row in rows]


async def insert_census_entries(organisation_id: int, entries: list[tuple[str, str]]) -> int:
    """Insert (identifier_hmac, district) pairs; ones already in the census are skipped.

    Returns how many were new. Call inside a write transaction so a failure stores nothing.
    """
    inserted = 0
    for start in range(0, len(entries), INSERT_CHUNK):
        chunk = entries[start : start + INSERT_CHUNK]
        rows = await CensusEntry.insert(
            *(CensusEntry(organisation_id=organisation_id, identifier_hmac=digest, district=district)
              for digest, district in chunk)
        ).on_conflict(action="DO NOTHING").returning(CensusEntry.id)
        inserted += len(rows)
    return inserted


async def census_entry_by_hmac(organisation_id: int, identifier_hmac: str) -> CensusEntryRow | None:
    row = await CensusEntry.select(CensusEntry.id, CensusEntry.district, CensusEntry.user).where(
        (CensusEntry.organisation_id == organisation_id) & (CensusEntry.identifier_hmac == identifier_hmac)
    ).first()
    return msgspec.convert(row, CensusEntryRow) if row else None


async def census_entry_of_user(organisation_id: int, user_id: int) -> CensusEntryRow | None:
    row = await CensusEntry.select(CensusEntry.id, CensusEntry.district, CensusEntry.user).where(
        (CensusEntry.organisation_id == organisation_id) & (CensusEntry.user == user_id)
    ).first()
    return msgspec.convert(row, CensusEntryRow) if row else None


async def bind_census_entry(entry_id: int, user_id: int, now: datetime) -> bool:
    """Attach an unbound entry to an account, atomically; False if someone else holds it.

    The unique index on (organisation_id, user) keeps an account to one entry.
    """
    rows = await CensusEntry.update({CensusEntry.user: user_id, CensusEntry.bound_at: now}).where(
        (CensusEntry.id == entry_id) & CensusEntry.user.is_null()
    ).returning(CensusEntry.id)
    return bool(rows)


async def round_phase(organisation_id: int, round_id: int, *, lock: bool = False) -> str | None:
    """The round's phase, scoped by organisation (None: no such round here).

    With ``lock`` inside a write transaction the phase cannot change until commit: PostgreSQL
    takes a shared row lock (a concurrent close waits for the ballot, or the ballot sees the
    close); SQLite's ``BEGIN IMMEDIATE`` already excludes every other writer.
    """
    if lock and is_postgres():
        rows = await Round.raw(
            "SELECT phase FROM round WHERE id = {} AND organisation = {} FOR SHARE", round_id, organisation_id
        )
        return rows[0]["phase"] if rows else None
    row = await Round.select(Round.phase).where(
        (Round.id == round_id) & (Round.organisation == organisation_id)
    ).first()
    return row["phase"] if row else None


class VoterInRound(msgspec.Struct):
    """What a cast checks before it writes, read in one statement (``voter_in_round``)."""

    phase: str
    voting_start: datetime | None
    voting_end: datetime | None
    config_hash: str | None  # the frozen configuration's hash (None before voting opens)
    census_entry_id: int | None  # the caller's census entry in the round's organisation
    district: str | None


# The round as a voter sees it (``VoterInRound``'s columns) and the census entry join, shared by
# ``voter_in_round`` and the cast guard's ``voter_check``.
_VOTER_COLUMNS = ("r.phase, r.voting_start, r.voting_end, r.frozen_config_hash AS config_hash, "
                  "c.id AS census_entry_id, c.district")
_CENSUS_JOIN = "LEFT JOIN census_entry c ON c.organisation_id = r.organisation AND c.\"user\" = {}"
_VOTER_IN_ROUND = (f"SELECT {_VOTER_COLUMNS} FROM round r {_CENSUS_JOIN} "
                   "WHERE r.id = {} AND r.organisation = {}")
# One row always (a FROM of one row), so the member check answers even for a round that is not there.
_VOTER_CHECK = (f"SELECT {accounts_repo.MEMBER_CHECK_COLUMNS}, {_VOTER_COLUMNS} FROM (SELECT 1) AS one_row "
                "LEFT JOIN round r ON r.id = {} AND r.organisation = {} " + _CENSUS_JOIN)


async def voter_in_round(organisation_id: int, round_id: int, user_id: int) -> VoterInRound | None:
    """The round's phase, voting window and frozen-config hash, and the user's census entry.

    One statement instead of four on the hottest path (the configuration itself comes from the
    per-process cache, by hash). None: no such round in this organisation.
    """
    rows = await Round.raw(_VOTER_IN_ROUND, user_id, round_id, organisation_id)
    return msgspec.convert(rows[0], VoterInRound) if rows else None


class VoterCheck(msgspec.Struct):
    """The cast guard's one read: the member check and the round as the caller sees it."""

    member: MemberCheck
    voter: VoterInRound | None  # None: no such round in this organisation


async def voter_check(login_id: str, user_id: int, organisation_id: int, round_id: int) -> VoterCheck:
    """The role guard's member check and ``voter_in_round`` in one statement: the cast's only read.

    The member check's columns come from the accounts context (``MEMBER_CHECK_COLUMNS``), so its
    rules stay there; this statement only asks them beside the round and census entry.
    """
    rows = await fetch(_VOTER_CHECK, *accounts_repo.member_check_parameters(login_id, user_id, organisation_id),
                       round_id, organisation_id, user_id)
    row = rows[0]
    voter = msgspec.convert(dict(row), VoterInRound) if row["phase"] is not None else None
    return VoterCheck(accounts_repo.member_check_of(row), voter)


class SealedCast(msgspec.Struct):
    """One ballot ready to be written: who voted (nullifier) and the sealed content, never linked."""

    round_id: int
    budget_id: int
    nullifier: str
    channel: str
    pointer: bytes | None  # vote revision: the receipt sealed to the round's key
    receipt_tag: str
    ciphertext: bytes


# PostgreSQL: one statement, so one round trip and no BEGIN/COMMIT. The round row is read FOR SHARE:
# a phase change (an UPDATE of that row) waits for this statement, or this statement waits for the
# change and then sees the new phase and writes nothing. Both inserts happen or neither (one
# statement); the unique index on participation refuses a second ballot of the same person.
_WRITE_CAST_POSTGRES = """
WITH locked AS (
    SELECT id, phase FROM round WHERE id = {} FOR SHARE
), participated AS (
    INSERT INTO participation (round, budget, nullifier, channel, pointer)
    SELECT id, {}::integer, {}::varchar, {}::varchar, {}::bytea FROM locked WHERE phase = {}
    RETURNING round
), sealed AS (
    INSERT INTO sealed_ballot (receipt_tag, round, ciphertext)
    SELECT {}::varchar, round, {}::bytea FROM participated
)
SELECT phase FROM locked
"""


async def write_cast(cast: SealedCast, voting_phase: str) -> str | None:
    """Write participation and sealed ballot if the round's phase is ``voting_phase``, atomically.

    Returns the phase the round was in (the ballot was written only if it is ``voting_phase``; None: no
    such round). A second ballot of the same person raises the unique violation of participation.
    """
    if is_postgres():
        rows = await fetch(_WRITE_CAST_POSTGRES, cast.round_id, cast.budget_id, cast.nullifier, cast.channel,
                               cast.pointer, voting_phase, cast.receipt_tag, cast.ciphertext)
        return rows[0]["phase"] if rows else None
    async with write_transaction():  # BEGIN IMMEDIATE: no phase change can commit until we do
        inserted = await Participation.raw(
            "INSERT INTO participation (round, budget, nullifier, channel, pointer) "
            "SELECT id, {}, {}, {}, {} FROM round WHERE id = {} AND phase = {} RETURNING id",
            cast.budget_id, cast.nullifier, cast.channel, cast.pointer, cast.round_id, voting_phase,
        )
        if not inserted:
            rows = await Round.select(Round.phase).where(Round.id == cast.round_id)
            return rows[0]["phase"] if rows else None
        await insert_sealed_ballot(cast.round_id, cast.receipt_tag, cast.ciphertext)
    return voting_phase


async def insert_participation(round_id: int, budget_id: int, nullifier: str, channel: str,
                               pointer: bytes | None = None) -> None:
    """Fails on the unique index (round, budget, nullifier) if this person already voted here."""
    await Participation.insert(
        Participation(round=round_id, budget=budget_id, nullifier=nullifier, channel=channel, pointer=pointer)
    )


async def current_pointer(round_id: int, budget_id: int, nullifier: str) -> bytes | None:
    """The sealed pointer of a voter's participation (b"" if they voted without one; None if they
    have not voted), locked until commit on PostgreSQL so two revisions of one voter queue."""
    where = ((Participation.round == round_id) & (Participation.budget == budget_id)
             & (Participation.nullifier == nullifier))
    query = Participation.select(Participation.pointer).where(where)
    if is_postgres():
        query = query.lock_rows()
    row = await query.first()
    if row is None:
        return None
    return bytes(row["pointer"]) if row["pointer"] is not None else b""


async def move_pointer(round_id: int, budget_id: int, nullifier: str, current: bytes, new: bytes) -> bool:
    rows = await Participation.update({Participation.pointer: new}).where(
        (Participation.round == round_id) & (Participation.budget == budget_id)
        & (Participation.nullifier == nullifier) & (Participation.pointer == current)
    ).returning(Participation.id)
    return bool(rows)


async def clear_pointers(round_id: int) -> None:
    await Participation.update({Participation.pointer: None}).where(
        (Participation.round == round_id) & Participation.pointer.is_not_null())


async def delete_sealed_ballot(round_id: int, receipt_tag: str) -> bool:
    rows = await SealedBallot.delete().where(
        (SealedBallot.round == round_id) & (SealedBallot.receipt_tag == receipt_tag)
    ).returning(SealedBallot.receipt_tag)
    return bool(rows)


async def insert_replaced_receipt(round_id: int, receipt: str) -> None:
    await ReplacedReceipt.insert(ReplacedReceipt(receipt=receipt, round=round_id))


async def replaced_receipts(round_id: int) -> list[str]:
    rows = await ReplacedReceipt.select(ReplacedReceipt.receipt).where(
        ReplacedReceipt.round == round_id).order_by(ReplacedReceipt.receipt)
    return [row["receipt"] for row in rows]


async def participated_budgets(round_id: int, nullifier: str) -> set[int]:
    rows = await Participation.select(Participation.budget).where(
        (Participation.round == round_id) & (Participation.nullifier == nullifier)
    )
    return {row["budget"] for row in rows}


class SealedRow(msgspec.Struct):
    receipt_tag: str
    ciphertext: bytes


class RoundPhase(msgspec.Struct):
    round_id: int
    organisation_id: int
    phase: str


async def insert_sealed_ballot(round_id: int, receipt_tag: str, ciphertext: bytes) -> None:
    await SealedBallot.insert(SealedBallot(receipt_tag=receipt_tag, round=round_id, ciphertext=ciphertext))


async def sealed_ballots(round_id: int) -> list[SealedRow]:
    rows = await SealedBallot.select(SealedBallot.receipt_tag, SealedBallot.ciphertext).where(
        SealedBallot.round == round_id
    )
    return [SealedRow(row["receipt_tag"], bytes(row["ciphertext"])) for row in rows]


async def sealed_count(round_id: int) -> int:
    return await SealedBallot.count().where(SealedBallot.round == round_id)


async def round_of(round_id: int, *, lock: bool = False) -> RoundPhase | None:
    """Any organisation's round by id (for the ballot box, which is not a request of one member).

    With ``lock`` inside a write transaction no one else can open this round's box or change its
    phase until commit (PostgreSQL ``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` excludes writers).
    """
    query = Round.select(Round.id.as_alias("round_id"), Round.organisation.as_alias("organisation_id"),
                         Round.phase).where(Round.id == round_id)
    if lock and is_postgres():
        query = query.lock_rows()
    row = await query.first()
    return msgspec.convert(row, RoundPhase) if row else None


async def rounds_with_sealed_ballots() -> list[int]:
    rows = await SealedBallot.select(SealedBallot.round).distinct()
    return sorted(row["round"] for row in rows)


async def publish_ballots(ballots: list[StoredBallot]) -> None:
    """Insert opened ballots in the order given (the caller shuffles), in chunks."""
    for start in range(0, len(ballots), INSERT_CHUNK):
        await Ballot.insert(*(
            Ballot(receipt=b.receipt, round=b.round, budget=b.budget, content=b.content)
            for b in ballots[start:start + INSERT_CHUNK]
        )).on_conflict(action="DO NOTHING")


async def delete_sealed_ballots(round_id: int) -> None:
    """Remove the round's sealed rows so that no copy of the database files holds them any more.

    PostgreSQL: a DELETE leaves dead row versions that VACUUM must keep while any transaction's
    snapshot might still see them, so the table is emptied with TRUNCATE instead (a new, empty file;
    the old one is unlinked at commit, whatever snapshots exist) and the other rounds' sealed rows
    are put back in a random order. SQLite: ``secure_delete`` overwrites the deleted rows with
    zeros; ``reclaim_sealed_space`` then clears the WAL and free pages. Storage order is unrelated
    to the order the opened ballots were published in.
    """
    if is_postgres():
        table = SealedBallot._meta.tablename
        await SealedBallot.raw(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        others = await SealedBallot.select(SealedBallot.receipt_tag, SealedBallot.round,
                                           SealedBallot.ciphertext).where(SealedBallot.round != round_id)
        secrets.SystemRandom().shuffle(others)
        await SealedBallot.raw(f"TRUNCATE {table}")
        for start in range(0, len(others), INSERT_CHUNK):
            await SealedBallot.insert(*(SealedBallot(**row) for row in others[start:start + INSERT_CHUNK]))
        return
    await SealedBallot.raw("PRAGMA secure_delete = ON")
    await SealedBallot.delete().where(SealedBallot.round == round_id)


async def reclaim_sealed_space() -> None:
    """SQLite: rebuild the file without free pages (``VACUUM``), then copy the WAL back and empty it
    (TRUNCATE checkpoint), so no page image of a sealed row is left. Run outside a transaction.
    PostgreSQL needs nothing more: ``delete_sealed_ballots`` already replaced the table's files.
    """
    engine = current_engine()
    if is_postgres(engine):
        return
    await engine.run_ddl("VACUUM")
    for _ in range(CHECKPOINT_ATTEMPTS):
        rows = await engine.run_ddl("PRAGMA wal_checkpoint(TRUNCATE)")
        if rows and not rows[0].get("busy"):
            return
        await asyncio.sleep(0.1)
    log.warning("the WAL could not be truncated after opening a ballot box: readers kept it busy")


class ReceiptFacts(msgspec.Struct):
    """Everything a receipt lookup decides on, read in one statement (``receipt_facts``)."""

    phase: str
    ballot_budget: int | None  # the opened ballot with this receipt (after close)
    ballot_content: str | None
    sealed: bool  # a sealed ballot has the receipt's tag (while voting runs)
    replaced: bool  # vote revision: the voter replaced this ballot


async def receipt_facts(organisation_id: int, round_id: int, receipt: str,
                        receipt_tag: str | None) -> ReceiptFacts | None:
    """The round's phase and where the receipt is found: opened ballot, sealed ballot (by
    ``receipt_tag``; None when the round has no keys), replaced receipts. None: no such round."""
    rows = await Round.raw(
        "SELECT r.phase, b.budget AS ballot_budget, b.content AS ballot_content, "
        "EXISTS (SELECT 1 FROM sealed_ballot s WHERE s.round = r.id AND s.receipt_tag = {}) AS sealed, "
        "EXISTS (SELECT 1 FROM replaced_receipt x WHERE x.round = r.id AND x.receipt = {}) AS replaced "
        "FROM round r LEFT JOIN ballot b ON b.round = r.id AND b.receipt = {} "
        "WHERE r.id = {} AND r.organisation = {}",
        receipt_tag, receipt, receipt, round_id, organisation_id,
    )
    if not rows:
        return None
    row = rows[0]
    return ReceiptFacts(row["phase"], row["ballot_budget"], row["ballot_content"], bool(row["sealed"]),
                        bool(row["replaced"]))


async def ballots_of_budget(round_id: int, budget_id: int) -> list[StoredBallot]:
    """All ballots of one budget, sorted by receipt (never by insertion order)."""
    rows = await Ballot.select(Ballot.receipt, Ballot.round, Ballot.budget, Ballot.content).where(
        (Ballot.round == round_id) & (Ballot.budget == budget_id)
    ).order_by(Ballot.receipt)
    return [msgspec.convert(row, StoredBallot) for row in rows]


async def participation_count(round_id: int, budget_id: int) -> int:
    return await Participation.count().where(
        (Participation.round == round_id) & (Participation.budget == budget_id)
    )


async def participation_by_channel(round_id: int) -> dict[int, dict[str, int]]:
    """How many took part per budget and channel ("online", "paper"): counts, never identities."""
    rows = await Participation.raw(
        "SELECT budget, channel, COUNT(*) AS n FROM participation WHERE round = {} GROUP BY budget, channel",
        round_id,
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(int(row["budget"]), {})[row["channel"]] = int(row["n"])
    return counts
