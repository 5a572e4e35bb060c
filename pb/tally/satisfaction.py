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

from itertools import chain, compress, islice, repeat
from operator import attrgetter, itemgetter, lt

from pb.tally import numbers
from pb.tally.grouped import LazyGroups
from pb.tally.numbers import check_exact
from pb.tally.tiebreak import priority_order

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Sequence

    from pb.tally.model import Instance, Number, Profile

SATISFACTIONS = ("cost", "cardinality", "points")


class Electorate:
    """Projects (indexed by tie rank) and ballot groups, ready for the rules.

    The ballots are kept as arrays: ``item_project`` lists, group after group,
    the project index of every listed item, ``group_length`` how many items each
    group lists. Per-project tables (``supporters``, ``approvers``) are built from
    them on first use: greedy needs only the vote counts, which are much cheaper.
    A ``small`` electorate (``numbers.SMALL_GROUPS``) keeps them as plain lists and
    computes with ``rational.Rational``, so a small tally never imports numpy or gmpy2; a large
    one keeps numpy arrays and computes with ``mpq``.
    """

    __slots__ = ("ids", "cost", "votes", "budget", "num_voters", "group_count", "unit_sat", "total_sat",
                 "satisfaction", "item_project", "group_length", "listed_points", "small", "cache")

    def __init__(self, *, ids: list[str], cost: list[Number], votes: list[int], budget: Number, num_voters: int,
                 group_count: list[int], unit_sat: list[Number] | None, total_sat: list[Number],
                 satisfaction: str, item_project, group_length, listed_points: list[tuple[Number, ...] | None],
                 small: bool = False):
        self.ids = ids
        self.cost = cost
        self.votes = votes  # voters listing the project
        self.budget = budget
        self.num_voters = num_voters
        self.group_count = group_count
        self.unit_sat = unit_sat  # the one satisfaction value per project (cost, cardinality)
        self.total_sat = total_sat  # sum over voters of sat_i(p)
        self.satisfaction = satisfaction
        # per listed item, groups concatenated: the project index (a numpy array, or a list if small)
        self.item_project = item_project
        self.group_length = group_length  # per group: the number of listed items
        self.listed_points = listed_points  # per group: their points (None: no points)
        self.small = small  # plain lists and Rational (see above)
        self.cache: dict = {}  # per-rule tables built on first use

    def _groups(self) -> tuple:
        built = self.cache.get("groups")
        if built is None:
            built = _group_tables(self)
            self.cache["groups"] = built
        return built

    @property
    def supporters(self) -> list[list[int]]:
        """Per project: the groups with positive satisfaction (in group order)."""
        return self._groups()[0]

    @property
    def supporter_sat(self) -> list[list[Number]] | None:
        """Per project, parallel to ``supporters``: each group's satisfaction (points only)."""
        return self._groups()[1]

    @property
    def approvers(self) -> list[list[int]]:
        """Per project: the groups listing it (in group order), whatever their satisfaction."""
        return self._groups()[2]

    @property
    def approver_arrays(self) -> list:
        """``approvers`` as numpy index arrays (small electorate: the lists themselves)."""
        return self._groups()[3]


def _group_tables(el: Electorate) -> tuple:
    """Per project, the groups listing it, sorted out of the item arrays in one stable sort."""
    if el.small:
        return _group_tables_small(el)
    import numpy as np

    m = len(el.ids)
    group_of_item = np.repeat(np.arange(len(el.group_count), dtype=np.intp), el.group_length)
    # by project, then group order; as bytes when they fit, numpy's stable sort is a radix sort
    narrow = np.uint8 if m <= 256 else np.uint16 if m <= 65536 else np.intp
    order = np.argsort(el.item_project.astype(narrow, copy=False), kind="stable")
    bounds = np.zeros(m + 1, dtype=np.intp)
    np.cumsum(np.bincount(el.item_project, minlength=m), out=bounds[1:])
    by_project = group_of_item[order]
    arrays = [by_project[bounds[p]:bounds[p + 1]] for p in range(m)]
    approvers = [a.tolist() for a in arrays]
    if el.unit_sat is not None:
        supporters = [groups if el.unit_sat[p] != 0 else [] for p, groups in enumerate(approvers)]
        return supporters, None, approvers, arrays
    points = list(chain.from_iterable(el.listed_points))
    points_by_project = list(map(points.__getitem__, order.tolist()))
    supporters, supporter_sat = [], []
    for p in range(m):
        values = points_by_project[bounds[p]:bounds[p + 1]]
        positive = list(map((0).__lt__, values))
        supporters.append(list(compress(approvers[p], positive)))
        supporter_sat.append(list(compress(values, positive)))
    return supporters, supporter_sat, approvers, arrays


