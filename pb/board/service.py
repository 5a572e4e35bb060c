"""The public bulletin board of a round: what was received and what is counted, with proofs.

While voting runs it shows snapshots of the received receipts (no contents) with their Merkle
root. A snapshot is published only once at least MIN_BATCH new ballots arrived since the last
one, sorted by receipt, in its own transaction and with an audit event (so a signed checkpoint
covers its root): its order says nothing and its timing narrows a receipt down to a batch of at
least MIN_BATCH voters, never to one person. After close it shows every budget's ballots (content
and receipt, sorted by receipt) with their Merkle root. For any receipt there is an inclusion proof
a voter can check offline with ``pb verify receipt RECEIPT --proof proof.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pb.audit import service as audit
from pb.audit.service import TIME_FORMAT
from pb.board import repo
from pb.board.schemas import ReceiptProof
from pb.core.clock import utcnow
from pb.db import write_transaction
from pb.core.errors import Conflict, NotFound
from pb.record import spec
from pb.rounds import repo as rounds_repo
from pb.voting import repo as voting_repo

AFTER_CLOSE = frozenset({"closed", "tallied", "published", "funding", "completed"})
PAGE_LIMIT = 1000
MIN_BATCH = 10  # a snapshot adds at least this many receipts: the smallest crowd a receipt hides in


@dataclass(frozen=True, slots=True)
class BudgetBoard:
    budget_id: int
    ballots: int
    merkle_root: str


@dataclass(frozen=True, slots=True)
class Board:
    round_id: int
    phase: str
    budgets: list[BudgetBoard]  # after close
    snapshot: "repo.Snapshot | None" = None  # while voting runs: the latest published snapshot


async def _closed_round(organisation_id: int, round_id: int) -> tuple[str, dict]:
    found = await rounds_repo.get_round(organisation_id, round_id)
    if found is None or found.phase == "draft":
        raise NotFound("No such round in this organisation.")
    config = await rounds_repo.frozen_config(round_id)
    if config is None:
        raise NotFound("This round has not opened voting yet: its board is empty.", code="board_empty")
    if found.phase not in AFTER_CLOSE:
        raise Conflict("Ballot contents are shown once voting has closed; during voting look your receipt up.",
                       code="board_not_closed")
    return found.phase, config


async def board(organisation_id: int, round_id: int, round_keys=None) -> Board:
    found = await rounds_repo.get_round(organisation_id, round_id)
    if found is not None and found.phase == "voting":
        if round_keys is not None:
            await refresh_snapshot(round_keys, organisation_id, round_id)
        return Board(round_id, found.phase, [], await repo.latest(round_id))
    phase, config = await _closed_round(organisation_id, round_id)
    budgets = []
    for budget in config["budgets"]:
        receipts = [b.receipt for b in await voting_repo.ballots_of_budget(round_id, int(budget["id"]))]
        budgets.append(BudgetBoard(int(budget["id"]), len(receipts), spec.merkle_root(receipts)))
    return Board(round_id, phase, budgets)


async def ballots_page(organisation_id: int, round_id: int, budget_id: int, after: str, limit: int) -> list:
    """One page of a budget's ballots in receipt order, after the receipt ``after``."""
    _, config = await _closed_round(organisation_id, round_id)
    if budget_id not in {int(b["id"]) for b in config["budgets"]}:
        raise NotFound("This budget is not part of the round.")
    ballots = await voting_repo.ballots_of_budget(round_id, budget_id)
    return [(b.receipt, json.loads(b.content)) for b in ballots if b.receipt > after][:limit]


async def receipt_proof(organisation_id: int, round_id: int, receipt: str) -> ReceiptProof:
    """The ballot of a receipt and its inclusion proof under its budget's Merkle root."""
    _, config = await _closed_round(organisation_id, round_id)
    receipt = receipt.strip().lower()
    for budget in config["budgets"]:
        ballots = await voting_repo.ballots_of_budget(round_id, int(budget["id"]))
        receipts = [b.receipt for b in ballots]
        if receipt in receipts:
            index, path = spec.inclusion_proof(receipts, receipt)
            content = json.loads(ballots[receipts.index(receipt)].content)
            return ReceiptProof(receipt, "counted", int(budget["id"]), content, index, len(receipts), path,
                                spec.merkle_root(receipts))
    if receipt in await voting_repo.replaced_receipts(round_id):
        return ReceiptProof(receipt, "replaced", None, None, -1, 0, [], "")
    raise NotFound("No counted ballot has this receipt in this round. Keep your receipt and the round's "
                   "election record: together they show your ballot is missing.", code="unknown_receipt")


