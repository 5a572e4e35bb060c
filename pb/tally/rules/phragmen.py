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

Speed: a group's load is always the load fixed when the last project it lists
was bought, so a candidate's new maximal load is computed from the few distinct
"last purchases" of its supporters (counted by numpy), never voter by voter. That
value never decreases from round to round (loads only grow), so the last value
computed is a lower bound: each round only the candidates whose bound is not
above the best exact value so far are re-evaluated (the lazy evaluation also used
for MES). Every value is exact; no float is involved.
"""

from __future__ import annotations

from pb.tally import explain
from pb.tally.numbers import to_q
from pb.tally.satisfaction import Electorate


def phragmen(el: Electorate) -> tuple[list[int], dict]:
    m = len(el.ids)
    small = el.small  # plain lists and Rational (see Electorate)
    cost = [to_q(c, small) for c in el.cost]
    budget = to_q(el.budget, small)
    zero = to_q(0, small)
    approvers = el.approver_arrays
    score = el.votes
    active = [p for p in range(m) if cost[p] <= budget]
    # a group's last purchase (m: none yet, load 0) and the load each purchase fixed
    if small:
        counts = el.group_count
        weights = [[counts[g] for g in groups] for groups in approvers]
        last = [m] * len(counts)
    else:
        import numpy as np

        counts = np.asarray(el.group_count, dtype=np.float64)  # exact: integers < 2**53
        weights = [counts[groups] for groups in approvers]
        last = np.full(len(el.group_count), m, dtype=np.intp)
    load: list = [zero] * m
    # lower bound of each candidate's new maximal load: the value computed last
    bound: list = [cost[p] / score[p] if score[p] else None for p in range(m)]
    winners: list[int] = []
    outcomes: dict[int, object] = {}
    spent = zero

    def new_max_load(p):
        """(cost + Σ supporters' loads) / supporters, exactly, over the distinct last purchases
        (voters per last purchase counted by numpy)."""
        total = cost[p]
        if small:
            per_purchase: dict = {}
            for g, w in zip(approvers[p], weights[p]):
                q = last[g]
                per_purchase[q] = per_purchase.get(q, 0) + w
            for q in sorted(per_purchase):
                if q < m:
                    total += load[q] * per_purchase[q]
            return total / score[p]
        per_purchase = np.bincount(last[approvers[p]], weights=weights[p], minlength=m + 1)[:m]
        purchases = np.flatnonzero(per_purchase)
        for q, n in zip(purchases.tolist(), per_purchase[purchases].tolist()):
            total += load[q] * int(n)
        return total / score[p]

    round_no = 0
    stopped_on = None
    while active:
        round_no += 1
        finite = [p for p in active if score[p] > 0]
        if finite:
            finite.sort(key=lambda p: (bound[p], p))
            best = None
            tied: list[int] = []
            for p in finite:
                if best is not None and bound[p] > best:
                    break  # its load is at least its bound: neither better nor tied
                value = bound[p] = new_max_load(p)
                if best is None or value < best:
                    best, tied = value, [p]
                elif value == best:
                    tied.append(p)
            tied.sort()
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
        outcomes[s] = explain.outcome(
            el.ids[s], explain.SELECTED, votes=el.votes[s], cost=el.cost[s], round=round_no,
            load=best, money_left=budget - spent + cost[s],
        )
        if best is None:
            continue
        load[s] = best
        if small:
            for g in approvers[s]:
                last[g] = s
        else:
            last[approvers[s]] = s
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