def _group_tables_small(el: Electorate) -> tuple:
    """``_group_tables`` in plain Python: the groups listing each project, in group order."""
    m = len(el.ids)
    approvers: list[list[int]] = [[] for _ in range(m)]
    points_by: list[list] = [[] for _ in range(m)]
    items = iter(el.item_project)
    for g, (length, points) in enumerate(zip(el.group_length, el.listed_points)):
        for i, p in enumerate(islice(items, length)):
            approvers[p].append(g)
            if points is not None:
                points_by[p].append(points[i])
    if el.unit_sat is not None:
        supporters = [groups if el.unit_sat[p] != 0 else [] for p, groups in enumerate(approvers)]
        return supporters, None, approvers, approvers
    supporters, supporter_sat = [], []
    for p in range(m):
        positive = list(map((0).__lt__, points_by[p]))
        supporters.append(list(compress(approvers[p], positive)))
        supporter_sat.append(list(compress(points_by[p], positive)))
    return supporters, supporter_sat, approvers, approvers


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
    iterated: bool = False,
) -> Electorate:
    """Build the ``Electorate`` of one tally (validates numbers and project ids);
    ``iterated``: for a rule that reruns MES many times (see ``numbers.SMALL_GROUPS``)."""
    if satisfaction not in SATISFACTIONS:
        raise ValueError(f"unknown satisfaction {satisfaction!r}; choose from {SATISFACTIONS}")
    if satisfaction == "points" and profile.kind not in ("cumulative", "scoring"):
        raise ValueError("points satisfaction needs cumulative or scoring ballots")
    budget = check_exact(instance.budget, "budget")
    if budget < 0:
        raise ValueError(f"the budget must not be negative, got {budget}")
    costs = {pid: check_exact(p.cost, f"cost of {pid}") for pid, p in instance.projects.items()}
    for pid, project in instance.projects.items():
        if project.id != pid:
            raise ValueError(f"project keyed {pid!r} has id {project.id!r}")
        if costs[pid] < 0:
            raise ValueError(f"project {pid} has a negative cost")
    known = sorted(costs)
    groups = profile.groups
    limit = numbers.SMALL_GROUPS_ITERATED if iterated else numbers.SMALL_GROUPS
    small = not isinstance(groups, LazyGroups) and len(groups) <= limit
    if small:
        group_count, points_list, item_position, group_length = _ballot_lists(profile, known)
    else:
        import numpy as np

        group_count, points_list, item_position, group_length = _ballot_arrays(profile, known)
    if min(group_count, default=0) < 0:
        raise ValueError("a ballot group has a negative count")
    if small:
        listed = [0] * len(known)
        for position_, n in zip(item_position, chain.from_iterable(map(repeat, group_count, group_length))):
            listed[position_] += n
    else:
        # per project (in sorted id order): voters listing it, counted by numpy (float64
        # sums of integers are exact below 2**53 voters)
        listed = np.bincount(item_position, weights=np.repeat(np.asarray(group_count, dtype=np.float64),
                                                              group_length), minlength=len(known)).tolist()
    vote_count = dict(zip(known, map(int, listed)))
    ids = priority_order(costs, vote_count, tie_break, seed)
    m = len(ids)
    cost = [costs[pid] for pid in ids]
    votes = [vote_count[pid] for pid in ids]
    rank = dict(zip(ids, range(m)))
    rank_of_position = [rank[pid] for pid in known]  # sorted-id position -> tie rank
    if small:
        item_project = list(map(rank_of_position.__getitem__, item_position))
    else:
        item_project = np.asarray(rank_of_position, dtype=np.intp)[item_position]
    if satisfaction == "points":
        unit_sat = None
        index = {pid: i for i, pid in enumerate(ids)}
        total_sat: list[Number] = [0] * m
        items_list = listed_items(profile)[0]
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
        item_project=item_project,
        group_length=group_length,
        listed_points=points_list,
        small=small,
    )


