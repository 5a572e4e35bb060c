"""Ballot validation and profile building.

Why: the web app must refuse an invalid ballot at the moment a citizen casts
it, with a message naming the broken rule, and tallies must not depend on the
order in which ballots arrive. ``validate_ballot`` checks one ballot against the
round's limits and raises ``BallotError`` (a ``ValueError`` carrying a stable
``.constraint`` code); ``build_profile`` groups identical ballots and sorts the
groups canonically.

Limits (absent = unlimited): ``min_length``, ``max_length`` (number of projects
listed), ``min_sum_cost``, ``max_sum_cost`` (total cost of the listed projects),
``min_points``, ``max_points`` (points per listed project), ``min_sum_points``,
``max_sum_points`` (total points). A ``choose-1`` ballot lists exactly one project.
"""

from __future__ import annotations

from pb.tally.model import Ballot, BallotGroup, BallotKind, Instance, Profile
from pb.tally.numbers import is_fraction

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from pb.tally.model import Number

BALLOT_KINDS: tuple[str, ...] = ("approval", "choose-1", "cumulative", "scoring", "ordinal")
LIMIT_KEYS: tuple[str, ...] = (
    "min_length", "max_length", "min_sum_cost", "max_sum_cost",
    "min_points", "max_points", "min_sum_points", "max_sum_points",
)
CONSTRAINTS: Mapping[str, str] = {
    "unknown_project": "the ballot names a project that is not on this ballot paper",
    "duplicate_project": "the ballot names a project twice",
    "too_many_projects": "the ballot lists more projects than allowed",
    "too_few_projects": "the ballot lists fewer projects than required",
    "over_budget": "the listed projects cost more than allowed",
    "below_minimum_spend": "the listed projects cost less than required",
    "too_many_points": "the ballot distributes more points than allowed",
    "too_few_points": "the ballot distributes fewer points than required",
    "points_per_project_exceeded": "a project received more points than allowed",
    "points_below_minimum": "a project received fewer points than allowed",
    "malformed_points": "points are missing, misaligned, not exact numbers, or given where none belong",
    "unknown_kind": "the ballot kind is not supported",
}


class BallotError(ValueError):
    """An invalid ballot. ``constraint`` is a stable code from ``CONSTRAINTS``."""

    def __init__(self, constraint: str, message: str):
        super().__init__(message)
        self.constraint = constraint
        self.message = message


def _fmt(value: Number) -> str:
    if is_fraction(value) and value.denominator != 1:
        return f"{float(value):.2f}" if value.denominator in (2, 4, 5, 10, 20, 25, 50, 100) else str(value)
    return str(int(value))


def validate_ballot(ballot: Ballot, kind: BallotKind, instance: Instance,
                    limits: Mapping[str, Number] | None = None) -> None:
    """Raise ``BallotError`` if ``ballot`` breaks a rule of this round; return None if valid."""
    limits = limits or {}
    if kind not in BALLOT_KINDS:
        raise BallotError("unknown_kind", f"ballot kind {kind!r} is not one of {', '.join(BALLOT_KINDS)}")
    items = tuple(ballot.items)
    for pid in items:
        if pid not in instance.projects:
            raise BallotError("unknown_project", f"project {pid!r} is not on this ballot paper")
    seen: set[str] = set()
    for pid in items:
        if pid in seen:
            raise BallotError("duplicate_project", f"project {pid!r} is listed more than once")
        seen.add(pid)
    count = len(items)
    if kind == "choose-1":
        if count > 1:
            raise BallotError("too_many_projects", f"choose exactly one project (you chose {count})")
        if count < 1:
            raise BallotError("too_few_projects", "choose exactly one project (you chose none)")
    _check_bounds(limits, count, "length", lambda v: f"you chose {v} projects")
    total_cost = sum((instance.projects[pid].cost for pid in items), 0)
    _check_bounds(limits, total_cost, "sum_cost", lambda v: f"the projects you chose cost {v}")
    if kind in ("cumulative", "scoring"):
        _validate_points(ballot, kind, items, limits)
    elif ballot.points is not None:
        raise BallotError("malformed_points", f"{kind} ballots carry no points")


