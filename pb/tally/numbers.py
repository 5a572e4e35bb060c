"""Exact numbers for the tally: ints and rationals, with gmpy2 as an optional accelerator.

Why: a tie in a published result must be a true mathematical tie, so every rule
computes with exact rationals. Three exact types do the same mathematics at different
costs: gmpy2's ``mpq`` is about twenty times faster than ``fractions.Fraction``, but
importing gmpy2 costs more than a whole small tally, and importing ``fractions`` (with the
``re`` and ``decimal`` it loads) about as much as the small tally itself. So a small
electorate computes with ``pb.tally.rational.Rational`` (plain ints, no import) and a
large one with ``mpq`` (``Fraction`` without gmpy2), chosen per electorate by
``to_q(value, small)``; everything that leaves the engine through ``pb.tally.tally`` is
converted to ``int`` / ``Fraction`` by ``to_public``.
"""

from __future__ import annotations

import sys

from pb.tally.rational import Rational

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from fractions import Fraction
    from typing import Any

# Electorates with at most this many distinct ballots take the small path: plain Python
# lists and ``Rational`` (no numpy, no gmpy2, whose imports alone cost several times a
# small tally); larger ones the numpy tables and ``mpq``. Both give identical results.
SMALL_GROUPS = 1000
# MES completions rerun MES up to thousands of times, where mpq and numpy win back their
# import cost quickly (Rational, like Fraction, is ~4x slower per run): only very small electorates stay small
SMALL_GROUPS_ITERATED = 100

_mpq: Any = None  # gmpy2.mpq once loaded; False if gmpy2 is not installed


def _fast_q() -> Any:
    """gmpy2's mpq, imported on first use (None where gmpy2 is absent)."""
    global _mpq
    if _mpq is None:
        try:  # optional accelerator; the engine is complete without it
            from gmpy2 import mpq
        except ImportError:  # pragma: no cover - exercised only where gmpy2 is absent
            mpq = False
        _mpq = mpq
    return _mpq or None


def to_q(value: Any, small: bool = False) -> Any:
    """Convert an int or exact rational (Fraction, Rational, mpq) to the exact type of the
    path: ``Rational`` for a small electorate, else ``mpq`` (``Fraction`` without gmpy2)."""
    mpq = None if small else _fast_q()
    if mpq is not None:
        if type(value) is Rational or is_fraction(value):
            return mpq(value.numerator, value.denominator)
        return mpq(value)
    if small:
        return value if type(value) is Rational else Rational(value)
    from fractions import Fraction  # only without gmpy2

    return Fraction(int(value.numerator), int(value.denominator))


def to_public(value: Any) -> int | Fraction:
    """Convert an internal exact number to ``int`` (when integral) or ``Fraction``."""
    if isinstance(value, int):
        return value
    num, den = int(value.numerator), int(value.denominator)
    if den == 1:
        return num
    from fractions import Fraction  # here: a small `pb tally` prints engine numbers, never converts

    if type(value) is Fraction:
        return value
    return Fraction(num, den)


def is_fraction(value: object) -> bool:
    """True for a ``fractions.Fraction`` (without importing fractions: none can exist before)."""
    fractions = sys.modules.get("fractions")
    return fractions is not None and isinstance(value, fractions.Fraction)


def check_exact(value: Any, what: str) -> int | Fraction | Rational:
    """Reject floats (and other inexact types) where money or points are expected."""
    if type(value) is int or type(value) is Rational or is_fraction(value):
        return value
    if not isinstance(value, (bool, float)) and _is_mpq(value):
        return to_public(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"{what} must be an int or a Fraction, got {type(value).__name__}")


def _is_mpq(value: object) -> bool:
    gmpy2 = sys.modules.get("gmpy2")  # an mpq can only exist if gmpy2 was imported
    return gmpy2 is not None and isinstance(value, gmpy2.mpq)


# The float screenings (MES) take only amounts of magnitude 0 or within [2**-400, 2**400]:
# their sums and products with voter counts (< 2**53) then stay normal floats, far from
# overflow and underflow, so their error bounds hold. Anything else is decided exactly.
_FLOAT_SAFE = 2**400


def float_safe(values) -> bool:
    """True if every exact number in ``values`` may enter a float screening (see above)."""
    for value in values:
        if value and (abs(value) > _FLOAT_SAFE or abs(value) * _FLOAT_SAFE < 1):
            return False
    return True


def float_tolerance(steps: int) -> float:
    """Relative tolerance covering the rounding error of ``steps`` chained float operations.

    Each IEEE-754 operation on positive values has relative error at most 2**-53;
    a chain of ``steps`` such operations stays within ``steps * 2**-52`` (first
    order). We widen that by a factor 1024 so the float fast paths only ever
    *shortlist* candidates; the final decision is always taken in exact arithmetic.
    """
    return max(1, steps) * 1024 * 2.0**-52
