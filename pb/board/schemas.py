"""What the board returns for a receipt: the proof format `pb verify receipt --proof` reads."""

from __future__ import annotations

from typing import Any

import msgspec


class ReceiptProof(msgspec.Struct):
    """Save this as JSON and check it offline: ``pb verify receipt RECEIPT --proof FILE``."""

    receipt: str
    status: str  # "received" (voting runs), "counted" (after close) or "replaced" (revised by the voter)
    budget_id: int | None  # after close
    content: dict[str, Any] | None  # after close
    index: int  # position among the tree's receipts in ascending order (-1: not in the tree)
    size: int  # how many receipts the tree has
    path: list[str]  # sibling hashes from the leaf up
    root: str  # after close the budget's Merkle root (also in the election record); during voting the
    #            snapshot's root (also in its board.published audit event)
    snapshot: int | None = None  # during voting: the number of the snapshot the proof is for
