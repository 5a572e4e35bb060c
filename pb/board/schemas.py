"""What the board returns for a receipt: the proof format `pb verify receipt --proof` reads."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from pb.core.fields import Sha256Hex, choices, doc


class ReceiptProof(msgspec.Struct):
    """Save this as JSON and check it offline: ``pb verify receipt RECEIPT --proof FILE``."""

    receipt: Annotated[Sha256Hex, doc("The receipt the proof is for.")]
    status: Annotated[str, doc(choices("What the board says of the receipt.", {
        "received": "the ballot is in the box (voting still runs)",
        "counted": "the ballot was published at close and counted",
        "replaced": "the voter replaced this ballot by a later one (revision); the later one counts",
    }), "counted")]
    budget_id: int | None  # after close
    content: Annotated[dict[str, Any], doc("The ballot's canonical content (after close): projects, "
                                           "points or ranking, nonce.")] | None
    index: int  # position among the tree's receipts in ascending order (-1: not in the tree)
    size: int  # how many receipts the tree has
    path: list[str]  # sibling hashes from the leaf up
    root: str  # after close the budget's Merkle root (also in the election record); during voting the
    #            snapshot's root (also in its board.published audit event)
    snapshot: int | None = None  # during voting: the number of the snapshot the proof is for
