"""``Rational``: an exact fraction of two Python ints, for the small-electorate path.

Why not ``fractions.Fraction``: importing ``fractions`` imports ``re`` (with ``enum``,
``functools``, ``collections``) and ``decimal``, which costs about half of an empty
interpreter's start-up; a small ``pb tally`` computes for about a millisecond, so that
import alone made it 1.8x of ``python -c pass`` (bench/README.md, "tally_processes.py").
This class is the same mathematics in a few lines on ``math.gcd``. Results leave the
engine as ``int`` / ``Fraction`` all the same (``numbers.to_public``); only ``pb tally``,
which just prints them, formats these numbers directly.

Invariant: ``denominator > 0`` and ``gcd(numerator, denominator) == 1``, both ints. Every
operation (``+ - * / //``, unary ``- + abs``, comparisons, ``==``, ``hash``, ``bool``,
``float``, ``int``, ``math.floor`` / ``math.ceil``) gives exactly what ``Fraction`` gives on
the same values, with ints and with any exact rational that has ``numerator`` and
``denominator`` (``Fraction``, gmpy2's ``mpq``) on either side; in particular
``Rational(n) == n`` and ``hash(Rational(n, d)) == hash(Fraction(n, d))``, so both may be
mixed in sets and dict keys. With a float, as with Fraction, arithmetic gives a float and
comparisons are exact (the engine itself never mixes them; ``Rational(0.5)`` is exact).
"""

from __future__ import annotations

from math import gcd, isinf, isnan
from operator import add, eq, floordiv, ge, gt, le, lt, mul, sub, truediv
from sys import hash_info

_MODULUS = hash_info.modulus
_INFINITE_HASH = hash_info.inf


def _parts(value) -> tuple[int, int] | None:
    """(numerator, denominator) of an int or an exact rational, else None (floats too)."""
    if type(value) is int:
        return value, 1
    if isinstance(value, Rational):
        return value.numerator, value.denominator
    if isinstance(value, float) or not hasattr(value, "denominator"):  # bools pass: 0/1 and 1/1, as for Fraction
        return None
    return int(value.numerator), int(value.denominator)


def _float_result(op, rational: Rational, other, reflected: bool = False):
    """``rational op other`` (or ``other op rational``) with a float ``other``: the float
    arithmetic, as Fraction gives; NotImplemented for any other type."""
    if not isinstance(other, float):
        return NotImplemented
    return op(other, float(rational)) if reflected else op(float(rational), other)


def _float_comparison(op, rational: Rational, other) -> bool:
    """``rational op other`` with a float ``other``, exactly (as Fraction); NotImplemented
    for any other type."""
    if not isinstance(other, float):
        return NotImplemented
    if isnan(other) or isinf(other):
        return op(0.0, other)
    return op(rational, Rational(*other.as_integer_ratio()))


def _make(numerator: int, denominator: int) -> Rational:
    """A Rational from parts already in lowest terms with a positive denominator."""
    value = object.__new__(Rational)
    value.numerator = numerator
    value.denominator = denominator
    return value


def _reduced(numerator: int, denominator: int) -> Rational:
    if denominator == 0:
        raise ZeroDivisionError(f"Rational({numerator}, 0)")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    g = gcd(numerator, denominator)
    if g != 1:
        numerator //= g
        denominator //= g
    return _make(numerator, denominator)


