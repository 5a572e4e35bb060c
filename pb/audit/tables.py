"""The append-only, hash-chained audit log (one chain per organisation)."""

from piccolo.columns import Integer, Text, Varchar
from piccolo.table import Table


class AuditEvent(Table):
    organisation_id = Integer(index=True)
    seq = Integer()
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)
    actor = Varchar(length=64)  # a pseudonym such as "user:12" or "system", never a name
    action = Varchar(length=64)  # e.g. "round.phase_changed"
    subject = Varchar(length=128)  # e.g. "round:3"
    payload = Text()  # canonical JSON, no personal data
    occurred_at = Varchar(length=40)  # ISO 8601 UTC, exactly as hashed

    # UNIQUE(organisation_id, seq): see pb/migrations/pb_0003_unique_indexes.py


class AuditCheckpoint(Table):
    """A signed head of one organisation's chain: (seq, hash) at a time, under the server's key.

    Published at a public endpoint; anyone who kept one can later prove that events were deleted
    from the end of the chain, which the chain's own links cannot show.
    """

    organisation_id = Integer(index=True)
    seq = Integer()
    hash = Varchar(length=64)
    signed_at = Varchar(length=40)  # ISO 8601 UTC, exactly as signed
    public_key = Varchar(length=64)  # raw Ed25519 public key, hex
    signature = Varchar(length=128)  # Ed25519 signature of pb.record.spec.checkpoint_message, hex
    # UNIQUE(organisation_id, seq): pb_0008_verifiable_rounds
