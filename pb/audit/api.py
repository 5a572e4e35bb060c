"""Audit log for officials and auditors: list events and verify the chain."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from pb.accounts.domain import AUDITOR, OFFICIAL, Actor
from pb.accounts.guards import requires_role
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
    after_seq: Annotated[int, Parameter(ge=0)] = 0,
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


class CheckpointOut(msgspec.Struct):
    organisation_id: int
    seq: int
    hash: str
    signed_at: str
    public_key: str  # raw Ed25519 public key (hex) that signed it
    signature: str  # Ed25519 signature (hex) of the canonical JSON {organisation_id, seq, hash, signed_at}


@get("/api/orgs/{org_id:int}/audit/checkpoints", opt={"public": True}, tags=["audit"],
     summary="Signed heads of the organisation's audit chain (public): keep them to detect deletions later")
async def list_checkpoints(org_id: FromPath[int]) -> list[CheckpointOut]:
    return [CheckpointOut(c.organisation_id, c.seq, c.hash, c.signed_at, c.public_key, c.signature)
            for c in await service.checkpoints(org_id)]


ROUTES = [list_events, verify, list_checkpoints]
