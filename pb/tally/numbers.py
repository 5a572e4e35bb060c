"""Exact numbers for the tally: ints and rationals, with gmpy2 as an optional accelerator.

Why: a tie in a published result must be a true mathematical tie, so every rule
computes with exact rationals. Python's ``Fraction`` is exact but slow; gmpy2's
``mpq`` is the same mathematics about twenty times faster. Rules compute with
``Q`` (``mpq`` when gmpy2 is importable, else ``Fraction``) and everything that
leaves the engine is converted back to ``int`` / ``Fraction`` by ``to_public``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

try:  # optional accelerator; the engine is complete without it
    from gmpy2 import mpq as _mpq
except ImportError:  # pragma: no cover - exercised only where gmpy2 is absent
    _mpq = None

Q: Any = _mpq if _mpq is not None else Fraction
HAVE_GMPY2 = _mpq is not None


def to_q(value: Any) -> Any:
    """Convert an int or Fraction (or an mpq) to the internal exact type ``Q``."""
    if isinstance(value, Fraction) and _mpq is not None:
        return _mpq(value.numerator, value.denominator)
    return Q(value)


def to_public(value: Any) -> int | Fraction:
    """Convert an internal exact number to ``int`` (when integral) or ``Fraction``."""
    if isinstance(value, int):
        return value
    num, den = int(value.numerator), int(value.denominator)
    return num if den == 1 else Fraction(num, den)


def check_exact(value: Any, what: str) -> int | Fraction:
    """Reject floats (and other inexact types) where money or points are expected."""
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        if _mpq is not None and type(value) is type(_mpq(0)):
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
