"""The shared vocabulary of the tally engine: projects, ballots, profiles, results.

Pure data, standard library only. Every number is exact: an ``int`` or a
``fractions.Fraction`` (Pabulib costs and budgets may be decimals such as
``776314.03``; they are read as Fractions, never floats).

Ballots are grouped: a ``Profile`` holds each distinct ballot once with its
multiplicity, so a rule works on ``len(profile.groups)`` groups, not on every voter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, Mapping, Union

Number = Union[int, Fraction]

BallotKind = Literal["approval", "choose-1", "cumulative", "scoring", "ordinal"]


@dataclass(frozen=True, slots=True)
class Project:
    """A project on one budget's ballot. ``id`` is a string (Pabulib ids are strings)."""

    id: str
    cost: Number
    name: str = ""
    # Every other PROJECTS column as read (category, votes, selected, ...), verbatim.
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Instance:
    """One budget: its projects (by id) and its amount. ``meta`` keeps the Pabulib META."""

    projects: Mapping[str, Project]
    budget: Number
    meta: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ballot:
    """One voter's ballot, in a canonical, hashable form.

    - approval / choose-1: ``items`` is a sorted tuple of distinct project ids; ``points`` is None.
    - cumulative / scoring: ``items`` are project ids in the order written (decreasing points),
      ``points`` the parallel tuple of exact numbers.
    - ordinal: ``items`` is the ranking, most preferred first, no repeats; ``points`` is None.
    """

    items: tuple[str, ...]
    points: tuple[Number, ...] | None = None


@dataclass(frozen=True, slots=True)
class BallotGroup:
    """Identical ballots grouped: ``count`` voters cast ``ballot``."""

    ballot: Ballot
    count: int


@dataclass(frozen=True, slots=True)
class Profile:
    """All ballots of one budget, grouped, plus the ballot limits from the round or META."""

    kind: BallotKind
    groups: tuple[BallotGroup, ...]
    # Limits such as min_length, max_length, min_sum_cost, max_sum_cost, max_sum_points,
    # min_points, max_points, min_sum_points (exact numbers); absent = unlimited.
    limits: Mapping[str, Number] = field(default_factory=dict)

    @property
    def num_voters(self) -> int:
        counted = getattr(self.groups, "num_voters", None)  # lazy groups count without building ballots
        return counted if counted is not None else sum(group.count for group in self.groups)


@dataclass(frozen=True, slots=True)
class ProjectOutcome:
    """Why a project was or was not funded: a machine-readable reason plus the figures."""

    project_id: str
    selected: bool
    reason: str  # e.g. "selected", "not_affordable", "budget_exhausted", "below_threshold",
    #              "no_support", "mes_insufficient_support" (see pb.tally.explain)
    figures: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TallyResult:
    """The outcome of one rule on one budget. ``winners`` is in selection order."""

    rule: str
    winners: tuple[str, ...]
    spent: Number
    budget: Number
    outcomes: Mapping[str, ProjectOutcome]
    options: Mapping[str, object] = field(default_factory=dict)
