"""Census and voting use cases: import, bind, cast, look up a receipt."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from pb.accounts.domain import Actor
from pb.audit import service as audit
from pb.core.canonical import canonical_json, sha256_hex
from pb.core.clock import utcnow
from pb.core.errors import Conflict, Forbidden, Invalid, NotFound
from pb.db import is_unique_violation, write_transaction
from pb.rounds import repo as rounds_repo
from pb.tally import BallotError
from pb.voting import domain, repo

ONLINE = "online"


# --- census -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CensusImport:
    lines: int
    imported: int
    duplicates_skipped: int


async def import_census(actor: Actor, census_key: bytes, data: bytes) -> CensusImport:
    """Add residents from a CSV; all or nothing, with every bad line named in the refusal."""
    parsed = domain.parse_census_csv(data)
    if parsed.rejected:
        first = parsed.rejected[0]
        raise Invalid(
            f"The census file was not imported: line {first.line}: {first.reason}"
            + (f" (and {len(parsed.rejected) - 1} more rejected lines)." if len(parsed.rejected) > 1 else "."),
            code="census_csv_rejected",
            extra={"rejected": [{"line": r.line, "reason": r.reason} for r in parsed.rejected]},
        )
    if not parsed.entries:
        raise Invalid("The census file has a header but no residents.", code="census_csv_empty")
    pairs = [(domain.identifier_hmac(census_key, actor.organisation_id, e.identifier), e.district)
             for e in parsed.entries]
    async with write_transaction():
        imported = await repo.insert_census_entries(actor.organisation_id, pairs)
        result = CensusImport(
            lines=len(parsed.entries) + parsed.duplicates_in_file,
            imported=imported,
            duplicates_skipped=parsed.duplicates_in_file + len(pairs) - imported,
        )
        await audit.record(actor.organisation_id, actor.pseudonym, "census.imported",
                           f"organisation:{actor.organisation_id}",
                           {"imported": result.imported, "duplicates_skipped": result.duplicates_skipped})
    return result


async def bind_census_entry(actor: Actor, census_key: bytes, identifier: str) -> repo.CensusEntryRow:
    """Attach the caller's account to the census entry their identifier names (one each way)."""
    digest = domain.identifier_hmac(census_key, actor.organisation_id, identifier)
    entry = await repo.census_entry_by_hmac(actor.organisation_id, digest)
    if entry is None:
        raise NotFound("No resident with this identifier is in the census; check it or ask the city.",
                       code="census_entry_not_found")
    if entry.user == actor.user_id:
        return entry
    if entry.user is not None:
        raise Conflict("This census entry is already bound to another account.", code="census_entry_taken")
    if await repo.census_entry_of_user(actor.organisation_id, actor.user_id):
        raise Conflict("Your account is already bound to a census entry.", code="account_already_bound")
    try:
        async with write_transaction():
            if not await repo.bind_census_entry(entry.id, actor.user_id, utcnow()):
                raise Conflict("This census entry is already bound to another account.", code="census_entry_taken")
            await audit.record(actor.organisation_id, actor.pseudonym, "census.bound", f"census_entry:{entry.id}", {})
    except Conflict as error:
        if error.code is None and is_unique_violation(error.__cause__):  # the (organisation, user) index
            raise Conflict("Your account is already bound to a census entry.", code="account_already_bound") from error
        raise
    return repo.CensusEntryRow(entry.id, entry.district, actor.user_id)


async def my_census_entry(actor: Actor) -> repo.CensusEntryRow:
    entry = await repo.census_entry_of_user(actor.organisation_id, actor.user_id)
    if entry is None:
        raise NotFound("Your account is not bound to a census entry yet.", code="not_in_census")
    return entry


async def census_summary(actor: Actor) -> list[repo.DistrictCount]:
    return await repo.district_counts(actor.organisation_id)


# --- casting ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CastReceipt:
    receipt: str
    content: str


async def _frozen_round(actor: Actor, round_id: int) -> Mapping[str, Any]:
    phase = await repo.round_phase(actor.organisation_id, round_id)
    if phase is None:
        raise NotFound("No such round.")
    config = await rounds_repo.frozen_config(round_id)
    if phase != domain.VOTING or config is None:
        raise Conflict(f"The round is not open for voting (phase: {phase}).", code="not_voting")
    return config


def _budget_of(config: Mapping[str, Any], budget_id: int) -> Mapping[str, Any]:
    for budget in config["budgets"]:
        if int(budget["id"]) == budget_id:
            return budget
    raise NotFound("This budget is not part of the round.")


