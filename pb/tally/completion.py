"""Completions of MES: it usually leaves money unspent, so cities complete it.

Why: plain MES often spends half the budget. Three pabutools-compatible fixes:
- ``add1``: rerun MES with 1 more currency unit per voter until the outcome is
  exhaustive (among MES's candidate projects) or would overspend the real
  budget, in which case the previous outcome is kept
  (``method_of_equal_shares(..., voter_budget_increment=1)``);
- ``add1_greedy``: ``add1``, then greedy by votes (cost satisfaction) on the
  money left if the result is not exhaustive among all projects
  (``completion_by_rule_combination``; equalshares.net's Add1U);
and Pabulib's own Add1 (the ``equalshares/add1`` rule of its files, the
equalshares.net tool without its "exhaustive" option), which does not stop at an
exhaustive outcome:
- ``add1_last_feasible``: rerun MES with 1 more unit per voter while the outcome
  stays within the real budget; keep the last outcome that does (or stop once
  every candidate project is funded: more money cannot change that outcome);
- ``add1_last_feasible_greedy``: ``add1_last_feasible``, then greedy as above;
- ``budget_increase``: rerun MES with the total budget raised by 1 % of the
  real budget each time, same stopping rule but exhaustiveness over all
  projects, up to budget·(n+1) (``exhaustion_by_budget_increase``).
"""

from __future__ import annotations

import math

from pb.tally.numbers import to_q
from pb.tally.rules.mes import MesRun, mes_run
from pb.tally.satisfaction import Electorate

COMPLETIONS = ("none", "add1", "add1_greedy", "add1_last_feasible", "add1_last_feasible_greedy", "budget_increase")
# how each add-one completion ends the iteration (see add_one)
ADD_ONE_STOPS = {"add1": "first_exhaustive", "add1_greedy": "first_exhaustive",
                 "add1_last_feasible": "last_feasible", "add1_last_feasible_greedy": "last_feasible"}
# why an iteration ended (``MesRun.stopped``): the explanation of a completed outcome
STOP_REASONS = {
    "exhaustive": "no unfunded candidate project fits in the money left",
    "next_overspends": "one more step would spend more than the budget: the last outcome within it is kept",
    "all_funded": "every supported project is funded: more money cannot change the outcome",
    "step_limit": "the largest budget tried (budget increase stops at budget x (voters + 1))",
}
# after a tracked run that allows no skip, this many fast runs before the next tracked
# one, then four times as many each time (a tracked run costs about as much as eight fast)
FIRST_BACKOFF = 8
# ... or, when the run was stable for only a fraction h of a step, about 1/h steps (at most
# this many): large electorates (Łódź 2023: h ≈ 0.01 step) never skip, small ones often do
MAX_BACKOFF = 128
# electorates with more distinct ballots are never tracked: their budget classes number in
# the thousands, so some class is always within a fraction of a step of a payment cap
# (Łódź 2023, 34,147 ballots: stable for 0.0004–0.03 of a step; Warszawa 2026: 0.001–0.014)
TRACK_MAX_GROUPS = 10_000


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
    return published_run(el, to_q(el.budget, el.small) / el.num_voters)


def add_one(el: Electorate, increment=1, *, skip: bool = True, stop: str = "first_exhaustive") -> tuple[MesRun, int]:
    """MES with ``increment`` more per voter each time; returns the run and the iterations
    (counted as pabutools counts them, skipped ones included).

    ``stop="first_exhaustive"`` (pabutools) ends at the first outcome that is exhaustive
    among MES's candidates or before the first that overspends; ``stop="last_feasible"``
    (Pabulib, equalshares.net) only before the first that overspends, or once every
    candidate is funded."""
    if stop not in ("first_exhaustive", "last_feasible"):
        raise ValueError(f"unknown add-one stop rule {stop!r}")
    if el.num_voters == 0:
        return empty_run(el), 0
    start = to_q(el.budget, el.small) / el.num_voters
    return _iterate(el, start, to_q(increment, el.small), None, None, skip, stop == "first_exhaustive")


