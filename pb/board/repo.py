"""Stored board snapshots."""

from __future__ import annotations

import msgspec

from pb.board.tables import BoardSnapshot


class Snapshot(msgspec.Struct):
    round: int
    number: int
    ballots: int
    merkle_root: str
    receipts: str
    replaced: str
    published_at: str

    @property
    def receipt_list(self) -> list[str]:
        return self.receipts.split("\n") if self.receipts else []

    @property
    def replaced_list(self) -> list[str]:
        return self.replaced.split("\n") if self.replaced else []


async def latest(round_id: int) -> Snapshot | None:
    row = await BoardSnapshot.select(
        BoardSnapshot.round, BoardSnapshot.number, BoardSnapshot.ballots, BoardSnapshot.merkle_root,
        BoardSnapshot.receipts, BoardSnapshot.replaced, BoardSnapshot.published_at,
    ).where(BoardSnapshot.round == round_id).order_by(BoardSnapshot.number, ascending=False).first()
    return msgspec.convert(row, Snapshot) if row else None


async def insert(snapshot: Snapshot) -> None:
    """Fails on UNIQUE(round, number) if a concurrent publication took the number first."""
    await BoardSnapshot.insert(BoardSnapshot(
        round=snapshot.round, number=snapshot.number, ballots=snapshot.ballots, merkle_root=snapshot.merkle_root,
        receipts=snapshot.receipts, replaced=snapshot.replaced, published_at=snapshot.published_at,
    ))