def _validate_points(ballot: Ballot, kind: str, items: tuple[str, ...], limits: Mapping[str, Number]) -> None:
    points = ballot.points
    if points is None or len(points) != len(items):
        raise BallotError("malformed_points", "give exactly one points value per listed project")
    for pid, value in zip(items, points):
        if isinstance(value, bool) or not (isinstance(value, int) or is_fraction(value)):
            raise BallotError("malformed_points", f"points for {pid!r} must be a whole or exact number")
        if kind == "cumulative" and value < 0:
            raise BallotError("points_below_minimum", f"project {pid!r} received negative points")
        _check_bounds(limits, value, "points", lambda v: f"project {pid!r} received {v} points")
    total = sum(points, 0)
    _check_bounds(limits, total, "sum_points", lambda v: f"you distributed {v} points")


# limit suffix -> (constraint when above max_<suffix>, constraint when below min_<suffix>)
_BOUND_CODES = {
    "length": ("too_many_projects", "too_few_projects"),
    "sum_cost": ("over_budget", "below_minimum_spend"),
    "points": ("points_per_project_exceeded", "points_below_minimum"),
    "sum_points": ("too_many_points", "too_few_points"),
}


def _check_bounds(limits: Mapping[str, Number], value: Number, suffix: str, what: Callable[[str], str]) -> None:
    """Raise the right BallotError if ``value`` is outside [min_<suffix>, max_<suffix>]."""
    above, below = _BOUND_CODES[suffix]
    shown = what(_fmt(value))
    high = limits.get("max_" + suffix)
    if high is not None and value > high:
        raise BallotError(above, f"{shown}; the maximum is {_fmt(high)}")
    low = limits.get("min_" + suffix)
    if low is not None and value < low:
        raise BallotError(below, f"{shown}; the minimum is {_fmt(low)}")


def canonical_ballot(ballot: Ballot, kind: BallotKind) -> Ballot:
    """Approval / choose-1 ballots become sorted sets (a repeated id counts once, as in
    pabutools); ranked and points ballots keep their order."""
    if kind in ("approval", "choose-1"):
        items = tuple(sorted(set(ballot.items)))
        if items != ballot.items or ballot.points is not None:
            return Ballot(items)
    return ballot


def _group_key(group: BallotGroup) -> tuple:
    ballot = group.ballot
    return (ballot.items, ballot.points or ())


def build_profile(kind: BallotKind, ballots: Iterable[Ballot], limits: Mapping[str, Number] | None = None,
                  *, instance: Instance | None = None, validate: bool = False) -> Profile:
    """Group identical ballots (canonical group order: by listed ids, then points).

    With ``validate=True`` (needs ``instance``) every ballot is checked first and
    the first invalid one raises ``BallotError``. Historic data (Pabulib) is built
    with ``validate=False``: its ballots were accepted by the city and are counted.
    """
    if kind not in BALLOT_KINDS:
        raise BallotError("unknown_kind", f"ballot kind {kind!r} is not one of {', '.join(BALLOT_KINDS)}")
    limits = dict(limits or {})
    if validate and instance is None:
        raise ValueError("validate=True needs the instance")
    counter: dict[Ballot, int] = {}  # a dict, not collections.Counter: one import less at start-up
    for ballot in ballots:
        if validate:
            validate_ballot(ballot, kind, instance, limits)
        key = canonical_ballot(ballot, kind)
        counter[key] = counter.get(key, 0) + 1
    return profile_from_groups(kind, (BallotGroup(b, n) for b, n in counter.items()), limits)


def profile_from_groups(kind: BallotKind, groups: Iterable[BallotGroup],
                        limits: Mapping[str, Number] | None = None) -> Profile:
    """A profile from (possibly repeated) groups: merged and sorted canonically."""
    merged: dict[Ballot, int] = {}
    for group in groups:
        merged[group.ballot] = merged.get(group.ballot, 0) + group.count
    ordered = sorted((BallotGroup(b, n) for b, n in merged.items() if n > 0), key=_group_key)
    return Profile(kind=kind, groups=tuple(ordered), limits=dict(limits or {}))
