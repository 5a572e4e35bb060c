"""Export a published round's election record (the files of docs/election-record.md, as a zip).

Reads each context through its named functions: the frozen config (rounds), the public ballots
and participation counts (voting), the stored results (results), the audit chain and its
checkpoints (audit). Nothing here is computed differently from the tally: hashes, roots and the
result documents come from ``pb.record.spec``.
"""

from __future__ import annotations

import json
from typing import Any

from pb.audit import repo as audit_repo
from pb.audit import service as audit
from pb.core.errors import Conflict, NotFound
from pb.proposals import repo as proposals_repo
from pb.record import format as fmt
from pb.record import spec
from pb.results import repo as results_repo
from pb.rounds import repo as rounds_repo
from pb.voting import repo as voting_repo

PUBLISHED_PHASES = frozenset({"published", "funding", "completed"})


def _event_row(event, full: bool) -> dict[str, Any]:
    """A full event, or only its links (seq, prev_hash, hash) when it concerns no part of this round."""
    if not full:
        return {"seq": event.seq, "prev_hash": event.prev_hash, "hash": event.hash}
    return {"organisation_id": event.organisation_id, "seq": event.seq, "prev_hash": event.prev_hash,
            "hash": event.hash, "actor": event.actor, "action": event.action, "subject": event.subject,
            "payload": event.payload, "occurred_at": event.occurred_at}


async def _published_round(organisation_id: int, round_id: int):
    """The round, if its results are published: records and ballot exports are public from then on."""
    found = await rounds_repo.get_round(organisation_id, round_id)
    if found is None or found.phase == "draft":
        raise NotFound("No such round in this organisation.")
    if found.phase not in PUBLISHED_PHASES:
        raise Conflict(f"A round's record and ballots are available once its results are published "
                       f"(phase: {found.phase}).", code="not_published")
    return found


async def export_record(organisation_id: int, round_id: int) -> bytes:
    """The record of a published round; byte-identical every time it is exported.

    The audit log is cut at the round's ``results.published`` event and holds the checkpoints up
    to there, so later activity of the organisation does not change the record.
    """
    found = await _published_round(organisation_id, round_id)
    config = await rounds_repo.frozen_config(round_id)
    events = await audit_repo.list_events(organisation_id)
    subject = f"round:{round_id}"
    published = next((e for e in events if e.action == "results.published" and e.subject == subject), None)
    if config is None or published is None:
        raise Conflict("This round has no frozen configuration or no publication event.", code="not_published")
    events = [e for e in events if e.seq <= published.seq]
    ours = {subject, *(f"budget:{b['id']}" for b in config["budgets"]),
            *(f"proposal:{p.id}" for p in await proposals_repo.list_proposals(round_id))}
    tallied = next((e for e in events if e.action == "results.tallied" and e.subject == subject), None)
    revealed = json.loads(tallied.payload).get("lottery_seed") if tallied else None

    participation = await voting_repo.participation_by_channel(round_id)
    files: dict[str, bytes] = {}
    budgets = []
    for budget in config["budgets"]:
        budget_id = int(budget["id"])
        ballots = await voting_repo.ballots_of_budget(round_id, budget_id)
        receipts = [b.receipt for b in ballots]
        files[fmt.ballots_file(budget_id)] = fmt.ballot_lines((b.receipt, b.content) for b in ballots)
        budgets.append({
            "budget_id": budget_id, "ballots": len(receipts),
            "ballots_digest": spec.ballots_digest(receipts), "merkle_root": spec.merkle_root(receipts),
            "participation": {"online": 0, "paper": 0, **participation.get(budget_id, {})},
        })
    files[fmt.ROUND] = fmt.json_bytes({
        "organisation_id": organisation_id, "round_id": round_id, "title": found.title,
        "config_hash": spec.sha256_hex(spec.canonical_json(config)),
        "audit_head": {"seq": published.seq, "hash": published.hash}, "budgets": budgets,
    })
    files[fmt.CONFIG] = fmt.json_bytes(config)
    files[fmt.RESULTS] = fmt.json_bytes([json.loads(run.result) for run in await results_repo.runs(round_id)])
    files[fmt.LOTTERY] = fmt.json_bytes(
        {"commitment": config["tally"].get("lottery_commitment"), "seed": revealed} if spec.uses_lottery(config)
        else {})
    files[fmt.AUDIT] = fmt.jsonl([_event_row(e, e.subject in ours) for e in events])
    checkpoints = await audit.checkpoints(organisation_id, up_to_seq=published.seq)
    files[fmt.CHECKPOINTS] = fmt.json_bytes({"checkpoints": [
        {"organisation_id": c.organisation_id, "seq": c.seq, "hash": c.hash, "signed_at": c.signed_at,
         "public_key": c.public_key, "signature": c.signature} for c in checkpoints]})
    return fmt.write_record(files)


async def budget_as_pabulib(organisation_id: int, round_id: int, budget_id: int) -> str:
    """One budget's ballots as a ``.pb`` file, once the round's results are published."""
    from pb.record.pabulib import budget_to_pb

    await _published_round(organisation_id, round_id)
    config = await rounds_repo.frozen_config(round_id) or {"budgets": []}
    budget = next((b for b in config["budgets"] if int(b["id"]) == budget_id), None)
    if budget is None:
        raise NotFound("This budget is not part of the round.")
    ballots = await voting_repo.ballots_of_budget(round_id, budget_id)
    return budget_to_pb(config, budget, [b.content for b in ballots])
