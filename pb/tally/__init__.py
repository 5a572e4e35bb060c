"""pb.tally: a pure, exact voting-rule engine for participatory budgeting.

Entry point: ``tally(instance, profile, rule, ...)``. Rules: greedy utilitarian,
Method of Equal Shares (with completions), sequential Phragmén, maximum
utilitarian welfare. Conformant with pabutools 1.2.3 under the default
lexicographic tie-breaking; exact rational arithmetic for every decision; results
do not depend on the order of ballots or projects. Standard library plus gmpy2
(exact rationals, optional) and numpy (ballot tables, and the float screening of MES
completion reruns, whose every close call is decided exactly), both imported only for
large electorates: a small one is tallied with lists and ``rational.Rational`` (same
results, faster start-up; see ``numbers.SMALL_GROUPS``). No I/O.
"""

from __future__ import annotations

from pb.tally import explain
from pb.tally.model import (
    Ballot, BallotGroup, BallotKind, Instance, Profile, Project, ProjectOutcome, TallyResult,
)
from pb.tally.numbers import to_public
from pb.tally.profile import (
    BALLOT_KINDS, CONSTRAINTS, LIMIT_KEYS, BallotError, build_profile, canonical_ballot,
    profile_from_groups, validate_ballot,
)
from pb.tally.satisfaction import SATISFACTIONS
from pb.tally.tiebreak import TIE_BREAKERS

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from pb.tally.model import Number


def __getattr__(name: str) -> object:
    """``Number`` (``int | Fraction``) from pb.tally.model, built when asked for (start-up)."""
    if name == "Number":
        from pb.tally import model

        return model.Number
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

# The rule modules are imported by ``tally`` for the rule asked for, not here: every
# ``pb tally`` process imports this package first, and a small tally should not pay for
# the rules it does not run (bench/README.md, "tally_processes.py").

# the same as pb.tally.completion.COMPLETIONS (a test checks), spelled out so that the
# registry imports no MES module
COMPLETIONS = ("none", "add1", "add1_greedy", "add1_last_feasible", "add1_last_feasible_greedy",
               "budget_increase")

__all__ = [
    "Ballot", "BallotError", "BallotGroup", "BallotKind", "COMPLETIONS", "Instance", "Number", "Profile", "Project",
    "ProjectOutcome", "RULES", "TallyResult", "BALLOT_KINDS", "CONSTRAINTS", "LIMIT_KEYS", "TIE_BREAKERS",
    "build_profile", "canonical_ballot", "profile_from_groups", "tally", "validate_ballot",
]

RULES: Mapping[str, Mapping[str, object]] = {
    "greedy": {
        "title": "Greedy by score",
        "description": "Fund projects in decreasing order of satisfaction per unit of cost "
                       "(with cost satisfaction: by number of votes), skipping those that no longer fit.",
        "options": {
            "satisfaction": SATISFACTIONS,
            "stop_at_first_misfit": (False, True),
            "threshold": "minimum score (votes, or total points) to be eligible",
            "tie_break": tuple(TIE_BREAKERS),
        },
    },
    "mes": {
        "title": "Method of Equal Shares",
        "description": "Each voter controls an equal share of the budget; a project is funded when its "
                       "supporters can pay for it, cheapest per satisfaction first (proportional).",
        "options": {
            "satisfaction": SATISFACTIONS,
            "completion": COMPLETIONS,
            "tie_break": tuple(TIE_BREAKERS),
        },
    },
    "phragmen": {
        "title": "Sequential Phragmén",
        "description": "Voters earn money continuously; a project is bought when its supporters hold its "
                       "cost, spreading the load equally; stops at the first project that no longer fits.",
        "options": {"tie_break": tuple(TIE_BREAKERS)},
    },
    "max_welfare": {
        "title": "Maximum total satisfaction",
        "description": "The set of projects with the largest total satisfaction that fits the budget "
                       "(exact knapsack).",
        "options": {"satisfaction": SATISFACTIONS, "tie_break": tuple(TIE_BREAKERS)},
    },
}


