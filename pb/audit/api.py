"""Audit log for officials and auditors: list events and verify the chain."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import Parameter

from pb.accounts.domain import AUDITOR, OFFICIAL, Actor
from pb.accounts.guards import requires_role
from pb.core.inputs import MAX_ID
from pb.audit import service



class AuditEventOut(msgspec.Struct):
    seq: int
    prev_hash: str
    hash: str
    actor: str
    action: str
    subject: str
    payload: str
    occurred_at: str


class VerifyOut(msgspec.Struct):
    ok: bool
    events_checked: int
    head_hash: str
    broken_seq: int | None
    problem: str | None


@get("/api/orgs/{org_id:int}/audit/events", guards=[requires_role(OFFICIAL, AUDITOR)],
     tags=["audit"], summary="Audit events in order (page with after_seq)")
async def list_events(
    actor: NamedDependency[Actor],
    after_seq: Annotated[int, Parameter(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
) -> list[AuditEventOut]:
    events = await service.list_events(actor.organisation_id, after_seq, limit)
    return [AuditEventOut(e.seq, e.prev_hash, e.hash, e.actor, e.action, e.subject, e.payload, e.occurred_at)
            for e in events]


@get("/api/orgs/{org_id:int}/audit/verify", guards=[requires_role(OFFICIAL, AUDITOR)],
     tags=["audit"], summary="Recompute the hash chain and report the first broken event")
async def verify(actor: NamedDependency[Actor]) -> VerifyOut:
    verdict = await service.verify(actor.organisation_id)
    return VerifyOut(verdict.ok, verdict.events_checked, verdict.head_hash, verdict.broken_seq, verdict.problem)


ROUTES = [list_events, verify]
