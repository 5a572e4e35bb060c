"""Writing and verifying the audit chain.

``record`` must be called inside the same write transaction as the act it records, so an act and
its audit event are committed together or not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from pb.audit import repo
from pb.audit.domain import (
    GENESIS_HASH, ChainEvent, ChainVerdict, Checkpoint, event_hash, verify_against_checkpoints, verify_chain,
)
from pb.core.canonical import canonical_json
from pb.core.clock import utcnow
from pb.db import write_transaction
from pb.record.spec import checkpoint_message

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
CHECKPOINT_INTERVAL_SECONDS = 3600  # heads are signed at least hourly (and on every phase change)
_checkpoint_key = None  # the server's Ed25519 checkpoint key, set by configure_checkpoints()


async def record(
    organisation_id: int, actor: str, action: str, subject: str, payload: dict[str, Any] | None = None
) -> ChainEvent:
    """Append one event to the organisation's chain (call inside ``write_transaction``)."""
    await repo.lock_chain(organisation_id)
    head = await repo.chain_head(organisation_id)
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    payload_json = canonical_json(payload or {})
    occurred_at = utcnow().strftime(TIME_FORMAT)
    digest = event_hash(
        organisation_id=organisation_id, seq=seq, prev_hash=prev_hash, actor=actor, action=action,
        subject=subject, payload=payload_json, occurred_at=occurred_at,
    )
    event = ChainEvent(organisation_id, seq, prev_hash, digest, actor, action, subject, payload_json, occurred_at)
    await repo.insert_event(event)
    return event


async def verify(organisation_id: int, checkpoints: Sequence[dict] = ()) -> ChainVerdict:
    """Recompute the chain and hold it against every checkpoint: the stored ones and ``checkpoints``
    an auditor kept (a deletion of the newest events is caught by either)."""
    events = await repo.list_events(organisation_id)
    given = [c for c in checkpoints if c.get("organisation_id") == organisation_id]
    return verify_against_checkpoints(organisation_id, events, verify_chain(events),
                                      [*await repo.checkpoints(organisation_id), *given])


async def verify_all(checkpoints: Sequence[dict] = ()) -> dict[int, ChainVerdict]:
    organisations = set(await repo.organisations_with_events())
    organisations |= {c["organisation_id"] for c in checkpoints if isinstance(c.get("organisation_id"), int)}
    return {org: await verify(org, checkpoints) for org in sorted(organisations)}


# --- checkpoints: signed heads ----------------------------------------------------------------------


def configure_checkpoints(secrets_dir: Path) -> None:
    """Bind the secrets folder and load (or create) the checkpoint key; once by the app and the CLI."""
    from pb.core.keyring import bind_secrets_dir, load_checkpoint_key

    global _checkpoint_key
    bind_secrets_dir(secrets_dir)
    _checkpoint_key = load_checkpoint_key(secrets_dir)


async def sign_head(organisation_id: int) -> Checkpoint | None:
    """Sign the chain's current head, inside the write transaction of the act that moved it.

    Called after every phase change and hourly. No-op when the head is already signed, when the
    chain is empty or when no key is configured (plain library use without the app or CLI).
    """
    if _checkpoint_key is None:
        return None
    from pb.core.keyring import public_key_hex

    await repo.lock_chain(organisation_id)
    head = await repo.chain_head(organisation_id)
    if head is None or await repo.latest_checkpoint_seq(organisation_id) == head[0]:
        return None
    seq, digest = head
    signed_at = utcnow().strftime(TIME_FORMAT)
    signature = _checkpoint_key.sign(checkpoint_message(organisation_id, seq, digest, signed_at)).hex()
    checkpoint = Checkpoint(organisation_id, seq, digest, signed_at, public_key_hex(_checkpoint_key), signature)
    await repo.insert_checkpoint(checkpoint)
    return checkpoint


async def sign_all_heads() -> int:
    """The hourly job: sign every organisation's head that moved since its last checkpoint."""
    signed = 0
    for organisation_id in await repo.organisations_with_events():
        async with write_transaction():
            signed += await sign_head(organisation_id) is not None
    return signed


async def checkpoints(organisation_id: int, up_to_seq: int | None = None) -> list[Checkpoint]:
    return await repo.checkpoints(organisation_id, up_to_seq=up_to_seq)


async def list_events(organisation_id: int, after_seq: int = 0, limit: int = 100) -> list[ChainEvent]:
    return await repo.list_events(organisation_id, after_seq=after_seq, limit=limit)


async def sign_heads_hourly(round_keys=None) -> None:
    """Run by the app in the background every CHECKPOINT_INTERVAL_SECONDS: publish the board
    snapshots of voting rounds that received a batch, then sign every head that moved."""
    import asyncio

    import structlog

    from pb.board.service import refresh_all_snapshots

    while True:
        await asyncio.sleep(CHECKPOINT_INTERVAL_SECONDS)
        try:
            if round_keys is not None:
                await refresh_all_snapshots(round_keys)
            await sign_all_heads()
        except Exception:  # noqa: BLE001 - a failed round of signing must not stop the next one
            structlog.get_logger().exception("checkpoint_signing_failed")