def budget_increase(el: Electorate, *, skip: bool = True) -> tuple[MesRun, int]:
    """MES with the total budget raised in steps of 1 % until exhaustive or overspending."""
    if el.num_voters == 0:
        return empty_run(el), 0
    budget = to_q(el.budget, el.small)
    step = budget / 100
    if step == 0:  # a zero budget: one run, kept unless it overspends
        run = published_run(el, to_q(0, el.small))
        return (run if run.spent <= el.budget else empty_run(el)), 1
    # per voter: start at budget / n, step budget / (100 n), while the total ≤ budget·(n + 1)
    last = int((budget * (el.num_voters + 1) - budget) // step)  # steps allowed
    return _iterate(el, budget / el.num_voters, step / el.num_voters, range(len(el.ids)), last, skip)


def _iterate(el: Electorate, start, increment, among, max_steps, skip: bool = True,
             stop_exhaustive: bool = True) -> tuple[MesRun, int]:
    """Rerun MES at start + k·increment (k = 0, 1, ...) until the outcome overspends (the
    previous one is kept), leaves no project of ``among`` (default: MES's candidates)
    that fits the money left (only with ``stop_exhaustive``; without it, until every
    candidate is funded), or k passes ``max_steps`` (the last outcome is kept).
    The run returned says why in ``stopped`` (a key of ``STOP_REASONS``).

    Runs whose outcome is provably the same as the one before are skipped, not run: a
    tracked run says for how much more money per voter its outcome stays the same
    (``MesRun.stable_for``). A tracked run is exact and costs several fast runs
    (``mes_fast``), so after a run that allows no skip the next ones are fast, with
    exponential back-off (``_backoff``; none at all above ``TRACK_MAX_GROUPS`` ballots).
    The run returned is always an exact run (``published_run``: it carries the
    explanations), and a fast run it replaces must have the same winners.
    ``skip=False`` runs every step exactly (the reference the fast path and the skipping
    are tested against).
    """
    run_once = _exact_or_fast(el, skip)
    track_possible = skip and el.unit_sat is not None and len(el.group_count) <= TRACK_MAX_GROUPS
    previous: MesRun | None = None
    previous_at = None  # per-voter money of an outcome equal to the last one, not yet run
    plain_left, backoff = 0, FIRST_BACKOFF
    k = 0
    iterations = 0
    while True:
        iterations += 1
        track = track_possible and plain_left == 0
        if not track:
            plain_left = max(0, plain_left - 1)
        per_voter = start + k * increment
        run = mes_run(el, per_voter, stability=True) if track else run_once(per_voter)
        if run.spent > el.budget:
            if previous is None and previous_at is not None:
                previous = published_run(el, previous_at)
            return _ended(el, previous, "next_overspends"), iterations
        candidates = run.candidates if among is None else among
        if stop_exhaustive:
            if not _fits_one_more(el, run.winners, run.spent, candidates):
                return _ended(el, run, "exhaustive"), iterations
        elif set(candidates).issubset(run.winners):
            return _ended(el, run, "all_funded"), iterations
        if max_steps is not None and k >= max_steps:
            return _ended(el, run, "step_limit"), iterations
        same = 0  # further steps with provably the same outcome
        if track and run.stable_for is not None:
            same = max(0, int(math.ceil(to_q(run.stable_for, el.small) / increment)) - 1)  # an int, not an mpz
            if max_steps is not None:
                same = min(same, max_steps - k)
        if same:
            backoff = FIRST_BACKOFF
            k += same
            iterations += same
            previous, previous_at = None, start + k * increment
            if max_steps is not None and k >= max_steps:
                return _ended(el, published_run(el, previous_at), "step_limit"), iterations
        else:
            if track:
                plain_left, backoff = _backoff(backoff, run.stable_for, increment), backoff * 4
            previous, previous_at = run, None
        k += 1


def _backoff(backoff: int, stable_for, increment) -> int:
    """Fast runs before the next tracked one, after a tracked run stable for less than a step.

    Why: a run stable for h < one step has structural changes (a class reaching a payment
    cap, two ρ crossing) about every h; the chance that a later run is stable for a whole
    step is then small for about 1/h steps, and a tracked run costs several fast ones.
    """
    if stable_for is None or stable_for <= 0:  # no limit, or an exact tie: no estimate
        return backoff
    return max(backoff, min(MAX_BACKOFF, int(math.ceil(increment / stable_for))))


def published_run(el: Electorate, per_voter) -> MesRun:
    """The exact MES run whose outcome is published (with its explanations): on the ledger
    of ``mes_fast.exact_run`` where the fast path applies (same run, faster), else ``mes_run``."""
    if el.unit_sat is not None and not el.small:
        from pb.tally.rules.mes_fast import exact_run

        return exact_run(el, per_voter)
    return mes_run(el, per_voter)


def _exact_or_fast(el: Electorate, fast: bool):
    """The MES run used for the steps: the float-screened one where it applies (one
    satisfaction value per project, a large electorate: its screening is numpy), else the
    exact one."""
    if fast and el.unit_sat is not None and not el.small:
        from pb.tally.rules.mes_fast import fast_run

        return lambda per_voter: fast_run(el, per_voter)
    return lambda per_voter: mes_run(el, per_voter)


def _ended(el: Electorate, run: MesRun | None, why: str) -> MesRun:
    """The run an iteration returns (exact, or empty if no step was feasible), with why."""
    run = _exact(el, run) if run is not None else empty_run(el)
    run.stopped = why
    return run


def _exact(el: Electorate, run: MesRun) -> MesRun:
    """The exact run (with explanations) for a run taken from the fast path."""
    if run.exact:
        return run
    exact = published_run(el, run.per_voter)
    if exact.winners != run.winners:
        raise AssertionError(f"fast MES disagrees with exact MES at {run.per_voter} per voter: "
                             f"{run.winners} != {exact.winners}")
    return exact


def is_exhaustive(el: Electorate, winners: list[int]) -> bool:
    """No unfunded project (of all projects) fits in the money left."""
    spent = sum(el.cost[p] for p in winners)
    return not _fits_one_more(el, winners, spent, range(len(el.ids)))
