"""Method of Equal Shares (MES), exact, on grouped ballots.

Why: MES gives every voter an equal share of the budget and funds a project
only if its supporters can pay for it from their shares, which makes the result
proportional. Semantics follow pabutools' ``method_of_equal_shares``: projects
need positive cost and support (free supported projects are funded up front);
each round funds the project with the smallest ρ, where supporter i pays
min(b_i, ρ·sat_i(p)) and the payments sum to the cost; exact ties go to the
tie-break order.

Speed: voters are not tracked one by one. Voters with the same remaining money
form a *budget class*; a ballot group belongs to one class, and funding a
project moves its supporters' groups to new classes. ρ is computed over the
distinct classes of a project's supporters (few) instead of its voters (many).
ρ of a project never decreases (money only shrinks), so the previous ρ is a
lower bound and only projects whose bound beats the best ρ so far are
re-evaluated each round (the "lazy ρ" of equalshares.net).

Completions rerun MES with more money per voter; ``mes_run(..., stability=True)``
also reports for how much more money the outcome provably stays the same
(``_Horizon``), so those reruns can be skipped (pb.tally.completion). The other
reruns use the float-screened ``mes_fast.fast_run`` (same winners, faster). This
exact run is the reference; on large electorates with one satisfaction value per
project the published run is ``mes_fast.exact_run``, the same run computed faster
(tests compare the two outcome by outcome).
"""

from __future__ import annotations

from itertools import chain
from operator import itemgetter

from pb.tally.numbers import float_safe, to_q
from pb.tally.records import dataclass, field  # not the dataclasses module: see pb.tally.records
from pb.tally.satisfaction import Electorate


@dataclass(slots=True)
class MesRun:
    """One MES run: winners in order, plus the figures for the explanations."""

    per_voter: object
    winners: list[int]
    spent: object
    selected: dict[int, dict] = field(default_factory=dict)
    dropped: dict[int, dict] = field(default_factory=dict)
    candidates: list[int] = field(default_factory=list)  # supported, positive cost
    # with stability tracking: the outcome is the same for per_voter + δ, 0 ≤ δ < stable_for
    # (None: not tracked, or no limit found)
    stable_for: object = None
    exact: bool = True  # False: from mes_fast (winners and spending only)
    stopped: str | None = None  # a completion's last run: why it ended (completion.STOP_REASONS)


def _rho(entries, cost, unit=None):
    """Smallest ρ with Σ w·min(b, ρ·s) = cost, over (b, s, w, class) sorted by b/s ascending.

    The poorest supporters pay everything they have; the rest pay ρ·s each. With one
    satisfaction value ``unit`` for all supporters the scan works on the payment cap
    x = ρ·unit directly (integer voter counts as denominators, one division per class).
    """
    remaining = cost
    if unit is not None:
        voters = 0
        for e in entries:
            voters += e[2]
        for b, _, w, _ in entries:
            cap = remaining / voters
            if cap <= b:
                return cap / unit
            remaining -= w * b
            voters -= w
        raise AssertionError("ρ requested for an unaffordable project")
    denom = 0
    for _, s, w, _ in entries:
        denom += w * s
    for b, s, w, _ in entries:
        r = remaining / denom
        if r * s <= b:
            return r
        remaining -= w * b
        denom -= w * s
    raise AssertionError("ρ requested for an unaffordable project")


class _Tables:
    """Per-electorate data reused by every MES run (the Add1 loop runs MES many times)."""

    def __init__(self, el: Electorate):
        small = self.small = el.small  # plain lists and Rational (see Electorate)
        self.cost = [to_q(c, small) for c in el.cost]
        # amounts beyond float range (a 400-digit budget) skip the float screening
        self.floats_ok = float_safe(el.cost)
        self.cost_f = [float(c) for c in el.cost] if self.floats_ok else None
        counts = el.group_count
        if el.unit_sat is not None:
            self.unit = [to_q(u, small) for u in el.unit_sat]
            self.sats = None
            # per project: its supporters' ballot groups (numpy) and their voter counts (float64:
            # exact below 2**53), for the class histograms of mes_run
            if small:
                self.groups = [groups if u != 0 else [] for groups, u in zip(el.approvers, el.unit_sat)]
                self.weights = [[counts[g] for g in groups] for groups in self.groups]
            else:
                import numpy as np

                voters = np.asarray(counts, dtype=np.float64)
                none = np.zeros(0, dtype=np.intp)
                self.groups = [groups if u != 0 else none for groups, u in zip(el.approver_arrays, el.unit_sat)]
                self.weights = [voters[groups] for groups in self.groups]
            # supporters are the approvers (or none, with satisfaction 0): el.votes counts them
            self.total = [self.unit[p] * el.votes[p] for p in range(len(el.ids))]
        else:
            self.unit = None
            self.sats = [[to_q(s, small) for s in row] for row in el.supporter_sat]
            self.groups = self.weights = None
            self.total = [
                sum((counts[g] * s for g, s in zip(el.supporters[p], self.sats[p])), to_q(0, small))
                for p in range(len(el.ids))
            ]


