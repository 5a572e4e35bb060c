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

from collections import Counter
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from operator import attrgetter, itemgetter, lt
from typing import Sequence

from pb.tally.model import Instance, Number, Profile
from pb.tally.numbers import check_exact
from pb.tally.tiebreak import priority_order

SATISFACTIONS = ("cost", "cardinality", "points")


@dataclass(slots=True)
class Electorate:
    """Projects (indexed by tie rank) and ballot groups, ready for the rules.

    Per-group data (``group_items``, ``supporters``, ``supporter_sat``) is built on
    first use: greedy needs only the vote counts, which are much cheaper.
    """

    ids: list[str]
    cost: list[Number]
    votes: list[int]  # voters listing the project
    budget: Number
    num_voters: int
    group_count: list[int]
    unit_sat: list[Number] | None  # the one satisfaction value per project (cost, cardinality)
    total_sat: list[Number]  # sum over voters of sat_i(p)
    satisfaction: str
    listed_ids: list[tuple[str, ...]]  # per group: the distinct listed ids
    listed_points: list[tuple[Number, ...] | None]  # per group: their points (None: no points)
    cache: dict = field(default_factory=dict)  # per-rule tables built on first use

    def _groups(self) -> tuple:
        built = self.cache.get("groups")
        if built is None:
            built = _group_tables(self)
            self.cache["groups"] = built
        return built

    @property
    def group_items(self) -> list[tuple[int, ...]]:
        """Listed project indices per group."""
        return self._groups()[0]

    @property
    def supporters(self) -> list[list[int]]:
        """Per project: the groups with positive satisfaction (in group order)."""
        return self._groups()[1]

    @property
    def approvers(self) -> list[list[int]]:
        """Per project: the groups listing it (in group order), whatever their satisfaction."""
        return self._groups()[3]

    @property
    def supporter_sat(self) -> list[list[Number]] | None:
        """Per project, parallel to ``supporters``: each group's satisfaction (points only)."""
        return self._groups()[2]


def _group_tables(el: Electorate) -> tuple:
    index = {pid: i for i, pid in enumerate(el.ids)}
    m = len(el.ids)
    use_points = el.unit_sat is None
    supporters: list[list[int]] = [[] for _ in range(m)]
    supporter_sat: list[list[Number]] | None = [[] for _ in range(m)] if use_points else None
    # project indices per group, mapped in C
    group_items = list(map(tuple, map(map, repeat(index.__getitem__), el.listed_ids)))
    if use_points:
        for g, (idx, points) in enumerate(zip(group_items, el.listed_points)):
            for p, value in zip(idx, points):
                if value > 0:
                    supporters[p].append(g)
                    supporter_sat[p].append(value)
        approvers = [[] for _ in range(m)]
        add = [a.append for a in approvers]
        for g, idx in enumerate(group_items):
            for p in idx:
                add[p](g)
    else:
        add = [a.append for a in supporters]
        for g, idx in enumerate(group_items):
            for p in idx:
                add[p](g)
        approvers = supporters
        supporters = [groups if el.unit_sat[p] != 0 else [] for p, groups in enumerate(approvers)]
    return group_items, supporters, supporter_sat, approvers


def listed_items(profile: Profile) -> tuple[list[tuple[str, ...]], list[tuple[Number, ...] | None]]:
    """Per group: distinct listed ids (first occurrence kept), and their points (or None)."""
    ballots = list(map(attrgetter("ballot"), profile.groups))
    items_list = list(map(attrgetter("items"), ballots))
    points_list = list(map(attrgetter("points"), ballots))
    if _strictly_increasing(items_list):  # canonical approval ballots: checked in C
        return items_list, points_list
    # otherwise, also checked in C: no ballot lists an id twice
    if list(map(len, items_list)) == list(map(len, map(set, items_list))):
        return items_list, points_list
    out_items, out_points = [], []
    for items, points in zip(items_list, points_list):
        if len(set(items)) != len(items):
            seen: dict[str, int] = {}
            for pos, pid in enumerate(items):
                seen.setdefault(pid, pos)
            keep = sorted(seen.values())
            items = tuple(items[i] for i in keep)
            points = tuple(points[i] for i in keep) if points is not None else None
        out_items.append(items)
        out_points.append(points)
    return out_items, out_points


def _strictly_increasing(items_list: list[tuple[str, ...]]) -> bool:
    """Every ballot's ids in strictly increasing order (so none twice), in C: each id is
    compared with the next one of the same ballot (all but the last vs all but the first)."""
    heads = chain.from_iterable(map(itemgetter(slice(None, -1)), items_list))
    tails = chain.from_iterable(map(itemgetter(slice(1, None)), items_list))
    return all(map(lt, heads, tails))


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
    items_list, points_list = listed_items(profile)
    group_count = list(map(attrgetter("count"), profile.groups))
    if min(group_count, default=0) < 0:
        raise ValueError("a ballot group has a negative count")
    # votes: single voters counted in C (Counter over the chained ids), the rest in a loop
    tally_ones = Counter(chain.from_iterable(compress(items_list, map((1).__eq__, group_count))))
    several = list(map((1).__ne__, group_count))
    for items, n in zip(compress(items_list, several), compress(group_count, several)):
        for pid in items:
            tally_ones[pid] += n
    unknown = set(tally_ones) - set(costs)
    if unknown:
        raise ValueError(f"a ballot lists unknown project {sorted(unknown)[0]!r}")
    vote_count = {pid: tally_ones.get(pid, 0) for pid in costs}
    ids = priority_order(costs, vote_count, tie_break, seed)
    m = len(ids)
    cost = [costs[pid] for pid in ids]
    votes = [vote_count[pid] for pid in ids]
    if satisfaction == "points":
        unit_sat = None
        index = {pid: i for i, pid in enumerate(ids)}
        total_sat: list[Number] = [0] * m
        for items, points, n in zip(items_list, points_list, group_count):
            if points is None or len(points) != len(items):
                raise ValueError("points satisfaction needs a points value for every listed project")
            for pid, value in zip(items, points):
                total_sat[index[pid]] += n * value
    else:
        unit_sat = list(cost) if satisfaction == "cost" else [1] * m
        total_sat = [unit_sat[p] * votes[p] for p in range(m)]
    return Electorate(
        ids=ids,
        cost=cost,
        votes=votes,
        budget=budget,
        num_voters=sum(group_count),
        group_count=group_count,
        unit_sat=unit_sat,
        total_sat=total_sat,
        satisfaction=satisfaction,
        listed_ids=items_list,
        listed_points=points_list,
    )
