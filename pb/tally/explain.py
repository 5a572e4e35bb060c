"""Reason codes: why each project was or was not funded.

Why: a published result must be explainable project by project. Every rule
returns one ``ProjectOutcome`` per project with one of these codes and the
figures behind it (votes, cost, money left when the project was reached,
MES's effective vote count, ...). Figures are exact numbers: the engine's own while the
rule runs, ``int`` and ``Fraction`` once ``pb.tally.tally`` publishes them.
"""

from __future__ import annotations

from pb.tally.model import ProjectOutcome
from pb.tally.rational import Rational

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from collections.abc import Mapping

SELECTED = "selected"
NOT_AFFORDABLE = "not_affordable"  # reached, but its cost exceeded the money left
BUDGET_EXHAUSTED = "budget_exhausted"  # the rule stopped before reaching it
BELOW_THRESHOLD = "below_threshold"  # score under the minimum-score threshold
NO_SUPPORT = "no_support"  # nobody listed it (or gave it positive satisfaction)
MES_INSUFFICIENT_SUPPORT = "mes_insufficient_support"  # its supporters' shares could not pay
NOT_OPTIMAL = "not_in_optimum"  # max welfare: not part of the chosen optimal set

REASONS: Mapping[str, str] = {
    SELECTED: "funded",
    NOT_AFFORDABLE: "reached, but it cost more than the money left",
    BUDGET_EXHAUSTED: "the rule stopped before reaching this project",
    BELOW_THRESHOLD: "its score is below the minimum-score threshold",
    NO_SUPPORT: "no voter supported it",
    MES_INSUFFICIENT_SUPPORT: "its supporters' remaining equal shares could not pay for it",
    NOT_OPTIMAL: "a welfare-maximising set of projects leaves it out",
}


def public_figures(figures: Mapping[str, object]) -> dict[str, object]:
    """The figures with every exact number as ``int`` or ``Fraction`` (the engine computes
    with ``Rational`` or gmpy2's ``mpq``; lists become tuples)."""
    from fractions import Fraction  # here: a small `pb tally` prints the engine's numbers as they are

    return {key: _public(value, Fraction) for key, value in figures.items()}


def _public(value: object, fraction: type) -> object:
    # by exact type first: a large MES run explains its projects with tens of thousands
    # of figures (every payment class of every project), most of them mpq or Fraction
    kind = type(value)
    if kind is int or kind is fraction or kind is str or kind is bool or value is None:
        return value
    if kind is dict:
        return {k: _public(v, fraction) for k, v in value.items()}
    if kind is list or kind is tuple:
        return tuple([_public(v, fraction) for v in value])
    if isinstance(value, (bool, str, int, fraction)):
        return value
    if kind is Rational:  # the small path's Fraction: a Fraction, whole or not, as computed
        return fraction(value.numerator, value.denominator)
    if hasattr(value, "numerator") and hasattr(value, "denominator"):  # gmpy2 mpq
        num, den = int(value.numerator), int(value.denominator)
        return num if den == 1 else fraction(num, den)
    if isinstance(value, (list, tuple)):
        return tuple(_public(v, fraction) for v in value)
    if isinstance(value, dict):
        return {k: _public(v, fraction) for k, v in value.items()}
    return value


def outcome(project_id: str, reason: str, **figures: object) -> ProjectOutcome:
    """One project's outcome; ``selected`` follows from the reason code."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason code {reason!r}")
    return ProjectOutcome(project_id, reason == SELECTED, reason, figures)  # converted by tally()