def tables(el: Electorate) -> _Tables:
    if el.cache.get("mes") is None:
        el.cache["mes"] = _Tables(el)
    return el.cache["mes"]


def mes_run(el: Electorate, per_voter, *, stability: bool = False) -> MesRun:
    """Run MES once with the given money per voter (an exact number).

    With ``stability`` (cost or cardinality satisfaction), also find how much more money
    per voter would leave the winners unchanged: ``run.stable_for`` (see _Horizon).
    """
    t = tables(el)
    cost, cost_f, unit, sats, total = t.cost, t.cost_f, t.unit, t.sats, t.total
    counts = el.group_count
    supporters = el.supporters
    m = len(el.ids)
    start = to_q(per_voter, t.small)
    zero, one = to_q(0, t.small), to_q(1, t.small)
    # exact money per voter of each budget class; class 0 = untouched, class 1 = nothing left
    class_budget = [start, zero]
    # the same, rounded: only used to skip exact work safely (None: amounts beyond float range)
    class_float = [float(start), 0.0] if t.floats_ok and float_safe((start,)) else None
    # each ballot group's budget class (numpy with one satisfaction value per project: the
    # histograms and moves are vectorised)
    if unit is not None and not t.small:
        import numpy as np

        group_class = np.zeros(len(counts), dtype=np.intp)
    else:
        group_class = [0] * len(counts)
    # stability: every amount is affine in the extra money per voter δ; its slope is kept
    horizon = _Horizon() if stability and unit is not None else None
    class_slope = [one, zero] if horizon else None
    rho_slope = [zero] * m if horizon else None

    winners: list[int] = []
    run = MesRun(per_voter=start, winners=winners, spent=zero)
    rho: list = [None] * m
    active: list[int] = []
    for p in range(m):
        if total[p] <= 0:
            continue
        if cost[p] == 0:
            winners.append(p)
            run.selected[p] = {"round": 0, "rho": zero, "payments": ()}
            continue
        rho[p] = cost[p] / total[p]
        active.append(p)
    run.candidates = list(active)

    def supporter_classes(p):
        """(budget, sat, voters, class) per budget class of p's supporters."""
        if unit is not None and t.small:
            s = unit[p]
            per_class: dict = {}
            for g, w in zip(t.groups[p], t.weights[p]):
                c = group_class[g]
                per_class[c] = per_class.get(c, 0) + w
            return [(class_budget[c], s, per_class[c], c) for c in sorted(per_class)]
        if unit is not None:
            s = unit[p]
            hist = np.bincount(group_class[t.groups[p]], weights=t.weights[p])
            ids = np.flatnonzero(hist)
            return [(class_budget[c], s, w, c) for c, w in zip(ids.tolist(), hist[ids].astype(np.int64).tolist())]
        weights: dict = {}
        for g, s in zip(supporters[p], sats[p]):
            key = (group_class[g], s)
            weights[key] = weights.get(key, 0) + counts[g]
        return [(class_budget[c], s, w, c) for (c, s), w in weights.items()]

    def can_afford(p, entries):
        """Exact test "supporters' money >= cost", decided in floats when far from equality.

        The float sum has relative error below (len(entries) + 2) * 2**-52; the margin
        used is 2**-30, so only near-equality falls through to the exact sum.
        """
        if class_float is None:
            return _money(entries) >= cost[p]
        approx = sum([e[2] * class_float[e[3]] for e in entries])
        if approx > cost_f[p] * (1 + MARGIN):
            return True
        if approx < cost_f[p] * (1 - MARGIN):
            return False
        return _money(entries) >= cost[p]

    round_no = 0
    while active:
        round_no += 1
        evaluated = {}
        cuts: dict[int, int] = {}

        def evaluate(p):
            entries = supporter_classes(p)
            if not can_afford(p, entries):
                run.dropped[p] = {"round": round_no, "supporters": entries, "last_rho": rho[p]}
                if horizon:  # stays unaffordable while its supporters' money stays below its cost
                    horizon.holds(cost[p] - _money(entries), -sum(e[2] * class_slope[e[3]] for e in entries))
                return None
            if unit is not None:
                entries.sort(key=_first)
            else:
                entries.sort(key=_ratio)
            evaluated[p] = entries
            if horizon:
                r, rho_slope[p], cuts[p] = _rho_tracked(entries, cost[p], unit[p], class_slope)
                return r
            return _rho(entries, cost[p], unit[p] if unit is not None else None)

        best, tied, active, skipped = lazy_round(active, rho, evaluate)
        if not tied:
            break
        s = min(tied)
        if horizon:  # the winner pays the same way and stays the cheapest per satisfaction
            best_slope = rho_slope[s]
            _keep_split(evaluated[s], cuts[s], best * unit[s], best_slope * unit[s], class_slope, horizon)
            for p in chain(evaluated, skipped):
                if p in tied:
                    horizon.equal(rho_slope[p] - best_slope)
                else:
                    horizon.holds(rho[p] - best, rho_slope[p] - best_slope)
        active.remove(s)
        winners.append(s)
        run.spent += cost[s]
        run.selected[s] = {"round": round_no, "rho": best,
                           "payments": _pay(s, best, evaluated[s], t.groups[s] if unit is not None else supporters[s],
                                            group_class, class_budget,
                                            class_float, unit, sats,
                                            class_slope, rho_slope[s] * unit[s] if horizon else None)}
    for p in active:  # left over when the loop ended: unaffordable by construction
        if p not in run.dropped:
            entries = supporter_classes(p)
            run.dropped[p] = {"round": round_no, "supporters": entries, "last_rho": rho[p]}
    if horizon:
        run.stable_for = horizon.limit
    return run


