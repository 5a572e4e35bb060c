"""Results use cases: tally a closed round, publish, read, and verify by recomputing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

import anyio.to_thread

from pb.accounts.domain import Actor
from pb.audit import service as audit
from pb.core.canonical import canonical_json, sha256_hex
from pb.core.errors import Conflict, NotFound
from pb.core.keyring import load_lottery_seed
from pb.core.keyring import RoundKeyStore
from pb.db import write_transaction
from pb.record import spec
from pb.proposals import repo as proposals_repo
from pb.results import domain, repo
from pb.rounds import repo as rounds_repo
from pb.voting import domain as voting_domain
from pb.voting import repo as voting_repo
from pb.voting import service as voting

CLOSED, TALLIED, PUBLISHED = "closed", "tallied", "published"


@dataclass(frozen=True, slots=True)
class RoundResults:
    round_id: int
    phase: str
    budgets: list[dict[str, Any]]  # result documents, by budget id
    hashes: dict[int, str]


async def _round_phase(organisation_id: int, round_id: int) -> str:
    found = await rounds_repo.get_round(organisation_id, round_id)
    if found is None:
        raise NotFound("No such round.")
    return found.phase


async def _config(round_id: int) -> Mapping[str, Any]:
    config = await rounds_repo.frozen_config(round_id)
    if config is None:
        raise Conflict("This round never opened voting, so it has nothing to tally.", code="not_frozen")
    return config


def _lottery_seed(config: Mapping[str, Any]) -> str | None:
    """The seed committed at voting open (kept in the secrets folder), for a tie-break lottery."""
    if not spec.uses_lottery(config):
        return None
    seed = load_lottery_seed(int(config["organisation_id"]), int(config["round_id"]))
    if seed is None or spec.lottery_commitment(seed) != config["tally"].get("lottery_commitment"):
        raise Conflict("The lottery seed committed at voting open is missing from the secrets folder or does not "
                       "match its commitment; restore it from the backup before tallying.", code="lottery_seed_missing")
    return seed


async def _compute(config: Mapping[str, Any], round_id: int) -> list[dict[str, Any]]:
    """Every budget's result from the stored ballots (sorted by receipt); the rules run off the loop."""
    seed = _lottery_seed(config)
    inputs = []
    for budget in config["budgets"]:
        ballots = await voting_repo.ballots_of_budget(round_id, int(budget["id"]))
        inputs.append((budget, [b.content for b in ballots], [b.receipt for b in ballots]))

    def run() -> list[dict[str, Any]]:
        return [domain.tally_budget(config, budget, contents, receipts, seed) for budget, contents, receipts in inputs]

    try:
        return await anyio.to_thread.run_sync(run)
    except ValueError as error:  # the engine refuses settings it cannot run (e.g. a lottery without seed)
        raise Conflict(f"The frozen tally settings cannot be run: {error}.", code="tally_settings_invalid") from error


async def tally_round(actor: Actor, round_id: int, *, round_keys: RoundKeyStore) -> RoundResults:
    """closed -> tallied: store each budget's result, settle proposals, log the result hashes.

    Ballots cannot change once the round is closed, so the (possibly long) computation runs before
    the write transaction; the conditional phase change inside it makes a concurrent second tally
    fail with 409 instead of storing twice. A ballot box whose opening was interrupted is opened
    first; if it cannot be, the tally is refused (409) rather than run on part of the ballots.
    """
    phase = await _round_phase(actor.organisation_id, round_id)
    if phase != CLOSED:
        raise Conflict(f"Only a closed round can be tallied (phase: {phase}).", code="not_closed")
    await voting.open_ballot_box(round_keys, round_id, actor.pseudonym)
    if await voting_repo.sealed_count(round_id):
        raise Conflict("Some ballots of this round are still sealed; the tally waits until the ballot box is "
                       "opened.", code="ballot_box_not_opened")
    config = await _config(round_id)
    documents = await _compute(config, round_id)
    hashes = {doc["budget_id"]: domain.result_hash(doc) for doc in documents}
    winners = sorted(pid for doc in documents for pid in doc["winners"])
    async with write_transaction():
        if not await rounds_repo.change_phase(round_id, CLOSED, TALLIED):
            raise Conflict("The round is no longer closed: it was tallied meanwhile.", code="not_closed")
        for doc in documents:
            await repo.insert_run(round_id, doc, hashes[doc["budget_id"]], actor.user_id)
        await proposals_repo.set_status_many(round_id, "on_ballot", "selected", winners)
        await proposals_repo.set_status_many(round_id, "on_ballot", "not_selected")
        revealed = {"lottery_seed": _lottery_seed(config)} if spec.uses_lottery(config) else {}
        await audit.record(actor.organisation_id, actor.pseudonym, "results.tallied", f"round:{round_id}", {
            "config_hash": sha256_hex(canonical_json(dict(config))),
            "result_hashes": {str(budget_id): digest for budget_id, digest in sorted(hashes.items())},
            **revealed,
        })
        await audit.sign_head(actor.organisation_id)
    return RoundResults(round_id, TALLIED, documents, hashes)


