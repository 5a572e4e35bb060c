"""Board snapshots: the receipts received so far in a round, published in batches while voting runs."""

from piccolo.columns import Integer, Text, Varchar
from piccolo.table import Table


class BoardSnapshot(Table):
    """One publication of a round's received receipts (sorted; no content, no time per ballot).

    Written only when at least ``pb.board.service.MIN_BATCH`` new ballots arrived since the last
    one, in its own transaction, so neither its order nor its timing narrows which voter cast which
    receipt below a batch (docs/election-record.md, "Bulletin board").
    """

    round = Integer(index=True)
    number = Integer()  # 1, 2, 3… per round
    ballots = Integer()
    merkle_root = Varchar(length=64)
    receipts = Text()  # sorted receipts joined by "\n"
    replaced = Text(default="")  # sorted receipts of replaced ballots joined by "\n" (vote revision)
    published_at = Varchar(length=40)  # ISO 8601 UTC
    # UNIQUE(round, number): pb_0008_verifiable_rounds
