"""Per-project satisfaction data, precomputed once per tally.

Why: every rule needs the same facts — who lists each project, with what
satisfaction, how many voters that is. Computing them once, on grouped ballots,
keeps the rules short and fast. Projects are indexed by tie-break rank, so
"smallest index" always means "wins the tie".

Satisfaction measures (pabutools names in brackets):
- ``cost``: sat_i(p) = cost(p) if i lists p [Cost_Sat];
- ``cardinality``: 1 if i lists p [Cardinality_Sat];
- ``points``: the points i gave p [Additive_Cardinal_Sat], cumulative/scoring only.
For cost and cardinality every listed project counts as approved, whatever the
ballot kind (the approval projection of ranks and points).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from pb.tally.model import Instance, Number, Profile
from pb.tally.numbers import check_exact
from pb.tally.tiebreak import priority_order

SATISFACTIONS = ("cost", "cardinality", "points")


@dataclass(slots=True)
class Electorate:
    """Projects (indexed by tie rank) and ballot groups, ready for the rules."""

    ids: list[str]
    cost: list[Number]
    votes: list[int]  # voters listing the project
    budget: Number
    num_voters: int
    group_count: list[int]
    group_items: list[tuple[int, ...]]  # listed project indices per group
    supporters: list[list[int]]  # groups with positive satisfaction, per project
    supporter_sat: list[list[Number]] | None  # parallel to supporters when sat varies
    unit_sat: list[Number] | None  # the one satisfaction value per project otherwise
    total_sat: list[Number]  # sum over voters of sat_i(p)
    satisfaction: str
    cache: dict = field(default_factory=dict)  # per-rule tables built on first use

    def sat_of(self, p: int, k: int) -> Number:
        """Satisfaction of the k-th supporter group of project p (per voter)."""
        if self.unit_sat is not None:
            return self.unit_sat[p]
        return self.supporter_sat[p][k]


def listed_items(profile: Profile) -> list[tuple[tuple[str, ...], tuple[Number, ...] | None]]:
    """Per group: distinct listed ids (first occurrence kept) and their points, if any."""
    out = []
    for group in profile.groups:
        items, points = group.ballot.items, group.ballot.points
        if len(set(items)) != len(items):
            seen: dict[str, int] = {}
            for pos, pid in enumerate(items):
                seen.setdefault(pid, pos)
            keep = sorted(seen.values())
            items = tuple(items[i] for i in keep)
            points = tuple(points[i] for i in keep) if points is not None else None
        out.append((items, points))
    return out


def prepare(
    instance: Instance,
    profile: Profile,
    satisfaction: str = "cost",
    tie_break: Sequence[str] = ("lexico",),
    seed: str | bytes | None = None,
) -> Electorate:
    """Build the ``Electorate`` of one tally (validates numbers and project ids)."""
    if satisfaction not in SATISFACTIONS:
        raise ValueError(f"unknown satisfaction {satisfaction!r}; choose from {SATISFACTIONS}")
    if satisfaction == "points" and profile.kind not in ("cumulative", "scoring"):
        raise ValueError("points satisfaction needs cumulative or scoring ballots")
    budget = check_exact(instance.budget, "budget")
    costs = {pid: check_exact(p.cost, f"cost of {pid}") for pid, p in instance.projects.items()}
    for pid, project in instance.projects.items():
        if project.id != pid:
            raise ValueError(f"project keyed {pid!r} has id {project.id!r}")
        if costs[pid] < 0:
            raise ValueError(f"project {pid} has a negative cost")
    groups = listed_items(profile)
    vote_count = dict.fromkeys(costs, 0)
    for (items, _), group in zip(groups, profile.groups):
        if group.count < 0:
            raise ValueError("a ballot group has a negative count")
        for pid in items:
            if pid not in vote_count:
                raise ValueError(f"a ballot lists unknown project {pid!r}")
            vote_count[pid] += group.count
    ids = priority_order(costs, vote_count, tie_break, seed)
    index = {pid: i for i, pid in enumerate(ids)}
    m = len(ids)
    cost = [costs[pid] for pid in ids]
    votes = [vote_count[pid] for pid in ids]
    supporters: list[list[int]] = [[] for _ in range(m)]
    use_points = satisfaction == "points"
    supporter_sat: list[list[Number]] | None = [[] for _ in range(m)] if use_points else None
    total_sat: list[Number] = [0] * m
    group_count = [group.count for group in profile.groups]
    group_items = []
    for g, (items, points) in enumerate(groups):
        idx = tuple(index[pid] for pid in items)
        group_items.append(idx)
        if use_points:
            if points is None or len(points) != len(items):
                raise ValueError("points satisfaction needs a points value for every listed project")
            for p, value in zip(idx, points):
                total_sat[p] += group_count[g] * value
                if value > 0:
                    supporters[p].append(g)
                    supporter_sat[p].append(value)
        else:
            for p in idx:
                supporters[p].append(g)
    unit_sat = None
    if not use_points:
        unit_sat = list(cost) if satisfaction == "cost" else [1] * m
        total_sat = [unit_sat[p] * votes[p] for p in range(m)]
        for p in range(m):
            if unit_sat[p] == 0:
                supporters[p] = []
    return Electorate(
        ids=ids,
        cost=cost,
        votes=votes,
        budget=budget,
        num_voters=sum(group_count),
        group_count=group_count,
        group_items=group_items,
        supporters=supporters,
        supporter_sat=supporter_sat,
        unit_sat=unit_sat,
        total_sat=total_sat,
        satisfaction=satisfaction,
    )
