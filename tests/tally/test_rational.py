"""``pb.tally.rational.Rational`` is ``fractions.Fraction`` without the import: the invariant
of its docstring, checked against Fraction on random values (ints of any size, mixed
operands, both sides of every operator)."""

from __future__ import annotations

import math
import operator
import pickle
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pb.tally.rational import Rational

BIG = st.integers(min_value=-(10**40), max_value=10**40)
SMALL = st.integers(min_value=-12, max_value=12)
INTS = st.one_of(SMALL, BIG)
FRACTIONS = st.builds(Fraction, INTS, st.one_of(st.integers(1, 12), st.integers(1, 10**40)))
ARITHMETIC = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv]
COMPARISONS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


def ours(value: Fraction) -> Rational:
    return Rational(value.numerator, value.denominator)


def same(result, expected) -> bool:
    """The same value and type, a Rational standing for a Fraction (in lowest terms, with
    a positive denominator); NaN for NaN."""
    if isinstance(expected, Fraction):
        return (type(result) is Rational and result.numerator == expected.numerator
                and result.denominator == expected.denominator)
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(result, float) and math.isnan(result)
    return type(result) is type(expected) and result == expected


def outcome(op, a, b):
    """``op(a, b)``, or the type of the exception it raised."""
    try:
        return op(a, b)
    except (ZeroDivisionError, OverflowError) as error:
        return type(error)


def agrees(op, a, b, a_ours, b_ours) -> bool:
    expected, result = outcome(op, a, b), outcome(op, a_ours, b_ours)
    return result is expected if isinstance(expected, type) else same(result, expected)


FLOATS = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=1000)  # eleven operators, three kinds of operand: cheap, so many examples
@given(FRACTIONS, st.one_of(FRACTIONS, INTS, FLOATS), st.sampled_from(ARITHMETIC + COMPARISONS))
def test_every_operator_agrees_with_fraction_on_both_sides(a, b, op):
    b_ours = ours(b) if isinstance(b, Fraction) else b
    assert agrees(op, a, b, ours(a), b_ours)
    # with the other side an int, a float or a Fraction: on the right and on the left
    assert agrees(op, a, b, ours(a), b)
    assert agrees(op, b, a, b, ours(a))


@given(FRACTIONS)
def test_conversions_agree_with_fraction(a):
    r = ours(a)
    assert same(-r, -a) and same(+r, +a) and same(abs(r), abs(a))
    assert bool(r) == bool(a)
    assert float(r) == float(a)
    assert int(r) == int(a) and math.trunc(r) == math.trunc(a)
    assert math.floor(r) == math.floor(a) and math.ceil(r) == math.ceil(a)
    assert str(r) == str(a)


@given(FRACTIONS)
def test_equal_numbers_hash_alike_with_ints_and_fractions(a):
    r = ours(a)
    assert r == a and a == r and hash(r) == hash(a)
    if a.denominator == 1:
        assert r == int(a) and hash(r) == hash(int(a))
    assert {r: 1}[a] == 1 and len({r, a}) == 1


@given(INTS, st.one_of(st.integers(1, 10**40), st.integers(-(10**40), -1)))
def test_construction_reduces_to_lowest_terms(numerator, denominator):
    r = Rational(numerator, denominator)
    assert same(r, Fraction(numerator, denominator))
    assert same(Rational(Fraction(numerator, denominator)), Fraction(numerator, denominator))


def test_floats_convert_exactly_and_other_operands_are_refused():
    assert same(Rational(0.1), Fraction(0.1))
    with pytest.raises(ZeroDivisionError):
        Rational(1, 0)
    with pytest.raises(TypeError):
        Rational("1/2")
    with pytest.raises(TypeError):
        Rational(1, 2) + "1"
    with pytest.raises(TypeError):
        Rational(1, 2) < "1"


def test_a_rational_survives_pickling_and_shows_its_parts():
    r = Rational(-6, 4)
    assert pickle.loads(pickle.dumps(r)) == r
    assert repr(r) == "Rational(-3, 2)" and str(r) == "-3/2"


def test_the_hash_of_a_denominator_divisible_by_the_hash_modulus_is_fractions():
    import sys

    modulus = sys.hash_info.modulus
    assert hash(Rational(1, modulus)) == hash(Fraction(1, modulus))
    assert hash(Rational(-1, modulus)) == hash(Fraction(-1, modulus))
