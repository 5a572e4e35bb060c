"""MES winners fast: float screening with numpy, exact decisions where floats could err.

Why: the add-one and budget-increase completions rerun MES once per step (84 runs
for Łódź 2023, 186 for Warszawa 2026), and only the last run is published. Those
reruns need the winners and the money spent, nothing else, so they use this
faster run; the published run is then recomputed by the exact ``mes.mes_run``
(which also yields the explanations), and the two must agree.

Same rule as ``mes.mes_run`` (cost or cardinality satisfaction: one satisfaction
value per project), same budget classes (voters with the same money left), but:

- the class histogram of a project's supporters is one ``numpy.bincount`` over
  its ballot groups instead of a Python loop (counts are integers < 2**53, exact
  in float64);
- each candidate's ρ and its supporters' money are computed in floats, with the
  error bound derived in ``_tolerance`` (to first order, then widened 1024 times;
  every class budget is the correctly rounded float of its exact value, kept by
  ``_Ledger``); a project is funded on floats only if its
  ρ interval lies below every other candidate's interval, and affordability is
  decided on floats only outside the bound. Everything closer, and the winner's
  ρ and payments (which set the new class budgets), are computed exactly
  (integers and rationals), so the winners are exactly those of ``mes_run``.
"""

from __future__ import annotations

import math
from operator import mul

import numpy as np

from pb.tally.numbers import float_safe, to_q
from pb.tally.rules.mes import MesRun, mes_run
from pb.tally.satisfaction import Electorate

Q = type(to_q(0))  # the large path's exact type: gmpy2's mpq (Fraction without gmpy2)

EPS = 2.0**-52


class _Arrays:
    """Per-electorate numpy tables reused by every fast run."""

    def __init__(self, el: Electorate):
        counts = np.asarray(el.group_count, dtype=np.float64)  # exact: integers < 2**53
        none = np.zeros(0, dtype=np.intp)
        self.groups = [groups if u != 0 else none for groups, u in zip(el.approver_arrays, el.unit_sat)]
        self.weights = [counts[groups] for groups in self.groups]
        self.voters = [int(w.sum()) for w in self.weights]
        self.cost = [to_q(c) for c in el.cost]
        self.unit = [to_q(u) for u in el.unit_sat]
        # beyond float range the screening's error bound fails: fast_run is then exact
        self.floats_ok = float_safe(el.cost) and float_safe(el.unit_sat)
        self.cost_f = [float(c) for c in el.cost] if self.floats_ok else None
        self.unit_f = [float(u) for u in el.unit_sat] if self.floats_ok else None
        self.cost_denominators = math.lcm(*(int(c.denominator) for c in self.cost))


def arrays(el: Electorate) -> _Arrays:
    if el.cache.get("mes_fast") is None:
        el.cache["mes_fast"] = _Arrays(el)
    return el.cache["mes_fast"]


def _tolerance(classes: int, voters: int) -> float:
    """Relative error bound of the float money sum and of the float ρ of one project.

    Class budgets are rounded once from their exact values (relative error ≤ 2**-53);
    the scan subtracts at most ``classes`` products from the cost, all partial sums ≤ the
    cost, so the remaining amount has absolute error ≤ (2·classes + 4)·2**-53·cost. Dividing
    by the voters left (≥ 1) and comparing with the true payment cap, which is at least
    cost / voters, bounds the relative error of the cap (and of ρ = cap / unit) by
    (2·classes + 6)·voters·2**-53. A wrong split chosen at a near-equal budget moves the
    cap by no more than that error (the money function is continuous). We use 1024 times
    the bound; the money sum has the smaller bound (classes + 2)·2**-52.
    """
    return (2 * classes + 6) * max(voters, 1) * 1024 * EPS


