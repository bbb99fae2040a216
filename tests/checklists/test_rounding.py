"""Half-up rounding of exact fractions, as the score and its breakdown use it.

The integer arithmetic in ``backend.checklists.scoring`` must give exactly what the definition
gives: floor(|x| × 10**places + 1/2) in fractions, with the sign put back, as a Decimal; and the
breakdown's display numbers must be the very floats ``float(Decimal)`` gives of that Decimal.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st

from backend.checklists.scoring import _display, exact, round_half_up

# No example database: it would write .hypothesis/ into the shared working tree.
PROPERTY = settings(database=None, deadline=None, max_examples=400)

FRACTIONS = st.fractions(max_denominator=10**9) | st.builds(
    Fraction, st.integers(-(10**40), 10**40), st.integers(1, 10**12)
)
# Exact halves at the rounding position: the cases half up decides.
HALVES = st.builds(
    lambda n, p: Fraction(2 * n + 1, 2 * 10**p), st.integers(-(10**9), 10**9), st.integers(0, 5)
)


def _by_definition(value: Fraction, places: int) -> Decimal:
    units = math.floor(abs(value) * 10**places + Fraction(1, 2))
    return Decimal(-units if value < 0 else units).scaleb(-places)


@PROPERTY
@given(value=FRACTIONS | HALVES, places=st.integers(0, 5))
@example(value=Fraction(6375, 100), places=1)
@example(value=Fraction(8425, 100), places=1)
@example(value=Fraction(-1, 20), places=1)
def test_round_half_up_is_the_definition(value: Fraction, places: int) -> None:
    got = round_half_up(value, places)
    expected = _by_definition(value, places)
    assert got == expected and str(got) == str(expected)


@PROPERTY
@given(value=FRACTIONS | HALVES)
@example(value=Fraction(2, 3))
@example(value=Fraction(10**30, 7))
def test_display_is_the_float_of_the_rounded_decimal(value: Fraction) -> None:
    got = _display(value)
    expected = float(_by_definition(value, 4))
    assert repr(got) == repr(expected)


@PROPERTY
@given(value=st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False))
def test_agrees_with_decimal_round_half_up(value: Decimal) -> None:
    with localcontext() as ctx:
        ctx.rounding = ROUND_HALF_UP
        expected = value.quantize(Decimal("0.1"))
    assert round_half_up(Fraction(value), 1) == expected


def test_written_decimals_are_taken_at_their_written_value() -> None:
    assert exact(2.3) == Fraction(23, 10)
    assert exact(2) == exact(2.0) == Fraction(2)
    assert exact(0.1) is exact(0.1)  # converted once
    assert round_half_up(exact(63.75)) == Decimal("63.8")
