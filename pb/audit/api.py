"""Audit log for officials and auditors: list events and verify the chain."""

from __future__ import annotations

import json
from typing import Annotated, Any

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from pb.accounts.domain import AUDITOR, OFFICIAL, Actor
from pb.accounts.guards import requires_role
from pb.core.inputs import MAX_ID
from pb.audit import service
from pb.core.fields import Sha256Hex, doc



class AuditEventOut(msgspec.Struct):
    seq: Annotated[int, doc("Position in the organisation's chain: 1, 2, 3, …")]
    prev_hash: Annotated[Sha256Hex, doc("The previous event's hash (64 zeros for the first event).")]
    hash: Annotated[Sha256Hex, doc(
        "SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of {organisation_id, seq, prev_hash, actor, "
        "action, subject, payload, occurred_at}, where payload is the canonical JSON text of the payload object.")]
    actor: Annotated[str, doc("Who acted, as a pseudonym (no personal data).", "user:7")]
    action: Annotated[str, doc("What was done.", "round.phase_changed")]
    subject: Annotated[str, doc("What it was done to.", "round:2")]
    payload: Annotated[Any, doc("The event's details as a JSON object (no personal data).",
                                {"from": "review", "to": "voting"})]
    occurred_at: Annotated[str, doc("When, in UTC, ISO 8601, exactly as hashed.", "2026-05-01T09:00:00.000000Z")]


class VerifyOut(msgspec.Struct):
    ok: Annotated[bool, doc("Every event's hash recomputes and links to the previous one.")]
    events_checked: int
    head_hash: Annotated[Sha256Hex, doc("The hash of the last event checked: publish it to pin the chain.")]
    broken_seq: Annotated[int, doc("The first event that does not verify; null when ok.")] | None
    problem: str | None


@get("/api/orgs/{org_id:int}/audit/events", guards=[requires_role(OFFICIAL, AUDITOR)],
     tags=["audit"], summary="Audit events in order (page with after_seq)")
async def list_events(
    actor: NamedDependency[Actor],
    after_seq: Annotated[int, Parameter(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
) -> list[AuditEventOut]:
    events = await service.list_events(actor.organisation_id, after_seq, limit)
    return [AuditEventOut(e.seq, e.prev_hash, e.hash, e.actor, e.action, e.subject, json.loads(e.payload),
                          e.occurred_at)
            for e in events]


@get("/api/orgs/{org_id:int}/audit/verify", guards=[requires_role(OFFICIAL, AUDITOR)],
     tags=["audit"], summary="Recompute the hash chain and report the first broken event")
async def verify(actor: NamedDependency[Actor]) -> VerifyOut:
    verdict = await service.verify(actor.organisation_id)
    return VerifyOut(verdict.ok, verdict.events_checked, verdict.head_hash, verdict.broken_seq, verdict.problem)


class CheckpointOut(msgspec.Struct):
    organisation_id: int
    seq: int
    hash: Annotated[Sha256Hex, doc("Hash of the chain's head event at seq.")]
    signed_at: str
    public_key: str  # raw Ed25519 public key (hex) that signed it
    signature: str  # Ed25519 signature (hex) of the canonical JSON {organisation_id, seq, hash, signed_at}


@get("/api/orgs/{org_id:int}/audit/checkpoints", opt={"public": True}, tags=["audit"],
     summary="Signed heads of the organisation's audit chain (public): keep them to detect deletions later")
async def list_checkpoints(org_id: FromPath[int]) -> list[CheckpointOut]:
    return [CheckpointOut(c.organisation_id, c.seq, c.hash, c.signed_at, c.public_key, c.signature)
            for c in await service.checkpoints(org_id)]


ROUTES = [list_events, verify, list_checkpoints]