def fast_run(el: Electorate, per_voter) -> MesRun:
    """The winners (in order) and money spent of MES with ``per_voter`` for every voter.

    ``selected`` holds each winner's round and exact ρ; ``dropped`` the round where a
    project became unaffordable. Explanations come from ``mes.mes_run``.
    """
    a = arrays(el)
    start = to_q(per_voter)
    if not (a.floats_ok and float_safe((start,))):
        return mes_run(el, start)
    cost, cost_f, unit, unit_f = a.cost, a.cost_f, a.unit, a.unit_f
    m = len(el.ids)
    ledger = _Ledger(start, a.cost_denominators)  # class 0: untouched, class 1: nothing left
    group_class = np.zeros(len(el.group_count), dtype=np.intp)

    winners: list[int] = []
    run = MesRun(per_voter=start, winners=winners, spent=Q(0), exact=False)
    lower = [0.0] * m  # float lower bound of each candidate's current ρ
    active: list[int] = []
    for p in range(m):
        if a.voters[p] == 0 or unit[p] <= 0:
            continue
        if cost[p] == 0:
            winners.append(p)
            run.selected[p] = {"round": 0, "rho": Q(0), "payments": ()}
            continue
        lower[p] = (cost_f[p] / (unit_f[p] * a.voters[p])) * (1 - 4 * EPS)
        active.append(p)
    run.candidates = list(active)
    # before any payment a project's supporters hold voters · start: drop the projects that
    # cannot be paid even then without building their class histograms (floats decide
    # outside a margin of a few roundings, exact arithmetic inside it)
    start_f = float(start)
    affordable = []
    for p in active:
        money = a.voters[p] * start_f
        if money < cost_f[p] * (1 - 8 * EPS) or (money <= cost_f[p] * (1 + 8 * EPS) and a.voters[p] * start < cost[p]):
            run.dropped[p] = {"round": 1}
        else:
            affordable.append(p)
    active = affordable

    def classes_of(p):
        """(class ids, voters per class) of p's supporters who have money left."""
        hist = np.bincount(group_class[a.groups[p]], weights=a.weights[p])
        if len(hist) > 1:
            hist[1] = 0.0
        ids = np.flatnonzero(hist)
        return ids, hist[ids]

    round_no = 0
    while active:
        round_no += 1
        active.sort(key=lambda p: (lower[p], p))
        best_hi = float("inf")
        found: dict[int, tuple] = {}  # evaluated candidates: (lo, hi, class ids, voters)
        keep: list[int] = []
        for pos, p in enumerate(active):
            if lower[p] > best_hi:
                keep.extend(active[pos:])
                break
            ids, w = classes_of(p)
            budgets = ledger.floats[ids]
            money = float(w @ budgets)
            tol = _tolerance(len(ids), a.voters[p])
            if money < cost_f[p] * (1 - tol) or (
                    money <= cost_f[p] * (1 + tol) and not ledger.can_pay(cost[p], ids, w)):
                run.dropped[p] = {"round": round_no}
                continue
            keep.append(p)
            order = np.argsort(budgets, kind="stable")
            b, ws = budgets[order], w[order]
            # money paid, and voters served, by the poorer classes before each one
            paid_before = np.zeros(len(b))
            np.cumsum((b * ws)[:-1], out=paid_before[1:])
            left_before = np.empty(len(b))
            left_before[0] = with_money = ws.sum()
            np.subtract(with_money, np.cumsum(ws[:-1]), out=left_before[1:])
            caps = (cost_f[p] - paid_before) / left_before
            fits = caps <= b
            split = int(np.argmax(fits)) if fits.any() else len(b) - 1
            rho = caps[split] / unit_f[p]
            lo, hi = rho * (1 - tol), rho * (1 + tol)
            lower[p] = lo
            found[p] = (lo, hi, ids[order], ws, b, split)
            if hi < best_hi:
                best_hi = hi
        active = keep
        if not found:
            break
        near = [p for p, (lo, *_rest) in found.items() if lo <= best_hi]
        best = None
        for p in sorted(near):  # increasing index: the first of equal ρ wins the tie
            classes = ledger.exact_order(*found[p][2:5])
            paid_by_rich, rich, split = ledger.exact_cap(cost[p], classes, found[p][5])
            r = Q(paid_by_rich, rich) / unit[p]  # ρ times the common denominator
            if best is None or r < best:
                best, winner, settled = r, p, (paid_by_rich, rich, classes, split)
        active.remove(winner)
        winners.append(winner)
        run.spent += cost[winner]
        run.selected[winner] = {"round": round_no, "rho": best / ledger.denominator}
        ledger.pay(*settled, a.groups[winner], group_class)
    for p in active:
        run.dropped.setdefault(p, {"round": round_no})
    return run