def lazy_round(active: list[int], rho: list, evaluate) -> tuple:
    """One MES round's evaluations in the lazy-ρ order, shared by the exact runs (``mes_run``
    and ``mes_fast.exact_run``) so that they evaluate, and drop, the same projects in the
    same rounds (the rounds and last ρ of the explanations).

    Candidates go by (last ρ, index); each is evaluated only while its last ρ (a lower
    bound: ρ never decreases) is at most the best ρ found so far. ``evaluate(p)`` returns
    p's current ρ, or None if its supporters can no longer pay for it (it leaves the race).
    Returns (best ρ, the projects at it, the projects still in the race, those not evaluated).
    """
    active.sort(key=lambda p: (rho[p], p))
    best = None
    tied: list[int] = []
    keep: list[int] = []
    skipped: list[int] = []
    for pos, p in enumerate(active):
        if best is not None and rho[p] > best:
            skipped = active[pos:]
            keep.extend(skipped)
            break
        r = evaluate(p)
        if r is None:
            continue
        keep.append(p)
        rho[p] = r
        if best is None or r < best:
            best, tied = r, [p]
        elif r == best:
            tied.append(p)
    return best, tied, keep, skipped


class _Horizon:
    """How far the money per voter may grow (by δ ≥ 0) with the same MES outcome.

    Why: the add-one completion reruns MES with 1 more unit per voter until the outcome
    changes its verdict; with amounts in cents and a few hundred voters that is thousands
    of runs that mostly repeat the same outcome. With cost or cardinality satisfaction,
    while every decision of a run keeps its direction, each amount in it (budgets of the
    budget classes, payment caps, ρ) is an affine function of δ (money per voter only
    shifts budgets; payments follow linearly). A run records each decision as an affine
    g(δ) = g0 + gs·δ whose sign must not change; ``limit`` is the smallest δ at which one
    could (exclusive), None if none ever can. The outcome is then provably identical for
    every δ in [0, limit). Exact ties and equalities give limit 0 (no skipping).
    """

    __slots__ = ("limit",)

    def __init__(self):
        self.limit = None

    def holds(self, g0, gs) -> None:
        """A decision g(δ) ≥ 0 (or > 0) taken with g(0) = g0 ≥ 0."""
        if gs >= 0:
            return
        reach = g0 / -gs if g0 > 0 else 0
        if self.limit is None or reach < self.limit:
            self.limit = reach

    def equal(self, gs) -> None:
        """An exact equality (a tie) that must stay one."""
        if gs != 0:
            self.limit = 0


def _rho_tracked(entries, cost, unit, class_slope):
    """``_rho`` for one satisfaction value per supporter, plus the slope of ρ in δ.

    Returns (ρ, slope of ρ, cut): the classes before ``cut`` pay all they have, the others
    the cap ρ·unit. The affine ρ(δ) = ρ + slope·δ keeps this split; it is a lower bound
    of the true ρ for every δ (Σ w·min(b, ρ·u) ≤ the sum with the split kept), which is
    all a losing project's comparison needs. The winner's split is checked by
    ``_keep_split``.
    """
    remaining = cost
    remaining_slope = cost * 0  # an exact zero of the path's type (0 / voters would be a float)
    voters = 0
    for e in entries:
        voters += e[2]
    for i, (b, _, w, c) in enumerate(entries):
        cap = remaining / voters
        if cap <= b:
            cap_slope = remaining_slope / voters
            return cap / unit, cap_slope / unit, i
        remaining -= w * b
        remaining_slope -= w * class_slope[c]
        voters -= w
    raise AssertionError("ρ requested for an unaffordable project")


