"""Audit rows in and out. Appends serialise per organisation so the chain never forks."""

from __future__ import annotations

from pb.audit.domain import ChainEvent, Checkpoint
from pb.audit.tables import AuditCheckpoint, AuditEvent
from pb.db import is_postgres

ADVISORY_LOCK_NAMESPACE = 7201  # any constant: names the "audit chain" lock class


async def lock_chain(organisation_id: int) -> None:
    """Serialise appends to one chain until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the write transaction is already
    ``BEGIN IMMEDIATE``, so writers are serialised by the database lock.
    """
    if is_postgres():
        await AuditEvent.raw("SELECT pg_advisory_xact_lock({}, {})", ADVISORY_LOCK_NAMESPACE, organisation_id)


async def chain_head(organisation_id: int) -> tuple[int, str] | None:
    row = await (
        AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.organisation_id == organisation_id)
        .order_by(AuditEvent.seq, ascending=False)
        .first()
    )
    return (row["seq"], row["hash"]) if row else None


async def insert_event(event: ChainEvent) -> None:
    await AuditEvent.insert(
        AuditEvent(
            organisation_id=event.organisation_id, seq=event.seq, prev_hash=event.prev_hash, hash=event.hash,
            actor=event.actor, action=event.action, subject=event.subject, payload=event.payload,
            occurred_at=event.occurred_at,
        )
    )


async def list_events(organisation_id: int, *, after_seq: int = 0, limit: int | None = None) -> list[ChainEvent]:
    query = (
        AuditEvent.select(
            AuditEvent.organisation_id, AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash, AuditEvent.actor,
            AuditEvent.action, AuditEvent.subject, AuditEvent.payload, AuditEvent.occurred_at,
        )
        .where((AuditEvent.organisation_id == organisation_id) & (AuditEvent.seq > after_seq))
        .order_by(AuditEvent.seq)
    )
    if limit is not None:
        query = query.limit(limit)
    return [ChainEvent(**row) for row in await query]


async def organisations_with_events() -> list[int]:
    rows = await AuditEvent.select(AuditEvent.organisation_id).distinct()
    return sorted(row["organisation_id"] for row in rows)


async def insert_checkpoint(checkpoint: Checkpoint) -> None:
    """A head is signed once: a second checkpoint of the same (organisation, seq) is ignored."""
    await AuditCheckpoint.insert(AuditCheckpoint(
        organisation_id=checkpoint.organisation_id, seq=checkpoint.seq, hash=checkpoint.hash,
        signed_at=checkpoint.signed_at, public_key=checkpoint.public_key, signature=checkpoint.signature,
    )).on_conflict(action="DO NOTHING")


async def checkpoints(organisation_id: int, *, up_to_seq: int | None = None) -> list[Checkpoint]:
    query = AuditCheckpoint.select(
        AuditCheckpoint.organisation_id, AuditCheckpoint.seq, AuditCheckpoint.hash, AuditCheckpoint.signed_at,
        AuditCheckpoint.public_key, AuditCheckpoint.signature,
    ).where(AuditCheckpoint.organisation_id == organisation_id).order_by(AuditCheckpoint.seq)
    if up_to_seq is not None:
        query = query.where(AuditCheckpoint.seq <= up_to_seq)
    return [Checkpoint(**row) for row in await query]


async def latest_checkpoint_seq(organisation_id: int) -> int | None:
    row = await AuditCheckpoint.select(AuditCheckpoint.seq).where(
        AuditCheckpoint.organisation_id == organisation_id
    ).order_by(AuditCheckpoint.seq, ascending=False).first()
    return row["seq"] if row else None
