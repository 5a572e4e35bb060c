"""Grouped ballots as arrays: the form the reader produces and the rules consume.

Why: a city-wide file has tens of thousands of distinct ballots. As Python objects
(a tuple of id strings, a ``Ballot`` and a ``BallotGroup`` each) they cost more to
build than the whole rest of parsing, and the rules never need them: they work on
project indices (``pb.tally.satisfaction``). So the reader hands over the groups as
``BallotArrays`` wrapped in ``LazyGroups``, a read-only sequence that behaves as
``Profile.groups`` (length, indexing, iteration, equality, hashing) and builds the
``BallotGroup`` objects only when something asks for them.

``numeric_approval_groups`` is the reader's vectorised path for the common Pabulib
case: approval / choose-1 votes listing numeric project ids.
"""

from __future__ import annotations

import os
# collections.abc.Sequence itself, from the module the interpreter has already loaded at
# start-up: importing collections (collections.abc's package) would cost a small tally 10 %
from _collections_abc import Sequence
from itertools import islice, repeat

from pb.tally.model import Ballot, BallotGroup, Record

MAX_PROJECTS = 255  # positions are stored as bytes 1..255 (0 pads)


class BallotArrays(Record):
    """Distinct ballots in canonical order (by their sorted ids, as ``build_profile``).

    ``ids`` are the project ids sorted; ``item_position`` lists, group after group,
    the position in ``ids`` of each listed project (increasing inside a group);
    ``group_length`` and ``group_count`` give each group's size and its voters.
    ``item_position`` and ``group_length`` are numpy arrays (numpy is imported only by
    ``numeric_approval_groups``).
    """

    __slots__ = ("ids", "item_position", "group_length", "group_count")

    def __init__(self, ids: tuple[str, ...], item_position, group_length, group_count: list[int]):
        object.__setattr__(self, "ids", ids)
        object.__setattr__(self, "item_position", item_position)
        object.__setattr__(self, "group_length", group_length)
        object.__setattr__(self, "group_count", group_count)


class LazyGroups(Sequence):
    """``Profile.groups`` backed by ``BallotArrays``; the objects are built on first use."""

    __slots__ = ("arrays", "_built")

    def __init__(self, arrays: BallotArrays):
        self.arrays = arrays
        self._built: tuple[BallotGroup, ...] | None = None

    def materialize(self) -> tuple[BallotGroup, ...]:
        if self._built is None:
            a = self.arrays
            names = list(map(a.ids.__getitem__, a.item_position.tolist()))
            rest = iter(names)
            items = list(map(tuple, map(islice, repeat(rest), a.group_length.tolist())))
            self._built = make_groups(make_ballots(items), a.group_count)
        return self._built

    def __len__(self) -> int:
        return len(self.arrays.group_count)

    @property
    def num_voters(self) -> int:
        return int(sum(self.arrays.group_count))

    def __getitem__(self, index):
        return self.materialize()[index]

    def __iter__(self):
        return iter(self.materialize())

    def __eq__(self, other) -> bool:
        if isinstance(other, LazyGroups):
            return self.materialize() == other.materialize()
        if isinstance(other, tuple):
            return self.materialize() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.materialize())

    def __repr__(self) -> str:
        return repr(self.materialize())


