"""Paper entries awaiting confirmation."""

from __future__ import annotations

import msgspec

from pb.paper.tables import PaperEntry


class EntryRow(msgspec.Struct):
    id: int
    budget: int
    sheet: str
    station: str
    entered_by: int
    status: str
    sealed: bytes


_COLUMNS = (PaperEntry.id, PaperEntry.budget, PaperEntry.sheet, PaperEntry.station, PaperEntry.entered_by,
            PaperEntry.status, PaperEntry.sealed)


def _row(row: dict) -> EntryRow:
    return EntryRow(**{**row, "sealed": bytes(row["sealed"])})


async def entries_of_sheet(round_id: int, budget_id: int, sheet: str) -> list[EntryRow]:
    rows = await PaperEntry.select(*_COLUMNS).where(
        (PaperEntry.round == round_id) & (PaperEntry.budget == budget_id) & (PaperEntry.sheet == sheet)
    ).order_by(PaperEntry.id)
    return [_row(row) for row in rows]


async def unconfirmed(round_id: int) -> list[EntryRow]:
    rows = await PaperEntry.select(*_COLUMNS).where(PaperEntry.round == round_id).order_by(
        PaperEntry.budget, PaperEntry.sheet, PaperEntry.id)
    return [_row(row) for row in rows]


async def insert(round_id: int, budget_id: int, sheet: str, station: str, entered_by: int, status: str,
                 sealed: bytes) -> None:
    await PaperEntry.insert(PaperEntry(round=round_id, budget=budget_id, sheet=sheet, station=station,
                                       entered_by=entered_by, status=status, sealed=sealed))


async def mark(round_id: int, budget_id: int, sheet: str, status: str) -> None:
    await PaperEntry.update({PaperEntry.status: status}).where(
        (PaperEntry.round == round_id) & (PaperEntry.budget == budget_id) & (PaperEntry.sheet == sheet))


async def delete_sheet(round_id: int, budget_id: int, sheet: str) -> int:
    rows = await PaperEntry.delete().where(
        (PaperEntry.round == round_id) & (PaperEntry.budget == budget_id) & (PaperEntry.sheet == sheet)
    ).returning(PaperEntry.id)
    return len(rows)
