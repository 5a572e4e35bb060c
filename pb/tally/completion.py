"""Completions of MES: it usually leaves money unspent, so cities complete it.

Why: plain MES often spends half the budget. Three pabutools-compatible fixes:
- ``add1``: rerun MES with 1 more currency unit per voter until the outcome is
  exhaustive (among MES's candidate projects) or would overspend the real
  budget, in which case the previous outcome is kept
  (``method_of_equal_shares(..., voter_budget_increment=1)``);
- ``add1_greedy``: ``add1``, then greedy by votes (cost satisfaction) on the
  money left if the result is not exhaustive among all projects
  (``completion_by_rule_combination``; equalshares.net's Add1U);
- ``budget_increase``: rerun MES with the total budget raised by 1 % of the
  real budget each time, same stopping rule but exhaustiveness over all
  projects, up to budget·(n+1) (``exhaustion_by_budget_increase``).
"""

from __future__ import annotations

from fractions import Fraction

from pb.tally.rules.mes import MesRun, mes_run
from pb.tally.satisfaction import Electorate

COMPLETIONS = ("none", "add1", "add1_greedy", "budget_increase")


def _fits_one_more(el: Electorate, winners: list[int], spent, among) -> bool:
    taken = set(winners)
    return any(p not in taken and spent + el.cost[p] <= el.budget for p in among)


def empty_run(el: Electorate) -> MesRun:
    """What MES returns with no voters: nothing (pabutools returns the empty allocation)."""
    return MesRun(per_voter=0, winners=[], spent=0)


def plain(el: Electorate) -> MesRun:
    """MES with the budget split equally: B/n per voter."""
    if el.num_voters == 0:
        return empty_run(el)
    return mes_run(el, Fraction(el.budget) / el.num_voters)


def add_one(el: Electorate, increment=1) -> tuple[MesRun, int]:
    """MES with ``increment`` more per voter each time; returns the run and the iterations."""
    if el.num_voters == 0:
        return empty_run(el), 0
    per_voter = Fraction(el.budget) / el.num_voters
    previous = None
    iterations = 0
    while True:
        iterations += 1
        run = mes_run(el, per_voter)
        if run.spent > el.budget:
            return (previous if previous is not None else empty_run(el)), iterations
        if not _fits_one_more(el, run.winners, run.spent, run.candidates):
            return run, iterations
        previous = run
        per_voter += increment


def budget_increase(el: Electorate) -> tuple[MesRun, int]:
    """MES with the total budget raised in steps of 1 % until exhaustive or overspending."""
    if el.num_voters == 0:
        return empty_run(el), 0
    step = Fraction(el.budget) / 100
    bound = el.budget * (el.num_voters + 1)
    total = Fraction(el.budget)
    previous = empty_run(el)
    everything = range(len(el.ids))
    iterations = 0
    while total <= bound:
        iterations += 1
        run = mes_run(el, total / el.num_voters)
        if run.spent > el.budget:
            return previous, iterations
        if not _fits_one_more(el, run.winners, run.spent, everything):
            return run, iterations
        total += step
        previous = run
        if step == 0:
            break
    return previous, iterations


def is_exhaustive(el: Electorate, winners: list[int]) -> bool:
    """No unfunded project (of all projects) fits in the money left."""
    spent = sum(el.cost[p] for p in winners)
    return not _fits_one_more(el, winners, spent, range(len(el.ids)))
