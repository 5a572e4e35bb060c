"""Census, participation (who voted) and ballots (what was voted), kept apart on purpose."""

from piccolo.columns import Bytea, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from pb.accounts.tables import User
from pb.rounds.tables import Budget, Round


class CensusEntry(Table):
    organisation_id = Integer(index=True)
    identifier_hmac = Varchar(length=64)  # HMAC(census key, identifier): the raw identifier is never stored
    district = Varchar(length=80)
    user = ForeignKey(User, null=True, default=None)  # bound account; one entry, one account
    bound_at = Timestamptz(null=True, default=None)
    # UNIQUE(organisation_id, identifier_hmac), UNIQUE(organisation_id, user): pb_0003_unique_indexes


class Participation(Table):
    """Who has voted in a budget: a nullifier, never a user id. No link to the ballot row."""

    # No index on round alone: participation_once (round, budget, nullifier) leads with round and
    # serves every lookup by round (pb_0009_participation_round_index dropped the old one).
    round = ForeignKey(Round)
    budget = ForeignKey(Budget)
    nullifier = Varchar(length=64)  # HMAC(round key, census entry): same person -> same value
    channel = Varchar(length=10)  # "online" | "paper"
    # Vote revision: the receipt of this voter's current sealed ballot, sealed to the round's key
    # (only the server, while voting runs, can open it); set to NULL when the box is opened.
    pointer = Bytea(null=True, default=None)  # added in pb_0008_verifiable_rounds
    # UNIQUE(round, budget, nullifier): pb_0003_unique_indexes -- one ballot per person and budget


class ReplacedReceipt(Table):
    """Receipts of ballots their voters replaced (vote revision): shown "replaced" on the board.

    No content (the replaced sealed ballot is deleted), no voter, no time.
    """

    receipt = Varchar(length=64, primary_key=True)
    round = ForeignKey(Round, index=True)


class SealedBallot(Table):
    """A ballot while voting runs: its content sealed to the round's public key, its receipt only as
    an HMAC tag. A reader of the database learns neither; at close the round's box is opened into
    ``Ballot`` (shuffled, in a fresh transaction), these rows are deleted and the keys destroyed.
    See docs/ballot-secrecy.md.
    """

    receipt_tag = Varchar(length=64, primary_key=True)  # HMAC(round tag key, receipt): random-looking
    round = ForeignKey(Round, index=True)
    ciphertext = Bytea()  # sealed box of the length-prefixed, padded canonical content (fixed size per budget)


class Ballot(Table):
    """What was voted, published when the round's ballot box is opened at close: content and
    receipt only; no user, no time, no cast-ordered id (rows are inserted in a random order)."""

    receipt = Varchar(length=64, primary_key=True)  # SHA-256 of the canonical ballot incl. a nonce
    round = ForeignKey(Round, index=True)
    budget = ForeignKey(Budget, index=True)
    content = Text()  # canonical JSON: {"projects": [...], "nonce": "..."}