class _Ledger:
    """Exact money per voter of every budget class, as integers over one common denominator.

    Why: exact budgets are rationals whose denominators grow with every round (each
    payment cap divides by a voter count); as ``mpq`` every operation would pay for a
    gcd. Over a common denominator D they are plain integers: class c has
    ``num[c] · scale[version[c]] / D``. A round multiplies D by the payers' voter count
    V; instead of rescaling every class, the per-version ``scale`` factors are
    multiplied (one per round so far). ``floats`` holds each class's budget correctly
    rounded (int / int division is correctly rounded in Python).
    """

    __slots__ = ("num", "version", "scale", "denominator", "floats")

    def __init__(self, start, cost_denominators: int):
        d = math.lcm(int(start.denominator), cost_denominators)
        self.denominator = d
        self.num = [int(start * d), 0]
        self.version = [0, 0]
        self.scale = [1]
        self.floats = np.empty(64, dtype=np.float64)
        self.floats[0], self.floats[1] = float(start), 0.0

    def numerator(self, c: int) -> int:
        return self.num[c] * self.scale[self.version[c]]

    def numerators(self, ids) -> list[int]:
        """``numerator`` of several classes (one list comprehension: the hot loop)."""
        num, scale, version = self.num, self.scale, self.version
        return [num[c] * scale[version[c]] for c in ids]

    def can_pay(self, cost, ids, weights) -> bool:
        """Exact: the classes' voters hold at least ``cost``."""
        money = sum(map(mul, self.numerators(ids.tolist()), weights.astype(np.int64).tolist()))
        return money >= int(cost * self.denominator)

    def exact_order(self, ids, weights, budgets) -> tuple[list, list]:
        """Class ids and voter counts by increasing exact budget, from their float order.

        Rounding is monotone (x ≤ y implies fl(x) ≤ fl(y)), so classes with different
        floats are already in exact order; only equal floats need an exact comparison."""
        ids_list = ids.tolist()
        counts = weights.astype(np.int64).tolist()
        if len(budgets) > 1 and bool((budgets[1:] == budgets[:-1]).any()):
            pairs = sorted(zip(ids_list, counts), key=lambda item: self.numerator(item[0]))
            ids_list, counts = [c for c, _ in pairs], [w for _, w in pairs]
        return ids_list, counts

    def exact_cap(self, cost, classes, guess: int) -> tuple[int, int, int]:
        """The payment cap x with Σ w·min(b, x) = cost over classes sorted by budget, as
        (x · D · V, V, split): the V voters from ``split`` on pay x, the poorer ones all
        they have.

        The split is the first class with (cost − money of the poorer classes) / (voters
        from it on) ≤ its budget; once true this stays true for every later class, so
        starting from the float ``guess`` and moving while the test says so finds it.
        """
        ids, counts = classes
        numerator = self.numerator
        cost_d = int(cost * self.denominator)
        i = guess
        paid = sum(map(mul, self.numerators(ids[:i]), counts[:i]))
        voters = sum(counts[i:])
        while cost_d - paid > voters * numerator(ids[i]):  # float split too early: class i is poor too
            paid += counts[i] * numerator(ids[i])
            voters -= counts[i]
            i += 1
        while i > 0:  # float split too late: the class before may pay the cap instead
            b, w = numerator(ids[i - 1]), counts[i - 1]
            if cost_d - paid + w * b > (voters + w) * b:
                break
            i, paid, voters = i - 1, paid - w * b, voters + w
        return cost_d - paid, voters, i

    def pay(self, cap_d, voters, classes, split, groups, group_class) -> None:
        """The payers pay min(budget, cap) with cap = cap_d / (D · voters): classes from
        ``split`` on with more than the cap move to a new class with the money left, all
        others to class 1 (nothing left); the common denominator becomes D · voters."""
        ids, _ = classes
        rich = ids[split:]
        num, scale, version = self.num, self.scale, self.version
        left = [num[c] * scale[version[c]] * voters - cap_d for c in rich]  # over the new denominator
        zero = 0
        while zero < len(left) and left[zero] <= 0:  # exactly at the cap: pays all it has
            zero += 1
        left = left[zero:]
        self.denominator *= voters
        self.scale = [s * voters for s in self.scale]
        self.scale.append(1)
        n = len(self.num)
        self.num.extend(left)
        self.version.extend([len(self.scale) - 1] * len(left))
        if len(self.num) > len(self.floats):
            grown = np.empty(max(2 * len(self.floats), len(self.num)), dtype=np.float64)
            grown[:n] = self.floats[:n]
            self.floats = grown
        d = self.denominator
        self.floats[n:len(self.num)] = [x / d for x in left]
        remap = np.arange(n, dtype=np.intp)
        remap[ids[:split + zero]] = 1
        remap[rich[zero:]] = np.arange(n, len(self.num), dtype=np.intp)
        group_class[groups] = remap[group_class[groups]]