def _keep_split(entries, cut, cap, cap_slope, class_slope, horizon) -> None:
    """Record that every class of the winner's supporters keeps its side of the payment
    cap (poor: pays all it has; rich: pays the cap and keeps the rest)."""
    for i, (b, _, _, c) in enumerate(entries):
        gap = b - cap
        if i >= cut and gap > 0:
            horizon.holds(gap, class_slope[c] - cap_slope)  # stays richer than the cap
        elif i < cut and gap < 0:
            horizon.holds(-gap, cap_slope - class_slope[c])  # stays poorer than the cap
        else:
            horizon.limit = 0  # exactly at the cap: any change of money may change the run


MARGIN = 2.0**-30


def _money(entries):
    """Exact total money of the supporters described by ``entries``."""
    money = 0  # the sum takes the type of the amounts (Rational or mpq)
    for b, _, w, _ in entries:
        money += w * b
    return money


_first = itemgetter(0)


def _ratio(entry):
    return (entry[0] / entry[1], entry[3], entry[1])


def _pay(p, rho, entries, groups, group_class, class_budget, class_float, unit, sats,
         class_slope=None, cap_slope=None):
    """Supporters of p pay min(b, ρ·sat); returns ((payment per voter, voters), ...) by payment.

    Each paying class moves to a new class (its new budget); voters left with nothing
    all go to class 1, so exhausted voters never multiply classes.
    """
    moved: dict = {}
    classes_before = len(class_budget)
    paid: list = []
    cap = rho * unit[p] if unit is not None else None
    for b, s, w, c in entries:
        if unit is None:
            cap = rho * s
        key = c if unit is not None else (c, s)
        if cap < b:
            left = b - cap
            moved[key] = len(class_budget)
            class_budget.append(left)
            if class_float is not None:
                class_float.append(float(left))
            if class_slope is not None:
                class_slope.append(class_slope[c] - cap_slope)
            paid.append((cap, w))
        else:
            moved[key] = 1
            paid.append((b, w))
    if unit is not None and isinstance(group_class, list):  # small electorate
        for g in groups:
            group_class[g] = moved.get(group_class[g], group_class[g])
    elif unit is not None:
        import numpy as np

        # group_class[g] = moved[group_class[g]] for every supporter, vectorised
        remap = np.arange(classes_before, dtype=np.intp)
        remap[list(moved)] = list(moved.values())
        group_class[groups] = remap[group_class[groups]]
    else:
        for g, s in zip(groups, sats[p]):
            group_class[g] = moved[(group_class[g], s)]
    return paid  # merged by amount only when explained (merge_payments): most runs are not


def merge_payments(paid) -> tuple:
    """((payment per voter, voters), ...) by decreasing payment, equal payments merged."""
    merged: list = []
    for pay, w in sorted(paid, key=_first, reverse=True):
        if merged and merged[-1][0] == pay:
            merged[-1][1] += w
        else:
            merged.append([pay, w])
    return tuple((pay, w) for pay, w in merged)


def mes_outcomes(el: Electorate, run: MesRun) -> dict:
    """One ProjectOutcome per project from an MES run (exact figures, per-class payments)."""
    from pb.tally import explain

    outcomes = {}
    for p, pid in enumerate(el.ids):
        base = {"votes": el.votes[p], "cost": el.cost[p], "budget_per_voter": run.per_voter}
        unit = el.unit_sat[p] if el.unit_sat is not None else None
        if p in run.selected:
            info = run.selected[p]
            payments = info["payments"] if info.get("merged") else merge_payments(info["payments"])
            figures = dict(base, round=info["round"], rho=info["rho"],
                           payments=tuple({"amount": a, "voters": n} for a, n in payments))
            if unit is not None and info["rho"] > 0:
                figures["max_payment"] = info["rho"] * unit
                figures["effective_votes"] = el.cost[p] / (info["rho"] * unit)
            outcomes[p] = explain.outcome(pid, explain.SELECTED, **figures)
        elif p in run.dropped:
            info = run.dropped[p]
            money = info["supporters_money"] if "supporters_money" in info else _money(info["supporters"])
            figures = dict(base, round=info["round"], supporters_money=money, rho=info["last_rho"])
            if unit is not None:
                figures["effective_votes"] = el.cost[p] / (info["last_rho"] * unit)
            outcomes[p] = explain.outcome(pid, explain.MES_INSUFFICIENT_SUPPORT, **figures)
        else:
            outcomes[p] = explain.outcome(pid, explain.NO_SUPPORT, **base)
    return outcomes
