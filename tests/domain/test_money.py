"""Money: half-up to the fen, whole-fen checks, rounding limits down, amount bands."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import FEN, ZERO, amount_band, floor_to, is_whole_fen, to_fen

D = Decimal


@pytest.mark.parametrize(("value", "expected"), [
    (D("0.005"), "0.01"),
    (D("0.004999"), "0.00"),
    (D("2.675"), "2.68"),      # exact as a Decimal; a binary float 2.675 would be 2.67499...
    (D("2.665"), "2.67"),      # half-up, not banker's half-even (which gives 2.66)
    (D("181.25"), "181.25"),
    (D("-0.005"), "-0.01"),    # half-up rounds away from zero
    (D("1234.5649"), "1234.56"),
    ("0.125", "0.13"),
    (7, "7.00"),
])
def test_to_fen_rounds_half_up(value, expected):
    got = to_fen(value)
    assert got == D(expected)
    assert str(got) == expected  # always two decimal places


def test_constants():
    assert FEN == D("0.01")
    assert ZERO == 0 and str(ZERO) == "0.00"


@pytest.mark.parametrize(("value", "whole"), [
    (D("1"), True),
    (D("1.00"), True),
    (D("1.010"), True),
    (D("0.01"), True),
    (D("-3.50"), True),
    (D("0"), True),
    (D("1.005"), False),
    (D("0.001"), False),
    (D("-1.005"), False),
    (D("1000.0000001"), False),
])
def test_is_whole_fen(value, whole):
    assert is_whole_fen(value) is whole


@pytest.mark.parametrize(("value", "whole"), [
    (D("1E+30"), True),
    (D("123456789012345678901234567890.01"), True),
    (D("123456789012345678901234567890.001"), False),
    (D("0.000"), True),
    (D("NaN"), False),
    (D("Infinity"), False),
])
def test_is_whole_fen_answers_for_huge_amounts_instead_of_raising(value, whole):
    # an API caller can send "1e30"; a predicate must answer, not raise decimal.InvalidOperation
    assert is_whole_fen(value) is whole


@given(st.integers(min_value=-10**12, max_value=10**12), st.integers(min_value=1, max_value=9))
def test_is_whole_fen_property(fen, extra_digit):
    assert is_whole_fen(D(fen) / 100)
    assert not is_whole_fen(D(fen) / 100 + D(extra_digit) / 1000)


@pytest.mark.parametrize(("value", "step", "expected"), [
    (D("136999.99"), D(1000), "136000.00"),
    (D("137000"), D(1000), "137000.00"),
    (D("999.99"), D(1000), "0.00"),
    (D("25457.328"), D(1000), "25000.00"),
    (D("0"), D(1000), "0.00"),
    (D("1234.56"), D("0.5"), "1234.50"),
])
def test_floor_to_rounds_down_to_a_multiple(value, step, expected):
    got = floor_to(value, step)
    assert got == D(expected)
    assert str(got) == expected


@pytest.mark.parametrize(("amount", "band"), [
    (D("0.01"), "<10k"),
    (D("9999.99"), "<10k"),
    (D("10000"), "10k-50k"),
    (D("49999.99"), "10k-50k"),
    (D("50000"), "50k-100k"),
    (D("99999.99"), "50k-100k"),
    (D("100000"), "100k-200k"),
    (D("199999.99"), "100k-200k"),
    (D("200000"), ">=200k"),
    (D("300000"), ">=200k"),
])
def test_amount_band_edges(amount, band):
    assert amount_band(amount) == band
