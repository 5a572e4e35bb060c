"""The public bulletin board of a round: what was received and what is counted, with proofs.

After close it shows every budget's ballots (content and receipt, sorted by receipt) with their
Merkle root; for any receipt an inclusion proof a voter can check offline with
``pb verify receipt RECEIPT --proof proof.json``. Reads the public ballots through pb.voting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pb.board.schemas import ReceiptProof
from pb.core.errors import Conflict, NotFound
from pb.record import spec
from pb.rounds import repo as rounds_repo
from pb.voting import repo as voting_repo

AFTER_CLOSE = frozenset({"closed", "tallied", "published", "funding", "completed"})
PAGE_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class BudgetBoard:
    budget_id: int
    ballots: int
    merkle_root: str


@dataclass(frozen=True, slots=True)
class Board:
    round_id: int
    phase: str
    budgets: list[BudgetBoard]


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


async def board(organisation_id: int, round_id: int) -> Board:
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
    raise NotFound("No counted ballot has this receipt in this round. Keep your receipt and the round's "
                   "election record: together they show your ballot is missing.", code="unknown_receipt")