def numeric_approval_groups(texts: Sequence[str], text_counts: Sequence[int],
                            project_ids) -> BallotArrays | None:
    """Group raw approval vote texts ("12,5,7", "L016,L024") by numpy.

    Applies when every project id is a common prefix (maybe empty, e.g. "L") followed by
    digits, either all of one width ("L009") or without leading zeros ("12"), with at
    most 255 projects; and every text is a comma-separated list of such ids. Anything
    else (spaces, an unknown or empty id, "none", other characters) returns None and the
    caller takes the general path, which also words the errors. An id listed twice in a
    vote counts once.

    How: the texts are joined (";" between texts) into one byte array; numpy finds the
    tokens, reads their digits as numbers, maps them to project positions, sorts each
    ballot, and groups identical ballots by sorting them as fixed-width byte strings
    (one byte per position, so byte order is the order of the sorted id tuples).
    """
    import numpy as np  # here only: a small file never needs it (start-up)

    ids = sorted(project_ids)
    if not ids or len(ids) > MAX_PROJECTS or not texts:
        return None
    prefix = os.path.commonprefix(ids).rstrip("0123456789")
    digits = [pid[len(prefix):] for pid in ids]
    if not all(d.isascii() and d.isdigit() and len(d) <= 9 for d in digits):
        return None
    width = len(digits[0]) if len({len(d) for d in digits}) == 1 else None
    if width is None and any(d[0] == "0" and len(d) > 1 for d in digits):
        return None  # mixed widths with leading zeros: "07" and "7" would read alike
    values = np.array([int(d) for d in digits], dtype=np.int64)
    joined = ";".join(texts)
    if not joined.isascii():
        return None
    if prefix:
        tokens = joined.count(",") + len(texts)
        if joined.count(prefix) != tokens or (";" + joined.replace(",", ";")).count(";" + prefix) != tokens:
            return None  # some id does not start with the prefix (or holds it twice)
        joined = joined.replace(prefix, "")
    raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    digit = raw - np.uint8(48)  # '0'..'9' -> 0..9; anything else wraps above 9
    separator = (raw == 44) | (raw == 59)  # ',' or ';'
    if not bool(((digit <= 9) | separator).all()):
        return None
    at = np.flatnonzero(separator)
    starts = np.empty(len(at) + 1, dtype=np.intp)
    starts[0] = 0
    starts[1:] = at + 1
    lengths = np.empty_like(starts)
    lengths[:-1] = at - starts[:-1]
    lengths[-1] = len(raw) - starts[-1]
    longest = int(lengths.max())
    if int(lengths.min()) == 0 or longest > 9:
        return None  # an empty id ("1,,2") or one longer than any project id
    if width is not None:
        if longest != width or int(lengths.min()) != width:
            return None
    elif bool(((digit[np.minimum(starts, len(raw) - 1)] == 0) & (lengths > 1)).any()):
        return None  # a leading zero: not how any project id is written
    value = digit[starts].astype(np.int64)
    for k in range(1, longest):  # the next digit of every token that has one
        longer = np.flatnonzero(lengths > k)
        value[longer] = value[longer] * 10 + digit[starts[longer] + k]
    if int(value.max()) > int(values.max()):
        return None  # an unknown id: the general path names it
    lookup = np.full(int(values.max()) + 1, -1, dtype=np.intp)
    lookup[values] = np.arange(len(ids), dtype=np.intp)
    position = lookup[value]
    if bool((position < 0).any()):
        return None
    # each token's ballot: the number of ';' before it
    ballot = np.zeros(len(starts), dtype=np.intp)
    np.cumsum(raw[at] == 59, out=ballot[1:])
    # sort every ballot's positions, drop an id listed twice
    key = ballot * 256 + position
    key.sort(kind="stable")  # sorted by ballot already: the stable sort (timsort) is ~3x faster
    repeated = key[1:] == key[:-1]
    if bool(repeated.any()):
        key = key[np.concatenate(([True], ~repeated))]
    ballot, position = key >> 8, key & 255
    per_ballot = np.bincount(ballot, minlength=len(texts))
    row_width = int(per_ballot.max())
    first = np.zeros(len(texts), dtype=np.intp)
    np.cumsum(per_ballot[:-1], out=first[1:])
    # up to 8 positions a row is one big-endian 64-bit integer: same order as the bytes
    as_int = row_width <= 8
    rows = np.zeros((len(texts), 8 if as_int else row_width), dtype=np.uint8)
    rows[ballot, np.arange(len(key), dtype=np.intp) - first[ballot]] = position + 1
    # identical ballots: equal rows; byte-string order = order of the sorted id tuples
    distinct, group_of_text = np.unique(rows.view(">u8" if as_int else f"S{row_width}").ravel(),
                                        return_inverse=True)
    voters = np.bincount(group_of_text.ravel(), weights=np.asarray(text_counts, dtype=np.float64),
                         minlength=len(distinct))  # integer sums below 2**53: exact
    if as_int:
        table = distinct.astype(">u8").view(np.uint8).reshape(len(distinct), 8)[:, :row_width]
    else:
        table = np.frombuffer(distinct.tobytes(), dtype=np.uint8).reshape(len(distinct), row_width)
    listed = table > 0
    return BallotArrays(
        ids=tuple(ids),
        item_position=table[listed].astype(np.intp) - 1,
        group_length=listed.sum(axis=1).astype(np.intp),
        group_count=voters.astype(np.int64).tolist(),
    )


# --- building the objects in bulk ------------------------------------------------------

_SLOTS_OK = all(
    hasattr(cls, "__slots__") and name in cls.__dict__
    for cls, names in ((Ballot, ("items", "points")), (BallotGroup, ("ballot", "count")))
    for name in names
)


def make_ballots(items_list: list, points_list: list | None = None) -> list:
    """Ballot objects in bulk. Ballot is an immutable slotted record whose
    ``__init__`` costs ~1 µs; filling the slots through their descriptors is ~3x
    faster on tens of thousands of groups (same objects, same equality and hash)."""
    if points_list is None:
        points_list = [None] * len(items_list)
    if not _SLOTS_OK:
        return [Ballot(items, points) for items, points in zip(items_list, points_list)]
    ballots = list(map(object.__new__, repeat(Ballot, len(items_list))))
    _run(map(Ballot.__dict__["items"].__set__, ballots, items_list))
    _run(map(Ballot.__dict__["points"].__set__, ballots, points_list))
    return ballots


def make_groups(ballots: list, counts: list) -> tuple:
    if not _SLOTS_OK:
        return tuple(BallotGroup(ballot, count) for ballot, count in zip(ballots, counts))
    groups = list(map(object.__new__, repeat(BallotGroup, len(ballots))))
    _run(map(BallotGroup.__dict__["ballot"].__set__, groups, ballots))
    _run(map(BallotGroup.__dict__["count"].__set__, groups, counts))
    return tuple(groups)


def _run(calls) -> None:
    """Exhaust an iterator of calls that all return None, in C: ``any`` stops only at a true
    value and there is none (``collections.deque(calls, maxlen=0)`` without collections)."""
    any(calls)
