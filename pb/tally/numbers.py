"""Exact numbers for the tally: ints and rationals, with gmpy2 as an optional accelerator.

Why: a tie in a published result must be a true mathematical tie, so every rule
computes with exact rationals. Python's ``Fraction`` is exact but slow; gmpy2's
``mpq`` is the same mathematics about twenty times faster, but importing it costs
more than a whole small tally. So a small electorate computes with ``Fraction`` and a
large one with ``mpq`` (when gmpy2 is importable), chosen per electorate by
``to_q(value, small)``; everything that leaves the engine is converted back to
``int`` / ``Fraction`` by ``to_public``.
"""

from __future__ import annotations

import sys
from fractions import Fraction

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any

# Electorates with at most this many distinct ballots take the small path: plain Python
# lists and ``Fraction`` (no numpy, no gmpy2, whose imports alone cost several times a
# small tally); larger ones the numpy tables and ``mpq``. Both give identical results.
SMALL_GROUPS = 1000
# MES completions rerun MES up to thousands of times, where mpq and numpy win back their
# import cost quickly (Fraction is ~4x slower per run): only very small electorates stay small
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
    """Convert an int or Fraction (or an mpq) to the exact type of the path: ``Fraction``
    for a small electorate, else ``mpq`` (``Fraction`` without gmpy2)."""
    mpq = None if small else _fast_q()
    if mpq is None:
        if isinstance(value, Fraction):
            return value
        if not isinstance(value, int) and hasattr(value, "denominator"):  # an mpq
            return Fraction(int(value.numerator), int(value.denominator))
        return Fraction(value)
    if isinstance(value, Fraction):
        return mpq(value.numerator, value.denominator)
    return mpq(value)


def to_public(value: Any) -> int | Fraction:
    """Convert an internal exact number to ``int`` (when integral) or ``Fraction``."""
    if isinstance(value, int):
        return value
    num, den = int(value.numerator), int(value.denominator)
    return num if den == 1 else Fraction(num, den)


def check_exact(value: Any, what: str) -> int | Fraction:
    """Reject floats (and other inexact types) where money or points are expected."""
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        gmpy2 = sys.modules.get("gmpy2")  # an mpq can only exist if gmpy2 was imported
        if gmpy2 is not None and isinstance(value, gmpy2.mpq):
            return to_public(value)
        raise TypeError(f"{what} must be an int or a Fraction, got {type(value).__name__}")
    return value


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
