"""Sequential Phragmén, exact, with a float shortlist.

Why: a proportional rule that needs no per-voter budget: voters earn money
continuously, and a project is bought as soon as its supporters together hold its
cost; the buyers' loads are equalised. Semantics follow pabutools'
``sequential_phragmen``: only projects costing at most the budget take part; each
round the project with the smallest new maximal load
(Σ supporters' loads + cost) / supporters wins, exact ties go to the tie-break
order, and the rule **stops** as soon as any tied minimiser no longer fits (it
does not skip to cheaper projects). Projects nobody supports have infinite load
and are bought last, while all of them still fit. Ballots of any kind are used
through their approval projection (every listed project is approved).

Speed: a group's load is always the load fixed when the last project it supports
was bought, so Σ loads over a project's supporters is Σ_q L_q·W[p][q] with integer
weights W[p][q] (voters supporting p whose last purchase is q), kept up to date
incrementally. Each round evaluates all candidates in floats; every candidate
within a proven error margin of the float minimum is then evaluated exactly, and
only exact values decide.
"""

from __future__ import annotations

import math
from fractions import Fraction

from pb.tally import explain
from pb.tally.numbers import float_tolerance, to_q, Q
from pb.tally.satisfaction import Electorate


def phragmen(el: Electorate) -> tuple[list[int], dict]:
    m = len(el.ids)
    counts = el.group_count
    cost = [to_q(c) for c in el.cost]
    budget = to_q(el.budget)
    group_items = el.group_items
    listed: list[list[int]] = [[] for _ in range(m)]
    for g, items in enumerate(group_items):
        for p in items:
            listed[p].append(g)
    score = el.votes
    active = [p for p in range(m) if cost[p] <= budget]
    active_set = set(active)
    # weights[p][q]: voters listing p whose current load is the load fixed by purchase q
    # (q = -1: the initial load 0).
    weights: list[dict[int, int]] = [{-1: score[p]} if score[p] else {} for p in range(m)]
    load_exact: dict[int, object] = {-1: Q(0)}
    load_float: dict[int, float] = {-1: 0.0}
    cost_float = [float(c) for c in cost]
    last = [-1] * len(counts)
    winners: list[int] = []
    outcomes: dict[int, object] = {}
    spent = Q(0)
    tolerance = float_tolerance(4 * (m + 4) * (m + 4))

    def exact_load(p):
        total = cost[p]
        for q, w in weights[p].items():
            if w:
                total += load_exact[q] * w
        return total / score[p]

    round_no = 0
    stopped_on = None
    while active:
        round_no += 1
        finite = [p for p in active if score[p] > 0]
        if finite:
            approx = {}
            for p in finite:
                total = cost_float[p]
                for q, w in weights[p].items():
                    if w:
                        total += load_float[q] * w
                approx[p] = total / score[p]
            low = min(approx.values())
            limit = low * (1 + tolerance) + 1e-300
            shortlist = [p for p in finite if approx[p] <= limit]
            values = {p: exact_load(p) for p in shortlist}
            best = min(values.values())
            tied = sorted(p for p, v in values.items() if v == best)
        else:
            best = None  # infinite: only unsupported projects remain
            tied = sorted(active)
        misfits = [p for p in tied if spent + cost[p] > budget]
        if misfits:
            stopped_on = (tied, misfits)
            break
        s = tied[0]
        winners.append(s)
        spent += cost[s]
        active.remove(s)
        active_set.discard(s)
        outcomes[s] = explain.outcome(
            el.ids[s], explain.SELECTED, votes=el.votes[s], cost=el.cost[s], round=round_no,
            load=best, money_left=budget - spent + cost[s],
        )
        if best is None:
            continue
        load_exact[s] = best
        load_float[s] = float(best)
        for g in listed[s]:
            old = last[g]
            n = counts[g]
            last[g] = s
            for p in group_items[g]:
                if p in active_set:
                    row = weights[p]
                    row[old] -= n
                    row[s] = row.get(s, 0) + n
    money_left = budget - spent
    for p in range(m):
        if p in outcomes:
            continue
        figures = dict(votes=el.votes[p], cost=el.cost[p], money_left=money_left)
        if cost[p] > budget:
            reason = explain.NOT_AFFORDABLE
        elif stopped_on is not None and p in stopped_on[1]:
            reason = explain.NOT_AFFORDABLE
            figures["stopped_rule"] = True
        elif el.votes[p] == 0:
            reason = explain.NO_SUPPORT
        else:
            reason = explain.BUDGET_EXHAUSTED
        outcomes[p] = explain.outcome(el.ids[p], reason, **figures)
    return winners, outcomes
