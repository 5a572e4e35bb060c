"""MES on budget classes with exact caps and float budgets: numpy screening, exact decisions.

Why: the add-one and budget-increase completions rerun MES once per step (84 runs
for Łódź 2023, 186 for Warszawa 2026), and only the last run is published. Those
reruns need the winners and the money spent, nothing else: ``fast_run``. The
published run (plain MES, and each completion's last run) needs every figure of the
explanations: ``exact_run``, the same run as ``mes.mes_run`` (same lazy evaluations,
same rounds, ρ and payments), about twice as fast on large electorates.

Same rule as ``mes.mes_run`` (cost or cardinality satisfaction: one satisfaction
value per project), same budget classes (voters with the same money left), but:

- the class histogram of a project's supporters is one ``numpy.bincount`` over
  its ballot groups instead of a Python loop (counts are integers < 2**53, exact
  in float64);
- only each round's payment cap is an exact number; a class's money is the start
  minus the caps it paid (``_Ledger``), so the exact money of a set of classes is a
  sum over rounds, not over classes, and a class's own budget is computed exactly only
  where a decision or an explanation needs it;
- each candidate's ρ and its supporters' money are computed in floats, with the
  error bound derived in ``_tolerance`` (to first order, then widened 1024 times)
  plus the tracked error of the classes' float budgets (``_Ledger.err``); in
  ``fast_run`` a project is funded on floats only if its ρ interval lies below every
  other candidate's interval, and everywhere affordability is decided on floats only
  outside the bound. Everything closer, and the winner's ρ and payments (which set
  the new classes), are computed exactly (integers and rationals), so the winners are
  exactly those of ``mes_run``.
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

    The budgets' floats are not rounded once but within ``_Ledger.err`` of the exact
    budgets: that adds at most voters · err to the money and, as the money function has
    slope ≥ 1 voter below the cap, as much to the cap; the callers add four times that.
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
    active = _candidates(a, run)
    for p in active:
        lower[p] = (cost_f[p] / (unit_f[p] * a.voters[p])) * (1 - 4 * EPS)
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
        ids = hist.nonzero()[0]
        return ids, hist[ids]

    round_no = 0
    while active:
        round_no += 1
        active.sort(key=lower.__getitem__)  # the order among equal bounds does not matter
        best_hi = float("inf")
        found: dict[int, tuple] = {}  # evaluated candidates: (lo, hi, class ids, voters, budgets, split)
        keep: list[int] = []
        # every class budget is within ``err`` of its float: a supporter set's money within
        # voters · err, the payment cap within that too (the money function has slope ≥ 1)
        err = ledger.err
        for pos, p in enumerate(active):
            if lower[p] > best_hi:
                keep.extend(active[pos:])
                break
            ids, w = classes_of(p)
            budgets = ledger.floats[ids]
            money = float(w @ budgets)
            tol = _tolerance(len(ids), a.voters[p])
            spread = 4 * a.voters[p] * err  # twice the error the budgets' floats can add
            slack = cost_f[p] * tol + spread
            if money < cost_f[p] - slack:
                run.dropped[p] = {"round": round_no}
                continue
            close = money <= cost_f[p] + slack
            if close and not ledger.can_pay(cost[p], ids, w):
                run.dropped[p] = {"round": round_no}
                continue
            keep.append(p)
            order = budgets.argsort(kind="stable")
            b, ws = budgets[order], w[order]
            if close:  # affordable, barely: the float ρ has no proven bound, exact ρ if needed
                found[p] = (lower[p], float("inf"), ids[order], ws, b, len(b) - 1)
                continue
            split, cap = _float_cap(b, ws, cost_f[p])
            rho = cap / unit_f[p]
            widen = spread / unit_f[p]
            lo, hi = rho * (1 - tol) - widen, rho * (1 + tol) + widen
            lower[p] = max(lo, lower[p])
            found[p] = (lo, hi, ids[order], ws, b, split)
            if hi < best_hi:
                best_hi = hi
        active = keep
        if not found:
            break
        near = [p for p, (lo, *_rest) in found.items() if lo <= best_hi]
        best = None
        for p in sorted(near):  # increasing index: the first of equal ρ wins the tie
            _, _, ids, ws, b, split = found[p]
            ids, ws = ledger.exact_order(ids, ws, b)
            paid_by_rich, rich, split = ledger.exact_cap(cost[p], ids, ws, split)
            r = Q(paid_by_rich, rich) / unit[p]  # ρ times the common denominator
            if best is None or r < best:
                best, winner, settled = r, p, (paid_by_rich, rich, ids, split)
        active.remove(winner)
        winners.append(winner)
        run.spent += cost[winner]
        run.selected[winner] = {"round": round_no, "rho": best / ledger.denominator}
        ledger.pay(*settled, a.groups[winner], group_class)
    for p in active:
        run.dropped.setdefault(p, {"round": round_no})
    return run


def _candidates(a: _Arrays, run: MesRun) -> list[int]:
    """The projects MES considers (supported, positive satisfaction), in index order, as
    ``run.candidates``; free ones among them are funded at once (round 0), the others returned."""
    active: list[int] = []
    for p in range(len(a.cost)):
        if a.voters[p] == 0 or a.unit[p] <= 0:
            continue
        if a.cost[p] == 0:
            run.winners.append(p)
            run.selected[p] = {"round": 0, "rho": Q(0), "payments": ()}
            continue
        active.append(p)
    run.candidates = list(active)
    return active


def _float_cap(b, ws, cost: float) -> tuple[int, float]:
    """(split, payment cap) in floats for classes with float budgets ``b`` (increasing) and
    voters ``ws``: the classes from ``split`` on pay the cap, the poorer ones all they have."""
    # money paid, and voters served, by the poorer classes before each one
    paid_before = np.zeros(len(b))
    (b[:-1] * ws[:-1]).cumsum(out=paid_before[1:])
    left_before = np.empty(len(b))
    left_before[0] = with_money = ws.sum()
    np.subtract(with_money, ws[:-1].cumsum(), out=left_before[1:])
    caps = (cost - paid_before) / left_before
    fits = caps <= b
    split = int(fits.argmax()) if fits.any() else len(b) - 1
    return split, float(caps[split])


def exact_run(el: Electorate, per_voter) -> MesRun:
    """``mes.mes_run`` (without stability tracking) on the ledger below: the same rounds,
    the same lazy evaluations, every ρ and payment exact, so the same explanations.

    Why: the published run of plain MES and of every completion. ``mes_run`` keeps each
    budget class's money as a rational, so every round pays a gcd per class of the
    winner's supporters (hundreds, with ~100-digit denominators); here only the rounds'
    caps are exact and a class's budget is computed exactly when a decision or an
    explanation needs it. Decisions that floats cannot settle beyond their error bound
    are taken exactly, as in ``fast_run``.
    """
    from pb.tally.rules.mes import lazy_round  # the round order of mes_run itself

    a = arrays(el)
    start = to_q(per_voter)
    if not (a.floats_ok and float_safe((start,))):
        return mes_run(el, start)
    cost, cost_f, unit = a.cost, a.cost_f, a.unit
    m = len(el.ids)
    ledger = _Ledger(start, a.cost_denominators)
    group_class = np.zeros(len(el.group_count), dtype=np.intp)
    zero = Q(0)
    winners: list[int] = []
    run = MesRun(per_voter=start, winners=winners, spent=zero)
    rho: list = [None] * m
    active = _candidates(a, run)
    for p in active:
        rho[p] = cost[p] / (unit[p] * a.voters[p])

    def classes_of(p):
        """(class ids, voters per class) of p's supporters with money left, and the voters without."""
        hist = np.bincount(group_class[a.groups[p]], weights=a.weights[p])
        broke = 0
        if len(hist) > 1:
            broke, hist[1] = int(hist[1]), 0.0
        ids = hist.nonzero()[0]
        return ids, hist[ids], broke

    def drop(p, ids, w):
        from fractions import Fraction

        money = _public(ledger.money(ids, w), ledger.denominator, Fraction) if len(ids) else 0
        run.dropped[p] = {"round": round_no, "supporters_money": money, "last_rho": rho[p]}

    round_no = 0
    while active:
        round_no += 1
        settled = {}
        err = ledger.err

        def evaluate(p):
            ids, w, broke = classes_of(p)
            budgets = ledger.floats[ids]
            money = float(w @ budgets)
            slack = cost_f[p] * _tolerance(len(ids), a.voters[p]) + 4 * a.voters[p] * err
            if money < cost_f[p] - slack or (money <= cost_f[p] + slack and not ledger.can_pay(cost[p], ids, w)):
                drop(p, ids, w)
                return None
            order = budgets.argsort(kind="stable")
            ids, ws = ledger.exact_order(ids[order], w[order], budgets[order])
            guess, _ = _float_cap(budgets[order], w[order], cost_f[p])
            cap_d, voters, split = ledger.exact_cap(cost[p], ids, ws, guess)
            settled[p] = (cap_d, voters, ids, ws, split, broke)
            return Q(cap_d, voters * ledger.denominator) / unit[p]

        best, tied, active, _ = lazy_round(active, rho, evaluate)
        if not tied:
            break
        s = min(tied)
        cap_d, voters, ids, ws, split, broke = settled[s]
        active.remove(s)
        winners.append(s)
        run.spent += cost[s]
        run.selected[s] = {"round": round_no, "rho": best, "merged": True,
                           "payments": ledger.payments(cap_d, voters, ids, ws, split, broke)}
        ledger.pay(cap_d, voters, ids, split, a.groups[s], group_class)
    for p in active:  # left over when the loop ended: unaffordable by construction
        if p not in run.dropped:
            ids, w, _ = classes_of(p)
            drop(p, ids, w)
    return run