def _ballot_lists(profile: Profile, known: list[str]) -> tuple:
    """``_ballot_arrays`` in plain Python lists, for a small electorate."""
    groups = profile.groups
    group_count = list(map(attrgetter("count"), groups))
    ballots = list(map(attrgetter("ballot"), groups))
    items_list = list(map(attrgetter("items"), ballots))
    points_list = list(map(attrgetter("points"), ballots))
    if list(map(len, items_list)) != list(map(len, map(set, items_list))):  # an id listed twice
        items_list, points_list = listed_items(profile)
    position = dict(zip(known, range(len(known))))
    try:
        item_position = list(map(position.__getitem__, chain.from_iterable(items_list)))
    except KeyError:
        unknown = set(chain.from_iterable(items_list)) - set(position)
        raise ValueError(f"a ballot lists unknown project {sorted(unknown)[0]!r}") from None
    return group_count, points_list, item_position, list(map(len, items_list))


def _ballot_arrays(profile: Profile, known: list[str]) -> tuple:
    """(voters per group, points per group, every listed item as the position of its id
    among the sorted project ids ``known``, items per group), with ids listed twice reduced to their
    first occurrence. Unknown ids are an error.

    Why numpy: on city-wide files this is a few hundred thousand items. A profile read
    from a file may hold exactly these arrays already (``LazyGroups``). Otherwise canonical
    approval ballots (ids sorted, none twice) are recognised in one vectorised test:
    positions strictly increasing inside every group.
    """
    import numpy as np

    groups = profile.groups
    if isinstance(groups, LazyGroups) and groups.arrays.ids == tuple(known):
        a = groups.arrays
        return list(a.group_count), [None] * len(a.group_count), a.item_position, a.group_length
    group_count = list(map(attrgetter("count"), groups))
    ballots = list(map(attrgetter("ballot"), groups))
    items_list = list(map(attrgetter("items"), ballots))
    points_list = list(map(attrgetter("points"), ballots))
    position = dict(zip(known, range(len(known))))
    group_length = np.fromiter(map(len, items_list), dtype=np.intp, count=len(items_list))
    total = int(group_length.sum())
    try:
        item_position = np.fromiter(map(position.__getitem__, chain.from_iterable(items_list)),
                                    dtype=np.intp, count=total)
    except KeyError:
        unknown = set(chain.from_iterable(items_list)) - set(position)
        raise ValueError(f"a ballot lists unknown project {sorted(unknown)[0]!r}") from None
    if total > 1:
        rises = np.diff(item_position) > 0
        starts = np.cumsum(group_length)[:-1]  # where each later group starts
        rises[starts[(starts > 0) & (starts < total)] - 1] = True  # across groups: no test
        if rises.all():
            return group_count, points_list, item_position, group_length
    else:
        return group_count, points_list, item_position, group_length
    # not sorted (rankings, points in written order) or an id twice: check by sets
    if list(map(len, items_list)) == list(map(len, map(set, items_list))):
        return group_count, points_list, item_position, group_length
    items_list, points_list = listed_items(profile)
    group_length = np.fromiter(map(len, items_list), dtype=np.intp, count=len(items_list))
    item_position = np.fromiter(map(position.__getitem__, chain.from_iterable(items_list)),
                                dtype=np.intp, count=int(group_length.sum()))
    return group_count, points_list, item_position, group_length