def tally(instance: Instance, profile: Profile, rule: str, *, satisfaction: str = "cost",
          completion: str = "none", tie_break: Sequence[str] = ("lexico",), seed: str | bytes | None = None,
          stop_at_first_misfit: bool = False, threshold: Number | None = None, public: bool = True) -> TallyResult:
    """Run one rule on one budget and explain the outcome of every project.

    The numbers of the result are ``int`` and ``fractions.Fraction``. ``public=False``
    leaves them in the engine's exact types (``rational.Rational``, gmpy2's ``mpq``,
    ``Fraction``: all with ``numerator`` and ``denominator``), for a caller that only
    prints them: ``pb tally`` on a small file then never imports ``fractions``."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose from {sorted(RULES)}")
    if isinstance(tie_break, str):
        tie_break = (tie_break,)
    tie_break = tuple(tie_break)
    options: dict[str, object] = {"satisfaction": satisfaction, "tie_break": tie_break}
    if seed is not None:
        options["seed"] = seed if isinstance(seed, str) else bytes(seed).hex()
    if rule != "mes" and completion != "none":
        raise ValueError("completion applies to rule 'mes' only")
    if rule == "phragmen" and satisfaction != "cost":
        raise ValueError("Phragmén has no satisfaction option (it uses approvals)")
    if (stop_at_first_misfit or threshold is not None) and rule != "greedy":
        raise ValueError("stop_at_first_misfit and threshold apply to rule 'greedy' only")
    from pb.tally.satisfaction import prepare

    el = prepare(instance, profile, satisfaction, tie_break, seed, iterated=rule == "mes" and completion != "none")
    if rule == "greedy":
        from pb.tally.rules.greedy import greedy

        winners, outcomes = greedy(el, stop_at_first_misfit=stop_at_first_misfit, threshold=threshold)
        options.update(stop_at_first_misfit=stop_at_first_misfit, threshold=threshold)
    elif rule == "phragmen":
        from pb.tally.rules.phragmen import phragmen

        winners, outcomes = phragmen(el)
    elif rule == "max_welfare":
        from pb.tally.rules.maxwelfare import max_welfare

        winners, outcomes = max_welfare(el)
        options["welfare"] = sum((el.total_sat[p] for p in winners), 0)
    else:
        winners, outcomes = _mes(el, instance, profile, completion, tie_break, seed, options)
    spent = sum((el.cost[p] for p in winners), 0)
    budget = el.budget
    if public:
        spent, budget = to_public(spent), to_public(budget)
        options = explain.public_figures(options)
        outcomes = {p: ProjectOutcome(o.project_id, o.selected, o.reason, explain.public_figures(o.figures))
                    for p, o in outcomes.items()}
    return TallyResult(
        rule=rule,
        winners=tuple(el.ids[p] for p in winners),
        spent=spent,
        budget=budget,
        outcomes={el.ids[p]: outcomes[p] for p in sorted(range(len(el.ids)), key=lambda p: el.ids[p])},
        options=options,
    )


def _mes(el, instance: Instance, profile: Profile, how: str, tie_break, seed,
         options: dict) -> tuple[list[int], dict]:
    if how not in COMPLETIONS:
        raise ValueError(f"unknown completion {how!r}; choose from {COMPLETIONS}")
    from pb.tally import completion
    from pb.tally.rules.mes import mes_outcomes
    from pb.tally.satisfaction import prepare

    options["completion"] = how
    if how == "none":
        run = completion.plain(el)
    elif how == "budget_increase":
        run, options["iterations"] = completion.budget_increase(el)
    else:
        run, options["iterations"] = completion.add_one(el, stop=completion.ADD_ONE_STOPS[how])
    options["budget_per_voter"] = run.per_voter
    if run.stopped is not None:
        options["stopped"] = run.stopped
    winners = list(run.winners)
    outcomes = mes_outcomes(el, run)
    if how.endswith("_greedy") and not completion.is_exhaustive(el, winners):
        from pb.tally.rules.greedy import greedy

        by_cost = el if el.satisfaction == "cost" else prepare(instance, profile, "cost", tie_break, seed)
        added, greedy_outcomes = greedy(by_cost, initial=winners, phase="completion")
        winners += added
        for p, done in greedy_outcomes.items():
            mes_view = outcomes[p]
            figures = dict(done.figures, mes_reason=mes_view.reason, mes=mes_view.figures)
            outcomes[p] = explain.outcome(done.project_id, done.reason, **figures)
    return winners, outcomes