async def _voter_entry(actor: Actor) -> repo.CensusEntryRow:
    entry = await repo.census_entry_of_user(actor.organisation_id, actor.user_id)
    if entry is None:
        raise Forbidden("Only residents in the census may vote: bind your account to your census entry first "
                        "(POST /api/orgs/{org_id}/census/binding with your resident identifier).",
                        code="not_in_census")
    return entry


def _already_voted() -> Conflict:
    return Conflict("You have already voted in this budget; one person, one ballot.", code="already_voted")


async def cast_ballot(actor: Actor, census_key: bytes, round_id: int, budget_id: int,
                      project_ids: list[int], points: list[int] | None = None) -> CastReceipt:
    """Record who voted (nullifier) and what was voted (ballot) in one transaction.

    The unique index on (round, budget, nullifier) is the guarantee against double voting: of
    concurrent casts by one person exactly one commits, the others get 409.
    """
    config, budget, entry = await _voter_budget(actor, round_id, budget_id)
    check_choices(budget, project_ids, points)
    voter = domain.nullifier(census_key, round_id, entry.id)
    if await repo.has_participated(round_id, budget_id, voter):
        raise _already_voted()
    content = domain.encode_content(domain.ballot_content(
        round_id, budget_id, project_ids, sha256_hex(canonical_json(dict(config))),
        ballot_format=budget.get("ballot_format", domain.APPROVAL), points=points))
    receipt = domain.receipt_of(content)
    try:
        async with write_transaction():
            phase = await repo.round_phase(actor.organisation_id, round_id, lock=True)
            if phase != domain.VOTING:
                raise Conflict(f"The round is not open for voting (phase: {phase}).", code="not_voting")
            await repo.insert_participation(round_id, budget_id, voter, ONLINE)
            await repo.insert_ballot(receipt, round_id, budget_id, content)
    except Conflict as error:
        if error.code is None and is_unique_violation(error.__cause__):
            raise _already_voted() from error
        raise
    return CastReceipt(receipt, content)


@dataclass(frozen=True, slots=True)
class BudgetChoice:
    budget_id: int
    name: str
    voted: bool


async def my_budgets(actor: Actor, census_key: bytes, round_id: int) -> list[BudgetChoice]:
    """The budgets the caller may vote in during this round and whether they already did."""
    config = await _frozen_round(actor, round_id)
    entry = await _voter_entry(actor)
    voted = await repo.participated_budgets(round_id, domain.nullifier(census_key, round_id, entry.id))
    return [BudgetChoice(int(b["id"]), b.get("name", ""), int(b["id"]) in voted)
            for b in config["budgets"] if domain.may_vote_in(b, entry.district)]


@dataclass(frozen=True, slots=True)
class ReceiptStatus:
    receipt: str
    status: str
    budget_id: int | None
    content: dict[str, Any] | None


async def look_up_receipt(organisation_id: int, round_id: int, receipt: str) -> ReceiptStatus:
    """During voting only "received"; after close the ballot content too (recorded-as-cast)."""
    phase = await repo.round_phase(organisation_id, round_id)
    if phase is None:
        raise NotFound("No such round.")
    ballot = await repo.ballot_by_receipt(round_id, receipt.lower())
    if ballot is None:
        raise NotFound("No ballot with this receipt in this round.", code="unknown_receipt")
    if phase in domain.AFTER_CLOSE:
        return ReceiptStatus(ballot.receipt, "received", ballot.budget, json.loads(ballot.content))
    return ReceiptStatus(ballot.receipt, "received", None, None)


# --- the ballot pages: what a voter sees before casting ----------------------------------------------


async def _voter_budget(actor: Actor, round_id: int, budget_id: int
                        ) -> tuple[Mapping[str, Any], Mapping[str, Any], repo.CensusEntryRow]:
    """The frozen config, the budget and the caller's census entry, if the caller may vote in it."""
    config = await _frozen_round(actor, round_id)
    budget = _budget_of(config, budget_id)
    entry = await _voter_entry(actor)
    if not domain.may_vote_in(budget, entry.district):
        raise Forbidden("You may vote only in your own district's budget and in city-wide budgets.",
                        code="not_eligible_for_budget")
    return config, budget, entry


async def ballot_of_voter(actor: Actor, round_id: int, budget_id: int) -> Mapping[str, Any]:
    """The frozen budget a voter fills in (404/403/409 as casting would refuse it)."""
    return (await _voter_budget(actor, round_id, budget_id))[1]


def check_choices(budget: Mapping[str, Any], project_ids: list[int], points: list[int] | None) -> None:
    """The review step: the same rule check casting makes (Invalid names the broken constraint)."""
    try:
        domain.check_ballot(budget, project_ids, points)
    except BallotError as error:
        raise Invalid(f"Invalid ballot: {error.message}.", code=error.constraint) from error
