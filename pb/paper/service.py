"""Paper ballots from polling stations, entered twice by two officials before they count.

Double entry catches typing mistakes: the first official's entry waits (sealed to the round's key),
the second official types the same sheet independently; equal entries are recorded as one ballot
on the ``paper`` channel in the same one-vote space as online ballots (a resident who voted online
cannot vote on paper and vice versa); different entries are kept as a mismatch, listed with the
fields that differ, until an official clears the sheet for both to type it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pb.accounts.domain import Actor
from pb.audit import service as audit
from pb.core.canonical import canonical_json
from pb.core.errors import Conflict, NotFound
from pb.core.keyring import RoundKeyStore
from pb.db import write_transaction
from pb.paper import repo
from pb.rounds import repo as rounds_repo
from pb.voting import service as voting

PAPER = "paper"
PENDING, MISMATCH = "pending", "mismatch"
FIELDS = ("resident", "projects", "points")


@dataclass(frozen=True, slots=True)
class PaperResult:
    status: str  # "awaiting_second_entry" | "counted" | "mismatch"
    differences: list[str] = field(default_factory=list)
    receipt: str | None = None
    content: str | None = None


def _entry(ballot: voting.PaperBallot, projects: list[int], points: list[int] | None) -> dict:
    ordinal = ballot.budget.get("ballot_format") == "ordinal"
    pairs = sorted(zip(projects, points)) if points is not None else None
    return {"resident": ballot.identifier_hmac,
            "projects": list(projects) if ordinal else ([p for p, _ in pairs] if pairs else sorted(projects)),
            "points": [v for _, v in pairs] if pairs else None}


def differences(first: dict, second: dict) -> list[str]:
    return [name for name in FIELDS if first.get(name) != second.get(name)]


async def enter(actor: Actor, census_key: bytes, round_keys: RoundKeyStore, round_id: int, budget_id: int,
                sheet: str, station: str, identifier: str, projects: list[int],
                points: list[int] | None = None) -> PaperResult:
    ballot = await voting.check_paper_ballot(actor, census_key, round_id, budget_id, identifier, projects, points)
    keys = voting.round_keys_for(round_keys, round_id)
    mine = _entry(ballot, projects, points)
    subject = f"round:{round_id}"
    details = {"budget": budget_id, "sheet": sheet, "station": station}
    async with write_transaction():
        others = await repo.entries_of_sheet(round_id, budget_id, sheet)
        if any(entry.entered_by == actor.user_id for entry in others):
            raise Conflict("You already entered this sheet: a second official must type it.",
                           code="paper_already_entered")
        if any(entry.status == MISMATCH for entry in others):
            raise Conflict("This sheet's two entries differ; clear it and type it again.", code="paper_mismatch_open")
        if not others:
            await repo.insert(round_id, budget_id, sheet, station, actor.user_id, PENDING,
                              keys.seal(canonical_json(mine).encode()))
            await audit.record(actor.organisation_id, actor.pseudonym, "paper.entered", subject, details)
            return PaperResult("awaiting_second_entry")
        first = json.loads(keys.unseal(others[0].sealed))
        differ = differences(first, mine)
        if differ:
            await repo.insert(round_id, budget_id, sheet, station, actor.user_id, MISMATCH,
                              keys.seal(canonical_json(mine).encode()))
            await repo.mark(round_id, budget_id, sheet, MISMATCH)
            await audit.record(actor.organisation_id, actor.pseudonym, "paper.mismatch", subject,
                               {**details, "fields": differ})
            return PaperResult(MISMATCH, differ)
    outcome = "paper.refused"  # e.g. the resident already voted online: the sheet is done either way
    try:
        cast = await voting.record_ballot(actor.organisation_id, census_key, round_keys, ballot.config, ballot.budget,
                                          ballot.census_entry_id, projects, points, PAPER)
        outcome = "paper.confirmed"
    finally:
        async with write_transaction():
            await repo.delete_sheet(round_id, budget_id, sheet)
            await audit.record(actor.organisation_id, actor.pseudonym, outcome, subject, details)
    return PaperResult("counted", receipt=cast.receipt, content=cast.content)


async def _own_round(actor: Actor, round_id: int) -> None:
    if await rounds_repo.get_round(actor.organisation_id, round_id) is None:
        raise NotFound("No such round in this organisation.")


@dataclass(frozen=True, slots=True)
class Unconfirmed:
    budget_id: int
    sheet: str
    station: str
    status: str
    entered_by: list[int]
    differences: list[str]


async def unconfirmed(actor: Actor, round_keys: RoundKeyStore, round_id: int) -> list[Unconfirmed]:
    """Sheets typed once (waiting) or twice with different results (mismatch, with the fields)."""
    await _own_round(actor, round_id)
    keys = round_keys.load(round_id)
    sheets: dict[tuple[int, str], list[repo.EntryRow]] = {}
    for entry in await repo.unconfirmed(round_id):
        sheets.setdefault((entry.budget, entry.sheet), []).append(entry)
    found = []
    for (budget_id, sheet), entries in sheets.items():
        differ: list[str] = []
        if len(entries) == 2 and keys is not None:
            differ = differences(*(json.loads(keys.unseal(e.sealed)) for e in entries))
        found.append(Unconfirmed(budget_id, sheet, entries[0].station, entries[0].status,
                                 [e.entered_by for e in entries], differ))
    return found


async def clear(actor: Actor, round_id: int, budget_id: int, sheet: str) -> None:
    """Throw away a sheet's unconfirmed entries so two officials can type it again."""
    await _own_round(actor, round_id)
    async with write_transaction():
        if not await repo.delete_sheet(round_id, budget_id, sheet):
            raise NotFound("No unconfirmed entry of this sheet.")
        await audit.record(actor.organisation_id, actor.pseudonym, "paper.cleared", f"round:{round_id}",
                           {"budget": budget_id, "sheet": sheet})