class Rational:
    """numerator / denominator, exact (see the module docstring for the invariant)."""

    __slots__ = ("numerator", "denominator")

    def __new__(cls, numerator=0, denominator=1) -> Rational:
        n = numerator.as_integer_ratio() if isinstance(numerator, float) else _parts(numerator)
        d = _parts(denominator)
        if n is None or d is None:
            raise TypeError(f"Rational takes ints or exact rationals, got {numerator!r}, {denominator!r}")
        return _reduced(n[0] * d[1], n[1] * d[0])

    def __reduce__(self) -> tuple:
        return Rational, (self.numerator, self.denominator)

    def __repr__(self) -> str:
        return f"Rational({self.numerator}, {self.denominator})"

    def __str__(self) -> str:
        return str(self.numerator) if self.denominator == 1 else f"{self.numerator}/{self.denominator}"

    # ------------------------------------------------------------ arithmetic

    def __add__(self, other) -> Rational:
        if type(other) is int:  # the common case (voter counts): already in lowest terms
            return _make(self.numerator + other * self.denominator, self.denominator)
        o = _parts(other)
        if o is None:
            return _float_result(add, self, other)
        return _reduced(self.numerator * o[1] + o[0] * self.denominator, self.denominator * o[1])

    __radd__ = __add__

    def __sub__(self, other) -> Rational:
        if type(other) is int:
            return _make(self.numerator - other * self.denominator, self.denominator)
        o = _parts(other)
        if o is None:
            return _float_result(sub, self, other)
        return _reduced(self.numerator * o[1] - o[0] * self.denominator, self.denominator * o[1])

    def __rsub__(self, other) -> Rational:
        o = _parts(other)
        if o is None:
            return _float_result(sub, self, other, reflected=True)
        return _reduced(o[0] * self.denominator - self.numerator * o[1], self.denominator * o[1])

    def __mul__(self, other) -> Rational:
        o = _parts(other)
        if o is None:
            return _float_result(mul, self, other)
        (n1, d1), (n2, d2) = (self.numerator, self.denominator), o
        g1, g2 = gcd(n1, d2), gcd(n2, d1)
        return _make((n1 // g1) * (n2 // g2), (d1 // g2) * (d2 // g1))

    __rmul__ = __mul__

    def __truediv__(self, other) -> Rational:
        o = _parts(other)
        if o is None:
            return _float_result(truediv, self, other)
        return _divide(self.numerator, self.denominator, o[0], o[1])

    def __rtruediv__(self, other) -> Rational:
        o = _parts(other)
        if o is None:
            return _float_result(truediv, self, other, reflected=True)
        return _divide(o[0], o[1], self.numerator, self.denominator)

    def __floordiv__(self, other) -> int:
        o = _parts(other)
        if o is None:
            return _float_result(floordiv, self, other)
        return (self.numerator * o[1]) // (self.denominator * o[0])

    def __rfloordiv__(self, other) -> int:
        o = _parts(other)
        if o is None:
            return _float_result(floordiv, self, other, reflected=True)
        return (o[0] * self.denominator) // (o[1] * self.numerator)

    def __neg__(self) -> Rational:
        return _make(-self.numerator, self.denominator)

    def __pos__(self) -> Rational:
        return self

    def __abs__(self) -> Rational:
        return self if self.numerator >= 0 else _make(-self.numerator, self.denominator)

    # ------------------------------------------------------------ conversions

    def __bool__(self) -> bool:
        return self.numerator != 0

    def __float__(self) -> float:
        return self.numerator / self.denominator  # int / int is correctly rounded, as Fraction's

    def __int__(self) -> int:
        n = self.numerator
        return n // self.denominator if n >= 0 else -(-n // self.denominator)

    __trunc__ = __int__

    def __floor__(self) -> int:
        return self.numerator // self.denominator

    def __ceil__(self) -> int:
        return -(-self.numerator // self.denominator)

    # ------------------------------------------------------------ comparisons

    def __eq__(self, other) -> bool:
        if type(other) is int:
            return self.denominator == 1 and self.numerator == other
        o = _parts(other)
        if o is None:
            return _float_comparison(eq, self, other)
        return self.numerator * o[1] == o[0] * self.denominator

    def __hash__(self) -> int:
        # the hash of Fraction (and of int when whole): equal numbers, equal hashes
        try:
            inverse = pow(self.denominator, -1, _MODULUS)
        except ValueError:  # the denominator is a multiple of the modulus
            result = _INFINITE_HASH
        else:
            result = hash(hash(abs(self.numerator)) * inverse)
        result = result if self.numerator >= 0 else -result
        return -2 if result == -1 else result

    def __lt__(self, other) -> bool:
        o = _parts(other)
        if o is None:
            return _float_comparison(lt, self, other)
        return self.numerator * o[1] < o[0] * self.denominator

    def __le__(self, other) -> bool:
        o = _parts(other)
        if o is None:
            return _float_comparison(le, self, other)
        return self.numerator * o[1] <= o[0] * self.denominator

    def __gt__(self, other) -> bool:
        o = _parts(other)
        if o is None:
            return _float_comparison(gt, self, other)
        return self.numerator * o[1] > o[0] * self.denominator

    def __ge__(self, other) -> bool:
        o = _parts(other)
        if o is None:
            return _float_comparison(ge, self, other)
        return self.numerator * o[1] >= o[0] * self.denominator


def _divide(n1: int, d1: int, n2: int, d2: int) -> Rational:
    """(n1/d1) / (n2/d2) for parts in lowest terms."""
    if n2 == 0:
        raise ZeroDivisionError("division by zero")
    g1, g2 = gcd(n1, n2), gcd(d2, d1)
    numerator, denominator = (n1 // g1) * (d2 // g2), (d1 // g2) * (n2 // g1)
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    return _make(numerator, denominator)