class _Ledger:
    """Exact money per voter of every budget class, from the exact payment cap of each round.

    Why: every voter with money left after a round either paid that round's payment cap
    or nothing, so class c holds exactly start − Σ cap_r over the rounds r in which its
    voters paid the cap (row c of ``paid``, 0/1 per round); class 1 holds nothing.
    Only the caps are exact numbers: integers over one common denominator D (the
    budgets' rationals would pay for a gcd per operation; their denominators reach
    ~150 digits after 50 rounds), rescaled by each round's payers' voter count. The
    exact money of a set of classes is then one numpy product (voters per round) and
    one integer sum over the rounds, not a sum over classes; a class's own budget is
    needed exactly only where floats cannot decide. ``floats`` holds each class's budget
    as a float: the start correctly rounded, then one float subtraction of the
    correctly rounded cap per payment, so every float is within ``err`` (a few
    roundings of the start per round) of the exact budget.
    """

    __slots__ = ("denominator", "start_num", "caps", "paid", "floats", "err", "step", "classes", "remap")

    def __init__(self, start, cost_denominators: int):
        d = math.lcm(int(start.denominator), cost_denominators)
        self.denominator = d
        self.start_num = int(start * d)  # the start over D
        self.caps: list[int] = []  # each round's payment cap over D
        self.paid = np.zeros((64, 16), dtype=np.uint8)
        self.floats = np.empty(64, dtype=np.float64)
        start_f = float(start)
        self.floats[0], self.floats[1] = start_f, 0.0
        self.classes = 2
        self.remap = np.arange(64, dtype=np.intp)  # the identity, changed and restored by each payment
        # each float subtraction (budget − cap, both at most the start) adds at most two
        # roundings of the start: 2**-52 · start; counted twice
        self.step = start_f * 2 * 2.0**-52
        self.err = self.step

    def numerator(self, c: int) -> int:
        """Class c's exact budget over D."""
        if c == 1:
            return 0
        rounds = self.paid[c, :len(self.caps)].nonzero()[0].tolist()
        caps = self.caps
        return self.start_num - sum([caps[r] for r in rounds])

    def money(self, ids, weights) -> int:
        """Exact money over D held by ``weights`` voters in each class of ``ids`` (not class 1)."""
        total = int(weights.sum()) * self.start_num
        if self.caps and len(ids):
            per_round = weights @ self.paid[ids, :len(self.caps)]  # integers < 2**53: exact
            total -= sum(map(mul, self.caps, per_round.astype(np.int64).tolist()))
        return total

    def can_pay(self, cost, ids, weights) -> bool:
        """Exact: the classes' voters hold at least ``cost``."""
        return self.money(ids, weights) >= int(cost * self.denominator)

    def exact_order(self, ids, weights, budgets):
        """Class ids (and their voters) by increasing exact budget, from their order by
        float budget.

        Floats more than 2·err apart are in exact order; only runs of floats closer than
        that are sorted by their exact budgets."""
        if len(budgets) < 2:
            return ids, weights
        close = budgets[1:] - budgets[:-1] <= 2 * self.err
        if not close.any():
            return ids, weights
        order = np.arange(len(ids))
        edges = np.flatnonzero(np.diff(np.concatenate(([False], close, [False])).astype(np.int8)))
        for first, last in zip(edges[::2].tolist(), edges[1::2].tolist()):  # runs [first, last]
            run = order[first:last + 1].tolist()
            order[first:last + 1] = sorted(run, key=lambda j: self.numerator(int(ids[j])))
        return ids[order], weights[order]

    def exact_cap(self, cost, ids, weights, guess: int) -> tuple[int, int, int]:
        """The payment cap x with Σ w·min(b, x) = cost over classes sorted by budget, as
        (x · D · V, V, split): the V voters from ``split`` on pay x, the poorer ones all
        they have.

        The split is the first class with (cost − money of the poorer classes) / (voters
        from it on) ≤ its budget; once true this stays true for every later class, so
        starting from the float ``guess`` and moving while the test says so finds it.
        """
        numerator = self.numerator
        counts = weights.astype(np.int64).tolist()
        cost_d = int(cost * self.denominator)
        i = guess
        paid = self.money(ids[:i], weights[:i])
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

    def payments(self, cap_d, voters, ids, weights, split, broke: int) -> tuple:
        """((payment per voter, voters), ...) by decreasing payment, equal payments merged
        (``mes.merge_payments``), exact public numbers: the classes from ``split`` on pay the
        cap cap_d / (D · voters), the poorer ones all they have, the ``broke`` voters 0."""
        numerator = self.numerator
        counts = weights[:split].astype(np.int64).tolist()
        # over D · voters, as integers: sorting and merging them needs no rational arithmetic
        paid = [(numerator(int(c)) * voters, w) for c, w in zip(ids[:split].tolist(), counts)]
        paid.append((cap_d, voters))
        if broke:
            paid.append((0, broke))
        paid.sort(reverse=True)  # equal amounts are merged: their order does not matter
        merged: list = []
        for amount, w in paid:
            if merged and merged[-1][0] == amount:
                merged[-1][1] += w
            else:
                merged.append([amount, w])
        from fractions import Fraction

        d = self.denominator * voters
        return tuple((_public(amount, d, Fraction), w) for amount, w in merged)

    def pay(self, cap_d, voters, ids, split, groups, group_class) -> None:
        """The payers pay min(budget, cap) with cap = cap_d / (D · voters): classes from
        ``split`` on with more than the cap move to a new class with the money left, all
        others to class 1 (nothing left); the common denominator becomes D · voters."""
        self.denominator *= voters
        self.start_num *= voters
        self.caps = [c * voters for c in self.caps]
        self.caps.append(cap_d)
        cap_f = cap_d / self.denominator  # int / int: correctly rounded
        rich = ids[split:]
        left = self.floats[rich] - cap_f
        # exactly at the cap: pays all it has (only classes whose float is that close)
        at_cap = (left <= 2 * self.err + 4 * EPS * cap_f).nonzero()[0].tolist()
        if at_cap:
            numerator = self.numerator
            exactly = [j for j in at_cap if numerator(int(rich[j])) == cap_d]
            if exactly:
                stays = np.ones(len(rich), dtype=bool)
                stays[exactly] = False
                rich, left = rich[stays], left[stays]
        n, k, r = self.classes, len(rich), len(self.caps) - 1
        self.classes = n + k
        if n + k > len(self.floats):
            size = max(2 * len(self.floats), n + k)
            grown = np.empty(size, dtype=np.float64)
            grown[:n] = self.floats[:n]
            self.floats = grown
            paid = np.zeros((size, self.paid.shape[1]), dtype=np.uint8)
            paid[:n] = self.paid[:n]
            self.paid = paid
            self.remap = np.arange(size, dtype=np.intp)
        if r >= self.paid.shape[1]:
            self.paid = np.concatenate((self.paid, np.zeros_like(self.paid)), axis=1)
        np.maximum(left, 0.0, out=left)  # exact budgets are positive: clipping only helps
        self.floats[n:n + k] = left
        self.paid[n:n + k] = self.paid[rich]
        self.paid[n:n + k, r] = 1
        self.err += self.step
        remap = self.remap
        remap[ids] = 1
        remap[rich] = np.arange(n, n + k, dtype=np.intp)
        group_class[groups] = remap[group_class[groups]]
        remap[ids] = ids



def _public(numerator: int, denominator: int, fraction):
    """numerator / denominator as an int when whole, else a ``fraction`` (the Fraction class;
    as ``numbers.to_public``, without passing through an mpq)."""
    q = fraction(numerator, denominator)
    return q.numerator if q.denominator == 1 else q
