"""Maximum utilitarian welfare: the exact 0/1 knapsack.

Why: the utilitarian benchmark — the set of projects with the largest total
satisfaction that fits the budget (pabutools' ``max_additive_utilitarian_welfare``).
Solved exactly by depth-first branch and bound on integers: costs and profits
are scaled to a common integer unit, items are explored by decreasing profit
per cost (ties by tie-break rank), and a branch is cut when the fractional
(Dantzig) relaxation cannot beat the best set found so far. Among optimal sets
the first one found in that order is returned (pabutools leaves this choice
unspecified: compare welfare, not sets). Free supported projects are always
taken; if every project fits, all are funded, as pabutools does.
"""

from __future__ import annotations

import math
from bisect import bisect_right

from pb.tally import explain
from pb.tally.rational import Rational

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from pb.tally.satisfaction import Electorate


def _scale(values) -> int:
    scale = 1
    for v in values:
        den = int(v.denominator)  # of an int, a Fraction or a Rational
        scale = scale * den // math.gcd(scale, den)
    return scale


def knapsack(weights: list[int], values: list[int], capacity: int) -> list[int]:
    """Indices of an optimal subset (weights > 0, values > 0, items pre-sorted by density)."""
    n = len(weights)
    prefix_w = [0]
    prefix_v = [0]
    for w, v in zip(weights, values):
        prefix_w.append(prefix_w[-1] + w)
        prefix_v.append(prefix_v[-1] + v)
    best_value = -1
    best_set: list[int] = []
    chosen: list[int] = []

    def improvable(i: int, room: int, value: int) -> bool:
        # Largest j with prefix_w[j] - prefix_w[i] <= room: items i..j-1 fit whole.
        j = bisect_right(prefix_w, prefix_w[i] + room, lo=i) - 1
        whole = value + prefix_v[j] - prefix_v[i]
        if j >= n:
            return whole > best_value
        left = room - (prefix_w[j] - prefix_w[i])
        return whole * weights[j] + left * values[j] > best_value * weights[j]

    def search(i: int, room: int, value: int) -> None:
        nonlocal best_value, best_set
        while i < n and weights[i] > room:
            i += 1
        if i >= n:
            if value > best_value:
                best_value, best_set = value, list(chosen)
            return
        if not improvable(i, room, value):
            return
        chosen.append(i)
        search(i + 1, room - weights[i], value + values[i])
        chosen.pop()
        search(i + 1, room, value)

    search(0, capacity, 0)
    return best_set


def max_welfare(el: Electorate) -> tuple[list[int], dict]:
    m = len(el.ids)
    profit = el.total_sat
    if sum(el.cost) <= el.budget:
        winners = list(range(m))
    else:
        free = [p for p in range(m) if el.cost[p] == 0 and profit[p] > 0]
        items = [p for p in range(m) if el.cost[p] > 0 and profit[p] > 0 and el.cost[p] <= el.budget]
        items.sort(key=lambda p: (-Rational(profit[p], el.cost[p]), p))
        money_scale = _scale([el.budget, *(el.cost[p] for p in items)])
        value_scale = _scale(profit[p] for p in items)
        weights = [int(el.cost[p] * money_scale) for p in items]
        values = [int(profit[p] * value_scale) for p in items]
        capacity = math.floor(el.budget * money_scale)
        winners = free + [items[i] for i in knapsack(weights, values, capacity)]
    chosen = set(winners)
    welfare = sum(profit[p] for p in winners)
    outcomes = {}
    for p in range(m):
        figures = dict(votes=el.votes[p], cost=el.cost[p], welfare=profit[p], total_welfare=welfare)
        if p in chosen:
            reason = explain.SELECTED
        elif profit[p] <= 0:
            reason = explain.NO_SUPPORT
        elif el.cost[p] > el.budget:
            reason = explain.NOT_AFFORDABLE
        else:
            reason = explain.NOT_OPTIMAL
        outcomes[p] = explain.outcome(el.ids[p], reason, **figures)
    return winners, outcomes
