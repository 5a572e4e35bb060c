"""Writing and verifying the audit chain.

``record`` must be called inside the same write transaction as the act it records, so an act and
its audit event are committed together or not at all.
"""

from __future__ import annotations

from typing import Any

from pb.audit import repo
from pb.audit.domain import GENESIS_HASH, ChainEvent, ChainVerdict, event_hash, verify_chain
from pb.core.canonical import canonical_json
from pb.core.clock import utcnow


async def record(
    organisation_id: int, actor: str, action: str, subject: str, payload: dict[str, Any] | None = None
) -> ChainEvent:
    """Append one event to the organisation's chain (call inside ``write_transaction``)."""
    await repo.lock_chain(organisation_id)
    head = await repo.chain_head(organisation_id)
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    payload_json = canonical_json(payload or {})
    occurred_at = utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    digest = event_hash(
        organisation_id=organisation_id, seq=seq, prev_hash=prev_hash, actor=actor, action=action,
        subject=subject, payload=payload_json, occurred_at=occurred_at,
    )
    event = ChainEvent(organisation_id, seq, prev_hash, digest, actor, action, subject, payload_json, occurred_at)
    await repo.insert_event(event)
    return event


async def verify(organisation_id: int) -> ChainVerdict:
    return verify_chain(await repo.list_events(organisation_id))


async def verify_all() -> dict[int, ChainVerdict]:
    return {org: await verify(org) for org in await repo.organisations_with_events()}


async def list_events(organisation_id: int, after_seq: int = 0, limit: int = 100) -> list[ChainEvent]:
    return await repo.list_events(organisation_id, after_seq=after_seq, limit=limit)
