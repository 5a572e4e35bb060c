"""Stored sandbox elections (imported .pb files)."""

from __future__ import annotations

import msgspec

from pb.sandbox.tables import SandboxElection


class SandboxRow(msgspec.Struct):
    id: int
    organisation_id: int
    title: str
    projects: int
    voters: int
    created_at: str


_COLUMNS = (SandboxElection.id, SandboxElection.organisation_id, SandboxElection.title, SandboxElection.projects,
            SandboxElection.voters, SandboxElection.created_at)


async def insert(organisation_id: int, title: str, pb_text: str, projects: int, voters: int, created_by: int,
                 created_at: str) -> int:
    rows = await SandboxElection.insert(SandboxElection(
        organisation_id=organisation_id, title=title, pb_text=pb_text, projects=projects, voters=voters,
        created_by=created_by, created_at=created_at,
    )).returning(SandboxElection.id)
    return rows[0]["id"]


async def list_for(organisation_id: int) -> list[SandboxRow]:
    rows = await SandboxElection.select(*_COLUMNS).where(
        SandboxElection.organisation_id == organisation_id).order_by(SandboxElection.id)
    return [msgspec.convert(row, SandboxRow) for row in rows]


async def pb_text(organisation_id: int, election_id: int) -> tuple[SandboxRow, str] | None:
    row = await SandboxElection.select(*_COLUMNS, SandboxElection.pb_text).where(
        (SandboxElection.organisation_id == organisation_id) & (SandboxElection.id == election_id)).first()
    if row is None:
        return None
    text = row.pop("pb_text")
    return msgspec.convert(row, SandboxRow), text
