"""The audit chain's pure rules: how an event is hashed and how a chain is verified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from pb.core.canonical import canonical_json, sha256_hex

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class ChainEvent:
    organisation_id: int
    seq: int
    prev_hash: str
    hash: str
    actor: str
    action: str
    subject: str
    payload: str
    occurred_at: str


def event_hash(
    *, organisation_id: int, seq: int, prev_hash: str, actor: str, action: str, subject: str, payload: str,
    occurred_at: str,
) -> str:
    """SHA-256 over the canonical JSON of every field but the hash itself."""
    return sha256_hex(
        canonical_json(
            {
                "organisation_id": organisation_id,
                "seq": seq,
                "prev_hash": prev_hash,
                "actor": actor,
                "action": action,
                "subject": subject,
                "payload": payload,
                "occurred_at": occurred_at,
            }
        )
    )


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    ok: bool
    events_checked: int
    head_hash: str
    broken_seq: int | None = None
    problem: str | None = None


def verify_chain(events: Iterable[ChainEvent]) -> ChainVerdict:
    """Check sequence numbers are 1, 2, 3…, each prev_hash links and each hash recomputes.

    A changed row fails its own hash; a deleted row leaves a gap in ``seq`` (or, if the last rows
    were deleted, a head that no longer matches a published checkpoint).
    """
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for event in events:
        if event.seq != expected_seq:
            return ChainVerdict(False, checked, prev_hash, expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != prev_hash:
            return ChainVerdict(False, checked, prev_hash, event.seq, "prev_hash does not link to the event before")
        recomputed = event_hash(
            organisation_id=event.organisation_id, seq=event.seq, prev_hash=event.prev_hash, actor=event.actor,
            action=event.action, subject=event.subject, payload=event.payload, occurred_at=event.occurred_at,
        )
        if recomputed != event.hash:
            return ChainVerdict(False, checked, prev_hash, event.seq, "content does not match its hash (altered)")
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    return ChainVerdict(True, checked, prev_hash)
