"""The shared vocabulary of the tally engine: projects, ballots, profiles, results.

Pure data, standard library only. Every number is exact: an ``int`` or a
``fractions.Fraction`` (Pabulib costs and budgets may be decimals such as
``776314.03``; they are read as Fractions, never floats).

Ballots are grouped: a ``Profile`` holds each distinct ballot once with its
multiplicity, so a rule works on ``len(profile.groups)`` groups, not on every voter.

The classes are small immutable records written out by hand rather than frozen
dataclasses: ``pb tally`` on a small file must start about as fast as the interpreter,
and importing ``dataclasses`` (it pulls in ``inspect``, ``ast``, ``dis``, ``tokenize``)
and generating the methods of each class with ``exec`` cost more than the whole tally
(bench/README.md, "tally_processes.py"). They behave as the dataclasses did: keyword or
positional construction, equality and hash over the fields, a readable ``repr``, no
assignment after construction.
"""

from __future__ import annotations

from operator import attrgetter

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Mapping
    from fractions import Fraction

    Number = int | Fraction


def __getattr__(name: str) -> object:
    """``Number`` (``int | Fraction``), built when asked for: the engine uses it in
    annotations only, and a small ``pb tally`` does not import ``fractions``."""
    if name == "Number":
        from fractions import Fraction

        return int | Fraction
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


BallotKind = str  # one of pb.tally.profile.BALLOT_KINDS: approval, choose-1, cumulative, scoring, ordinal

_set = object.__setattr__  # how __init__ fills the slots of an immutable record (bypassing Record.__setattr__)


class Record:
    """Equality, hash, repr and immutability over the fields named in ``__slots__``."""

    __slots__ = ()
    _fields: attrgetter  # set for each subclass: the tuple of its field values

    def __init_subclass__(cls) -> None:
        if len(cls.__slots__) == 1:  # attrgetter of one name gives the value, not a 1-tuple
            one = attrgetter(cls.__slots__[0])
            cls._fields = staticmethod(lambda record: (one(record),))
        else:
            cls._fields = attrgetter(*cls.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._fields(self) == self._fields(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields(self))

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={value!r}" for name, value in zip(self.__slots__, self._fields(self)))
        return f"{self.__class__.__name__}({values})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of an immutable {self.__class__.__name__}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of an immutable {self.__class__.__name__}")

    def __reduce__(self) -> tuple:
        return self.__class__, self._fields(self)


class Project(Record):
    """A project on one budget's ballot. ``id`` is a string (Pabulib ids are strings).
    ``extra``: every other PROJECTS column as read (category, votes, selected, ...), verbatim."""

    __slots__ = ("id", "cost", "name", "extra")

    def __init__(self, id: str, cost: Number, name: str = "", extra: Mapping[str, str] | None = None):
        _set(self, "id", id)
        _set(self, "cost", cost)
        _set(self, "name", name)
        _set(self, "extra", {} if extra is None else extra)


class Instance(Record):
    """One budget: its projects (by id) and its amount. ``meta`` keeps the Pabulib META."""

    __slots__ = ("projects", "budget", "meta")

    def __init__(self, projects: Mapping[str, Project], budget: Number, meta: Mapping[str, str] | None = None):
        _set(self, "projects", projects)
        _set(self, "budget", budget)
        _set(self, "meta", {} if meta is None else meta)


class Ballot(Record):
    """One voter's ballot, in a canonical, hashable form.

    - approval / choose-1: ``items`` is a sorted tuple of distinct project ids; ``points`` is None.
    - cumulative / scoring: ``items`` are project ids in the order written (decreasing points),
      ``points`` the parallel tuple of exact numbers.
    - ordinal: ``items`` is the ranking, most preferred first, no repeats; ``points`` is None.
    """

    __slots__ = ("items", "points")

    def __init__(self, items: tuple[str, ...], points: tuple[Number, ...] | None = None):
        _set(self, "items", items)
        _set(self, "points", points)


class BallotGroup(Record):
    """Identical ballots grouped: ``count`` voters cast ``ballot``."""

    __slots__ = ("ballot", "count")

    def __init__(self, ballot: Ballot, count: int):
        _set(self, "ballot", ballot)
        _set(self, "count", count)


class Profile(Record):
    """All ballots of one budget, grouped, plus the ballot limits from the round or META.

    ``limits``: such as min_length, max_length, min_sum_cost, max_sum_cost, max_sum_points,
    min_points, max_points, min_sum_points (exact numbers); absent = unlimited."""

    __slots__ = ("kind", "groups", "limits")

    def __init__(self, kind: BallotKind, groups: tuple[BallotGroup, ...], limits: Mapping[str, Number] | None = None):
        _set(self, "kind", kind)
        _set(self, "groups", groups)
        _set(self, "limits", {} if limits is None else limits)

    @property
    def num_voters(self) -> int:
        counted = getattr(self.groups, "num_voters", None)  # lazy groups count without building ballots
        return counted if counted is not None else sum(group.count for group in self.groups)


class ProjectOutcome(Record):
    """Why a project was or was not funded: a machine-readable reason plus the figures.

    ``reason``: e.g. "selected", "not_affordable", "budget_exhausted", "below_threshold",
    "no_support", "mes_insufficient_support" (see pb.tally.explain)."""

    __slots__ = ("project_id", "selected", "reason", "figures")

    def __init__(self, project_id: str, selected: bool, reason: str, figures: Mapping[str, object] | None = None):
        _set(self, "project_id", project_id)
        _set(self, "selected", selected)
        _set(self, "reason", reason)
        _set(self, "figures", {} if figures is None else figures)


class TallyResult(Record):
    """The outcome of one rule on one budget. ``winners`` is in selection order."""

    __slots__ = ("rule", "winners", "spent", "budget", "outcomes", "options")

    def __init__(self, rule: str, winners: tuple[str, ...], spent: Number, budget: Number,
                 outcomes: Mapping[str, ProjectOutcome], options: Mapping[str, object] | None = None):
        _set(self, "rule", rule)
        _set(self, "winners", winners)
        _set(self, "spent", spent)
        _set(self, "budget", budget)
        _set(self, "outcomes", outcomes)
        _set(self, "options", {} if options is None else options)
