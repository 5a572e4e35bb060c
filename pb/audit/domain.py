"""The audit chain's pure rules: how an event is hashed and how a chain is verified."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

from pb.record.spec import audit_event_hash as event_hash  # shared with the verifier

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


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed chain head (see pb.record.spec.checkpoint_message for the signed bytes)."""

    organisation_id: int
    seq: int
    hash: str
    signed_at: str
    public_key: str
    signature: str


def verify_against_checkpoints(organisation_id: int, events: Sequence[ChainEvent], verdict: ChainVerdict,
                               checkpoints: Sequence[Checkpoint | dict]) -> ChainVerdict:
    """The chain's verdict, failed if a validly signed checkpoint names a head the chain no longer has.

    Deleting the newest events leaves a chain that links perfectly; only a head published before
    the deletion shows it. Uses the record verifier's checkpoint check (one implementation).
    """
    from pb.record.verify import Report, check_checkpoints

    if not verdict.ok or not checkpoints:
        return verdict
    report = Report()
    check_checkpoints([asdict(c) if isinstance(c, Checkpoint) else c for c in checkpoints],
                      {e.seq: asdict(e) for e in events}, organisation_id, report)
    if not report.problems:
        return verdict
    head = max((e.seq for e in events), default=0)
    return ChainVerdict(False, verdict.events_checked, verdict.head_hash, head + 1, "; ".join(report.problems))