# --- while voting runs: snapshots of the received receipts ---------------------------------------


async def publish_snapshot(organisation_id: int, round_id: int, received: list[str], replaced: list[str], *,
                           force: bool = False) -> repo.Snapshot | None:
    """Publish the received receipts if at least MIN_BATCH are new (``force``: at close, any number).

    ``received`` are the receipts of the ballots that count now, ``replaced`` those a voter
    replaced (vote revision); both come from the sealed ballot box and are published sorted.
    """
    last = await repo.latest(round_id)
    grown = len(received) + len(replaced) - ((last.ballots + len(last.replaced_list)) if last else 0)
    if grown <= 0 or (grown < MIN_BATCH and not force):
        return None
    receipts = sorted(received)
    snapshot = repo.Snapshot(round_id, (last.number if last else 0) + 1, len(receipts), spec.merkle_root(receipts),
                             "\n".join(receipts), "\n".join(sorted(replaced)), utcnow().strftime(TIME_FORMAT))
    try:
        async with write_transaction():
            await repo.insert(snapshot)
            await audit.record(organisation_id, "system", "board.published", f"round:{round_id}",
                               {"snapshot": snapshot.number, "ballots": snapshot.ballots,
                                "merkle_root": snapshot.merkle_root, "replaced": len(replaced)})
    except Conflict:  # another worker published this number first: its snapshot stands
        return None
    return snapshot


async def refresh_snapshot(round_keys, organisation_id: int, round_id: int) -> repo.Snapshot | None:
    """Publish a snapshot of a voting round's received receipts if a batch has arrived.

    Run when someone reads the board and by the hourly job; cheap when nothing new arrived.
    """
    from pb.voting import service as voting

    found = await rounds_repo.get_round(organisation_id, round_id)
    if found is None or found.phase != "voting":
        return None
    received = await voting.received_receipts(round_keys, round_id)
    replaced = await voting_repo.replaced_receipts(round_id)
    return await publish_snapshot(organisation_id, round_id, received, replaced)


async def refresh_all_snapshots(round_keys) -> int:
    """The hourly job's share: a snapshot for every voting round that received a batch."""
    published = 0
    for organisation_id, round_id in await rounds_repo.rounds_in_phase("voting"):
        published += await refresh_snapshot(round_keys, organisation_id, round_id) is not None
    return published


def snapshot_proof(snapshot: repo.Snapshot, receipt: str) -> ReceiptProof | None:
    receipts = snapshot.receipt_list
    if receipt in snapshot.replaced_list:
        return ReceiptProof(receipt, "replaced", None, None, -1, len(receipts), [], snapshot.merkle_root,
                            snapshot.number)
    if receipt not in receipts:
        return None
    index, path = spec.inclusion_proof(receipts, receipt)
    return ReceiptProof(receipt, "received", None, None, index, len(receipts), path, snapshot.merkle_root,
                        snapshot.number)


async def receipt_status(organisation_id: int, round_id: int, receipt: str) -> ReceiptProof:
    """What the board says about a receipt: counted (after close), or received / replaced in the
    latest snapshot while voting runs; NotFound if the board does not hold it."""
    found = await rounds_repo.get_round(organisation_id, round_id)
    if found is not None and found.phase == "voting":
        snapshot = await repo.latest(round_id)
        proof = snapshot_proof(snapshot, receipt) if snapshot else None
        if proof is None:
            raise NotFound("This receipt is not on the board yet. The board is updated once at least "
                           f"{MIN_BATCH} new ballots have arrived; look again later.", code="not_on_board_yet")
        return proof
    return await receipt_proof(organisation_id, round_id, receipt)
