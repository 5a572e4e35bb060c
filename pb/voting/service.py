"""Census and voting use cases: import, bind, cast, look up a receipt, open the ballot box at close.

Ballot secrecy against a database reader (docs/ballot-secrecy.md): while voting runs a ballot is
stored only sealed to the round's public key with its receipt as an HMAC tag; at close the box is
opened into the public ballot table in a random order and the round's keys are destroyed.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Mapping

from nacl.exceptions import CryptoError

from pb.accounts.domain import Actor
from pb.audit import service as audit
from pb.core.canonical import canonical_json, sha256_hex
from pb.core.clock import utcnow
from pb.core.errors import Conflict, Forbidden, Invalid, NotFound
from pb.core.keyring import RoundKeys, RoundKeyStore, SealingKeys
from pb.db import is_unique_violation, write_transaction
from pb.rounds import repo as rounds_repo
from pb.rounds import service as rounds_service
from pb.tally import BallotError
from pb.voting import domain, repo

ONLINE = "online"
SYSTEM = "system"  # the audit actor when the server finishes an opening by itself (start-up)

log = logging.getLogger(__name__)


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


@dataclass(frozen=True, slots=True)
class VotingRound:
    """A round open for voting as one caller sees it: its frozen configuration and their census entry."""

    config: Mapping[str, Any]  # shared by the process (rounds_repo.frozen_config_by_hash): never modify
    config_hash: str
    voter: repo.VoterInRound


def _not_voting(phase: str | None) -> Conflict:
    return Conflict(f"The round is not open for voting (phase: {phase}).", code="not_voting")


async def _voting_round(actor: Actor, round_id: int, checked: repo.VoterCheck | None = None) -> VotingRound:
    """The round, if it is voting: phase, window, config hash and the caller's census entry come in
    one statement (``checked``: the one the cast's guard already ran); the configuration from the
    process cache (a statement only on its first use)."""
    if checked is not None:
        found = checked.voter
    else:
        found = await repo.voter_in_round(actor.organisation_id, round_id, actor.user_id)
    if found is None:
        raise NotFound("No such round.")
    config = None
    if found.phase == domain.VOTING and found.config_hash:
        config = await rounds_repo.frozen_config_by_hash(round_id, found.config_hash)
    if config is None:
        raise _not_voting(found.phase)
    return VotingRound(config, found.config_hash, found)


async def _frozen_round(actor: Actor, round_id: int) -> Mapping[str, Any]:
    return (await _voting_round(actor, round_id)).config


def _budget_of(config: Mapping[str, Any], budget_id: int) -> Mapping[str, Any]:
    for budget in config["budgets"]:
        if int(budget["id"]) == budget_id:
            return budget
    raise NotFound("This budget is not part of the round.")


def _census_entry_of(voting: VotingRound) -> tuple[int, str]:
    """The caller's census entry (id, district), read with the round; 403 if they have none."""
    voter = voting.voter
    if voter.census_entry_id is None or voter.district is None:
        raise Forbidden("Only residents in the census may vote: bind your account to your census entry first "
                        "(POST /api/orgs/{org_id}/census/binding with your resident identifier).",
                        code="not_in_census")
    return voter.census_entry_id, voter.district


def _already_voted() -> Conflict:
    return Conflict("You have already voted in this budget; one person, one ballot.", code="already_voted")


def _keys_missing() -> Conflict:
    return Conflict("This round's ballot box keys are not in the secrets folder, so no ballot can be sealed; "
                    "every server of this deployment must share the secrets folder.", code="ballot_box_unavailable")


def _keys_of(round_keys: RoundKeyStore, round_id: int) -> RoundKeys:
    keys = round_keys.load(round_id)
    if keys is None:
        raise _keys_missing()
    return keys


def _sealing_keys_of(round_keys: RoundKeyStore, round_id: int) -> SealingKeys:
    """What a cast needs (no private key), from the store's memory while the key file is unchanged."""
    keys = round_keys.sealing_keys(round_id)
    if keys is None:
        raise _keys_missing()
    return keys


async def cast_ballot(actor: Actor, census_key: bytes, round_id: int, budget_id: int,
                      project_ids: list[int], points: list[int] | None = None, *,
                      round_keys: RoundKeyStore, checked: repo.VoterCheck | None = None) -> CastReceipt:
    """Record who voted (nullifier) and the sealed ballot in one transaction.

    The unique index on (round, budget, nullifier) is the guarantee against double voting: of
    concurrent casts by one person exactly one commits, the others get 409. The database gets the
    content only sealed (padded to the budget's fixed size) and the receipt only as an HMAC tag;
    the voter gets both in clear. Where the round allows revision, casting again replaces the
    voter's ballot until close (exactly one counts). ``checked``: the read of ``guards.requires_voter``
    for this request, if the route has that guard (the cast then reads nothing before it writes).
    """
    voting, budget, census_entry_id = await _voter_budget(actor, round_id, budget_id, checked)
    rounds_service.check_voting_window(voting.voter.voting_start, voting.voter.voting_end)
    return await record_ballot(actor.organisation_id, census_key, round_keys, voting.config, budget, census_entry_id,
                               project_ids, points, ONLINE, config_hash=voting.config_hash)


@dataclass(frozen=True, slots=True)
class PaperBallot:
    """A paper ballot checked against the frozen rules and the census, ready to be recorded."""

    config: Mapping[str, Any]
    budget: Mapping[str, Any]
    census_entry_id: int
    identifier_hmac: str


async def check_paper_ballot(actor: Actor, census_key: bytes, round_id: int, budget_id: int, identifier: str,
                             project_ids: list[int], points: list[int] | None) -> PaperBallot:
    """The resident is in the census and may vote in the budget, the ballot keeps the frozen rules."""
    config = await _frozen_round(actor, round_id)
    budget = _budget_of(config, budget_id)
    digest = domain.identifier_hmac(census_key, actor.organisation_id, identifier)
    entry = await repo.census_entry_by_hmac(actor.organisation_id, digest)
    if entry is None:
        raise NotFound("No resident with this identifier is in the census; check the paper sheet.",
                       code="census_entry_not_found")
    if not domain.may_vote_in(budget, entry.district):
        raise Forbidden("This resident may vote only in their own district's budget and in city-wide budgets.",
                        code="not_eligible_for_budget")
    check_choices(budget, project_ids, points)
    return PaperBallot(config, budget, entry.id, digest)


def round_keys_for(round_keys: RoundKeyStore, round_id: int) -> RoundKeys:
    """The round's keys while voting runs (409 if the secrets folder does not hold them)."""
    return _keys_of(round_keys, round_id)


async def record_ballot(organisation_id: int, census_key: bytes, round_keys: RoundKeyStore,
                        config: Mapping[str, Any], budget: Mapping[str, Any], census_entry_id: int,
                        project_ids: list[int], points: list[int] | None, channel: str, *,
                        config_hash: str | None = None) -> CastReceipt:
    """The ballot of one census entry, online or entered from paper: one nullifier space, so a
    resident who voted on one channel cannot vote on the other (409 ``already_voted``).

    No "already voted?" read first: the write itself is refused by the unique index on
    participation, which is the guarantee anyway (and the only check that holds under concurrency).
    ``config_hash``: the configuration's hash if the caller has it (saves hashing it again).
    """
    round_id, budget_id = int(config["round_id"]), int(budget["id"])
    config_hash = config_hash or sha256_hex(canonical_json(dict(config)))
    frozen = _frozen_budget(round_id, budget, config_hash)
    check_choices(budget, project_ids, points, frozen.rules)
    revising = bool(config.get("allow_revision")) and channel == ONLINE
    keys = _sealing_keys_of(round_keys, round_id)
    content = domain.encode_content(domain.ballot_content(
        round_id, budget_id, project_ids, config_hash,
        ballot_format=budget.get("ballot_format", domain.APPROVAL), points=points))
    receipt = domain.receipt_of(content)
    cast = repo.SealedCast(
        round_id, budget_id, domain.nullifier(census_key, round_id, census_entry_id), channel,
        pointer=keys.seal(receipt.encode()) if revising else None, receipt_tag=keys.receipt_tag(receipt),
        ciphertext=keys.seal(domain.pad(content, frozen.padded_size)))
    try:
        phase = await repo.write_cast(cast, domain.VOTING)
    except Exception as error:
        if not _is_second_ballot(error):
            raise
        if not revising:
            raise _already_voted() from error
        await _revise(organisation_id, _keys_of(round_keys, round_id), cast)
    else:
        if phase != domain.VOTING:
            raise _not_voting(phase)
    return CastReceipt(receipt, content)


def _is_second_ballot(error: BaseException) -> bool:
    """The unique index on participation refused the write (raised as it is, or as the Conflict
    ``write_transaction`` makes of it): this person already voted in this budget."""
    if isinstance(error, Conflict):
        return error.code is None and is_unique_violation(error.__cause__)
    return is_unique_violation(error)


@dataclass(frozen=True, slots=True)
class _FrozenBudget:
    """What every cast in one frozen budget needs and nothing in a ballot changes."""

    rules: domain.BallotRules
    padded_size: int


_frozen_budgets: dict[tuple[int, int, str], _FrozenBudget] = {}


def _frozen_budget(round_id: int, budget: Mapping[str, Any], config_hash: str) -> _FrozenBudget:
    """The budget's ballot rules and sealed size, remembered: both depend only on the frozen budget,
    which the configuration hash names, and rebuilding them on every cast is wasted work (the
    rules hold an ``Instance`` of every project; the size comes from the longest ballot)."""
    key = (round_id, int(budget["id"]), config_hash)
    frozen = _frozen_budgets.get(key)
    if frozen is None:
        try:
            rules = domain.ballot_rules(budget)
        except BallotError as error:
            raise _invalid_ballot(error) from error
        if len(_frozen_budgets) >= 1024:
            _frozen_budgets.clear()
        frozen = _frozen_budgets[key] = _FrozenBudget(rules, domain.padded_size(round_id, budget, config_hash))
    return frozen


async def _revise(organisation_id: int, keys: RoundKeys, cast: repo.SealedCast) -> None:
    """Vote revision: a voter who already voted casts again. One transaction re-checks the phase
    under a lock, replaces the ballot the voter's pointer names and writes the new one."""
    round_id, budget_id, voter = cast.round_id, cast.budget_id, cast.nullifier
    try:
        async with write_transaction():
            phase = await repo.round_phase(organisation_id, round_id, lock=True)
            if phase != domain.VOTING:
                raise _not_voting(phase)
            current = await repo.current_pointer(round_id, budget_id, voter)
            if current is None:
                await repo.insert_participation(round_id, budget_id, voter, cast.channel, cast.pointer)
            else:
                await _replace(keys, round_id, budget_id, voter, current, cast.pointer)
            await repo.insert_sealed_ballot(round_id, cast.receipt_tag, cast.ciphertext)
    except Conflict as error:
        if _is_second_ballot(error):
            raise _already_voted() from error
        raise


async def _replace(keys: RoundKeys, round_id: int, budget_id: int, voter: str, current: bytes | None,
                   pointer: bytes | None) -> None:
    """Vote revision inside the cast transaction: the sealed ballot the pointer names is deleted,
    its receipt listed as replaced, and the pointer moved to the new ballot (conditionally, so of
    two concurrent revisions one fails instead of both counting)."""
    if current == b"":  # voted on paper, or before revision was possible: nothing to point at
        raise _already_voted()
    old_receipt = keys.unseal(current).decode()
    if not await repo.delete_sealed_ballot(round_id, keys.receipt_tag(old_receipt)):
        raise Conflict("Your previous ballot could not be found in the sealed box; nothing was changed.",
                       code="ballot_box_corrupt")
    await repo.insert_replaced_receipt(round_id, old_receipt)
    if not await repo.move_pointer(round_id, budget_id, voter, current, pointer):
        raise Conflict("Your ballot was replaced by another request at the same moment; try again.",
                       code="revised_concurrently")


@dataclass(frozen=True, slots=True)
class BudgetChoice:
    budget_id: int
    name: str
    voted: bool


async def my_budgets(actor: Actor, census_key: bytes, round_id: int) -> list[BudgetChoice]:
    """The budgets the caller may vote in during this round and whether they already did."""
    voting = await _voting_round(actor, round_id)
    census_entry_id, district = _census_entry_of(voting)
    voted = await repo.participated_budgets(round_id, domain.nullifier(census_key, round_id, census_entry_id))
    return [BudgetChoice(int(b["id"]), b.get("name", ""), int(b["id"]) in voted)
            for b in voting.config["budgets"] if domain.may_vote_in(b, district)]


@dataclass(frozen=True, slots=True)
class ReceiptStatus:
    receipt: str
    status: str
    budget_id: int | None
    content: dict[str, Any] | None


async def look_up_receipt(organisation_id: int, round_id: int, receipt: str, *,
                          round_keys: RoundKeyStore) -> ReceiptStatus:
    """During voting only "received" (found by its tag among the sealed ballots); once the box is
    opened the ballot content too (recorded-as-cast). One statement answers every question."""
    receipt = receipt.lower()
    keys = round_keys.sealing_keys(round_id)  # None once the box is opened: every ballot is public then
    found = await repo.receipt_facts(organisation_id, round_id, receipt,
                                     keys.receipt_tag(receipt) if keys is not None else None)
    if found is None:
        raise NotFound("No such round.")
    if found.phase in domain.AFTER_CLOSE and found.ballot_content is not None:
        return ReceiptStatus(receipt, "received", found.ballot_budget, json.loads(found.ballot_content))
    if found.phase in domain.AFTER_CLOSE | {domain.VOTING} and found.sealed:
        return ReceiptStatus(receipt, "received", None, None)
    if found.replaced:
        return ReceiptStatus(receipt, "replaced", None, None)  # vote revision: a newer ballot counts
    raise NotFound("No ballot with this receipt in this round.", code="unknown_receipt")


# --- the ballot box: keys at voting open, opening at close -----------------------------------------


async def create_ballot_box(round_keys: RoundKeyStore, organisation_id: int, actor_pseudonym: str,
                            round_id: int) -> None:
    """Fresh round keys when voting opens (call inside the transaction that opens voting).

    The audit event publishes the sealing public key, so everyone can later see which box was opened.
    """
    keys = round_keys.create(round_id)
    await audit.record(organisation_id, actor_pseudonym, "ballot_box.created", f"round:{round_id}",
                       {"sealing_public_key": keys.public_key.hex()})


def _opened(keys: RoundKeys, round_id: int, row: repo.SealedRow) -> repo.StoredBallot:
    """One sealed ballot opened and checked: it decrypts, and its receipt has the stored tag."""
    content = domain.unpad(keys.unseal(row.ciphertext))
    receipt = domain.receipt_of(content)
    if keys.receipt_tag(receipt) != row.receipt_tag:
        raise ValueError("a sealed ballot's content does not match its receipt tag")
    budget_id = int(json.loads(content)["budget_id"])
    return repo.StoredBallot(receipt, round_id, budget_id, content)


async def open_ballot_box(round_keys: RoundKeyStore, round_id: int, actor_pseudonym: str = SYSTEM) -> int:
    """Open a closed round's sealed ballots into the public ballot table; returns how many.

    Idempotent and crash-safe, so it is simply run again (at the next close attempt, tally or
    start-up) until it is done:
    1. one transaction (round row locked): decrypt every sealed ballot, insert them in a random
       order, delete the sealed rows, audit event. All or nothing: a ballot is never lost or doubled.
    2. reclaim the space the sealed rows used (VACUUM, WAL truncation).
    3. destroy the round's keys; only now, when no sealed row is left to open.
    """
    found = await repo.round_of(round_id)
    if found is None or found.phase not in domain.AFTER_CLOSE:
        return 0
    opened = 0
    if await repo.sealed_count(round_id):
        keys = round_keys.load(round_id)
        if keys is not None:
            opened = await _open_sealed(keys, found.organisation_id, round_id, actor_pseudonym)
        elif await repo.sealed_count(round_id):  # not merely opened by another worker meanwhile
            raise Conflict("The sealed ballots of this round cannot be opened: the round's keys are missing from "
                           "the secrets folder (restore it from its backup).", code="ballot_box_keys_missing")
    if round_keys.exists(round_id):
        if await repo.sealed_count(round_id):
            raise Conflict("The ballot box was not completely opened.", code="ballot_box_not_opened")
        await repo.reclaim_sealed_space()
        round_keys.destroy(round_id)
    return opened


async def _open_sealed(keys: RoundKeys, organisation_id: int, round_id: int, actor_pseudonym: str) -> int:
    async with write_transaction():
        await repo.round_of(round_id, lock=True)  # one opener at a time; a second finds nothing left
        rows = await repo.sealed_ballots(round_id)
        try:
            ballots = [_opened(keys, round_id, row) for row in rows]
        except (CryptoError, ValueError, KeyError) as error:
            raise Conflict(f"A sealed ballot of this round cannot be opened ({error}); nothing was opened. "
                           "The database or the round's keys were altered.", code="ballot_box_corrupt") from error
        secrets.SystemRandom().shuffle(ballots)
        await repo.publish_ballots(ballots)
        await repo.delete_sealed_ballots(round_id)
        await repo.clear_pointers(round_id)  # vote revision: no sealed voter -> ballot pointer outlives the box
        if ballots:
            counts: dict[str, int] = {}
            for ballot in ballots:
                counts[str(ballot.budget)] = counts.get(str(ballot.budget), 0) + 1
            await audit.record(organisation_id, actor_pseudonym, "ballot_box.opened", f"round:{round_id}",
                               {"ballots": dict(sorted(counts.items()))})
    return len(ballots)


async def open_pending_ballot_boxes(round_keys: RoundKeyStore) -> list[int]:
    """At start-up: finish every opening a crash or a failed close left half done.

    Never stops the server from starting (e.g. on a database not migrated yet): what it cannot
    finish, the tally finishes or refuses with a 409.
    """
    try:
        pending = set(await repo.rounds_with_sealed_ballots()) | set(round_keys.round_ids())
    except Exception:
        log.exception("could not look for unfinished ballot-box openings")
        return []
    finished = []
    for round_id in sorted(pending):
        try:
            found = await repo.round_of(round_id)
            if found is None or found.phase not in domain.AFTER_CLOSE:
                continue
            await open_ballot_box(round_keys, round_id)
            finished.append(round_id)
        except Conflict as error:
            log.error("the ballot box of round %s could not be opened: %s", round_id, error.detail)
        except Exception:
            log.exception("the ballot box of round %s could not be opened", round_id)
    return finished


# --- the bulletin board while voting runs ----------------------------------------------------------


async def received_receipts(round_keys: RoundKeyStore, round_id: int) -> list[str]:
    """The receipts of the sealed ballots of a round that is voting, opened in memory only.

    For the bulletin board's snapshots: the server holds the round keys while voting runs anyway;
    nothing opened here is stored but the sorted receipts the board publishes. Empty once the box
    is opened (the keys are gone; the public ballot table is the board then).
    """
    keys = round_keys.load(round_id)
    if keys is None:
        return []
    return sorted(_opened(keys, round_id, row).receipt for row in await repo.sealed_ballots(round_id))


# --- the ballot pages: what a voter sees before casting ----------------------------------------------


async def _voter_budget(actor: Actor, round_id: int, budget_id: int, checked: repo.VoterCheck | None = None
                        ) -> tuple[VotingRound, Mapping[str, Any], int]:
    """The voting round, the budget and the caller's census entry id, if the caller may vote in it."""
    voting = await _voting_round(actor, round_id, checked)
    budget = _budget_of(voting.config, budget_id)
    census_entry_id, district = _census_entry_of(voting)
    if not domain.may_vote_in(budget, district):
        raise Forbidden("You may vote only in your own district's budget and in city-wide budgets.",
                        code="not_eligible_for_budget")
    return voting, budget, census_entry_id


async def ballot_of_voter(actor: Actor, round_id: int, budget_id: int) -> Mapping[str, Any]:
    """The frozen budget a voter fills in (404/403/409 as casting would refuse it)."""
    return (await _voter_budget(actor, round_id, budget_id))[1]


def check_choices(budget: Mapping[str, Any], project_ids: list[int], points: list[int] | None,
                  rules: domain.BallotRules | None = None) -> None:
    """The review step: the same rule check casting makes (Invalid names the broken constraint)."""
    try:
        domain.check_ballot(budget, project_ids, points, rules)
    except BallotError as error:
        raise _invalid_ballot(error) from error


def _invalid_ballot(error: BallotError) -> Invalid:
    return Invalid(f"Invalid ballot: {error.message}.", code=error.constraint)
