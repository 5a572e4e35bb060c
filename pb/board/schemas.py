"""What the board returns for a receipt: the proof format `pb verify receipt --proof` reads."""

from __future__ import annotations

from typing import Any

import msgspec


class ReceiptProof(msgspec.Struct):
    """Save this as JSON and check it offline: ``pb verify receipt RECEIPT --proof FILE``."""

    receipt: str
    status: str  # "counted" after close
    budget_id: int
    content: dict[str, Any]
    index: int  # position among the budget's receipts in ascending order
    size: int  # how many receipts the budget's tree has
    path: list[str]  # sibling hashes from the leaf up
    root: str  # the budget's Merkle root (also in the election record)