async def publish(actor: Actor, round_id: int) -> RoundResults:
    """tallied -> published: from now on everyone can read the results."""
    await _round_phase(actor.organisation_id, round_id)
    stored = await repo.runs(round_id)
    async with write_transaction():
        if not await rounds_repo.change_phase(round_id, TALLIED, PUBLISHED):
            raise Conflict("Only a tallied round can be published.", code="not_tallied")
        await audit.record(actor.organisation_id, actor.pseudonym, "results.published", f"round:{round_id}", {
            "result_hashes": {str(run.budget_id): run.result_hash for run in stored},
        })
        await audit.sign_head(actor.organisation_id)
    return _results(round_id, PUBLISHED, stored)


def _results(round_id: int, phase: str, stored: list[repo.StoredRun]) -> RoundResults:
    return RoundResults(round_id, phase, [json.loads(run.result) for run in stored],
                        {run.budget_id: run.result_hash for run in stored})


async def results(organisation_id: int, round_id: int, *, staff: bool) -> RoundResults:
    """Staff (officials, auditors) see results from the tally on; everyone else once published."""
    phase = await _round_phase(organisation_id, round_id)
    visible = domain.STAFF_VISIBLE if staff else domain.PUBLIC_VISIBLE
    if phase not in visible:
        raise NotFound("The results of this round are not published yet." if not staff
                       else f"This round has not been tallied yet (phase: {phase}).", code="no_results_yet")
    return _results(round_id, phase, await repo.runs(round_id))


@dataclass(frozen=True, slots=True)
class BudgetCheck:
    budget_id: int
    stored_hash: str | None
    recomputed_hash: str
    ballots: int
    participations: int
    receipts_intact: bool

    @property
    def ok(self) -> bool:
        return (self.stored_hash == self.recomputed_hash and self.receipts_intact
                and self.ballots == self.participations)


async def verify(actor: Actor, round_id: int) -> list[BudgetCheck]:
    """Recompute every budget's result from the stored ballots and compare with what was stored.

    Also checks each ballot's receipt against its content and that ballots and participation rows
    balance per budget (no ballot added or lost).
    """
    phase = await _round_phase(actor.organisation_id, round_id)
    if phase not in domain.STAFF_VISIBLE:
        raise Conflict(f"Only a tallied round can be verified (phase: {phase}).", code="not_tallied")
    config = await _config(round_id)
    stored = {run.budget_id: run.result_hash for run in await repo.runs(round_id)}
    checks = []
    for document in await _compute(config, round_id):
        budget_id = document["budget_id"]
        ballots = await voting_repo.ballots_of_budget(round_id, budget_id)
        checks.append(BudgetCheck(
            budget_id=budget_id,
            stored_hash=stored.get(budget_id),
            recomputed_hash=domain.result_hash(document),
            ballots=len(ballots),
            participations=await voting_repo.participation_count(round_id, budget_id),
            receipts_intact=all(voting_domain.receipt_of(b.content) == b.receipt for b in ballots),
        ))
    return checks
