"""Reason codes: why each project was or was not funded.

Why: a published result must be explainable project by project. Every rule
returns one ``ProjectOutcome`` per project with one of these codes and the
figures behind it (votes, cost, money left when the project was reached,
MES's effective vote count, ...). Figures are exact numbers.
"""

from __future__ import annotations

from fractions import Fraction
from collections.abc import Mapping

from pb.tally.model import ProjectOutcome
from pb.tally.numbers import to_public

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
    """Convert internal exact numbers (e.g. gmpy2 mpq) in figures to int/Fraction."""
    out: dict[str, object] = {}
    for key, value in figures.items():
        out[key] = _public(value)
    return out


def _public(value: object) -> object:
    # by exact type first: a large MES run explains its projects with tens of thousands
    # of figures (every payment class of every project), most of them mpq
    kind = type(value)
    if kind is int or kind is Fraction or kind is str or kind is bool or value is None:
        return value
    if kind is dict:
        return {k: _public(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return tuple([_public(v) for v in value])
    if isinstance(value, (bool, str, int, Fraction)):
        return value
    if hasattr(value, "numerator") and hasattr(value, "denominator"):  # e.g. gmpy2 mpq
        return to_public(value)
    if isinstance(value, (list, tuple)):
        return tuple(_public(v) for v in value)
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items()}
    return value


def outcome(project_id: str, reason: str, **figures: object) -> ProjectOutcome:
    """One project's outcome; ``selected`` follows from the reason code."""
    if reason not in REASONS:
        raise ValueError(f"unknown reason code {reason!r}")
    return ProjectOutcome(project_id, reason == SELECTED, reason, public_figures(figures))
