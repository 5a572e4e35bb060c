"""Greedy utilitarian welfare: fund projects by decreasing satisfaction per unit of cost.

Why: the classic municipal rule. With cost satisfaction the density is
cost·votes/cost = votes, i.e. "greedy by votes"; with cardinality satisfaction
it is votes per unit of money; with points it is total points per unit of money.
Semantics follow pabutools' ``greedy_utilitarian_welfare``: ties in density go
to the tie-break order, zero-cost supported projects come first, and projects
nobody supports still get funded at the end if money remains (set a threshold of
1 to forbid that). Options not in pabutools: stop at the first project that does
not fit (Pabulib ``greedy-no-skip``) and a minimum-score threshold
(``greedy-threshold``; the score is the vote count, or total points).
"""

from __future__ import annotations

from pb.tally import explain
from pb.tally.rational import Rational  # exact densities without importing fractions (see rational)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Iterable

    from pb.tally.model import Number, ProjectOutcome
    from pb.tally.satisfaction import Electorate


def score(el: Electorate, p: int) -> Number:
    """The score compared with a threshold: total points for points satisfaction, else votes."""
    return el.total_sat[p] if el.satisfaction == "points" else el.votes[p]


def greedy_order(el: Electorate, projects: Iterable[int]) -> list[int]:
    """Projects by decreasing density (exact), ties by tie-break rank."""

    def key(p: int) -> tuple:
        total, cost = el.total_sat[p], el.cost[p]
        if total > 0 and cost == 0:
            return (0, 0, p)
        density = Rational(total, cost) if cost > 0 and total > 0 else Rational(0)
        return (1, -density, p)

    return sorted(projects, key=key)


def density_figure(el: Electorate, p: int) -> Number | None:
    """Density shown in explanations (None stands for infinite: free and supported)."""
    total, cost = el.total_sat[p], el.cost[p]
    if total > 0 and cost == 0:
        return None
    return Rational(total, cost) if cost > 0 and total > 0 else 0


def greedy(
    el: Electorate,
    *,
    stop_at_first_misfit: bool = False,
    threshold: Number | None = None,
    initial: Iterable[int] = (),
    phase: str = "greedy",
) -> tuple[list[int], dict[int, ProjectOutcome]]:
    """Run greedy; ``initial`` projects are already funded (completion of another rule)."""
    funded = list(initial)
    taken = set(funded)
    remaining = el.budget - sum(el.cost[p] for p in funded)
    outcomes: dict[int, ProjectOutcome] = {}
    eligible = []
    for p in range(len(el.ids)):
        if p in taken:
            continue
        if threshold is not None and score(el, p) < threshold:
            outcomes[p] = explain.outcome(
                el.ids[p], explain.BELOW_THRESHOLD, score=score(el, p), threshold=threshold,
                votes=el.votes[p], cost=el.cost[p],
            )
        else:
            eligible.append(p)
    stopped = False
    winners: list[int] = []
    for position, p in enumerate(greedy_order(el, eligible), start=1):
        figures = dict(
            votes=el.votes[p], score=el.total_sat[p], density=density_figure(el, p),
            cost=el.cost[p], money_left=remaining, position=position, phase=phase,
        )
        if stopped:
            reason = explain.NO_SUPPORT if el.votes[p] == 0 else explain.BUDGET_EXHAUSTED
        elif el.cost[p] <= remaining:
            remaining -= el.cost[p]
            winners.append(p)
            reason = explain.SELECTED
        else:
            reason = explain.NO_SUPPORT if el.votes[p] == 0 else explain.NOT_AFFORDABLE
            stopped = stop_at_first_misfit
        outcomes[p] = explain.outcome(el.ids[p], reason, **figures)
    return winners, outcomes
