"""Queries for the census, participation and ballots. Engine differences live here."""

from __future__ import annotations

from datetime import datetime

import msgspec

from pb.db import is_postgres
from pb.rounds.tables import Round
from pb.voting.tables import Ballot, CensusEntry, Participation

INSERT_CHUNK = 500  # rows per INSERT: well under SQLite's bound-parameter limit


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


async def insert_participation(round_id: int, budget_id: int, nullifier: str, channel: str) -> None:
    """Fails on the unique index (round, budget, nullifier) if this person already voted here."""
    await Participation.insert(
        Participation(round=round_id, budget=budget_id, nullifier=nullifier, channel=channel)
    )


async def has_participated(round_id: int, budget_id: int, nullifier: str) -> bool:
    return await Participation.exists().where(
        (Participation.round == round_id) & (Participation.budget == budget_id)
        & (Participation.nullifier == nullifier)
    )


async def participated_budgets(round_id: int, nullifier: str) -> set[int]:
    rows = await Participation.select(Participation.budget).where(
        (Participation.round == round_id) & (Participation.nullifier == nullifier)
    )
    return {row["budget"] for row in rows}


async def insert_ballot(receipt: str, round_id: int, budget_id: int, content: str) -> None:
    await Ballot.insert(Ballot(receipt=receipt, round=round_id, budget=budget_id, content=content))


async def ballot_by_receipt(round_id: int, receipt: str) -> StoredBallot | None:
    row = await Ballot.select(Ballot.receipt, Ballot.round, Ballot.budget, Ballot.content).where(
        (Ballot.round == round_id) & (Ballot.receipt == receipt)
    ).first()
    return msgspec.convert(row, StoredBallot) if row else None


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
