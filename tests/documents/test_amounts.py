"""大写 amounts as cn2an 0.5.24 writes them, and the inputs a contract must refuse."""

from __future__ import annotations

from decimal import Decimal

import pytest

from documents.amounts import rmb_capitals, rmb_figures


@pytest.mark.parametrize(("amount", "expected"), [
    ("50000", "人民币伍万元整"),
    ("50000.00", "人民币伍万元整"),
    ("5E+4", "人民币伍万元整"),
    ("12345.67", "人民币壹万贰仟叁佰肆拾伍元陆角柒分"),
    ("0.5", "人民币伍角"),
    ("0.05", "人民币伍分"),
    ("10.01", "人民币壹拾元零壹分"),
    ("101", "人民币壹佰零壹元整"),
    ("1010", "人民币壹仟零壹拾元整"),
    ("200000", "人民币贰拾万元整"),
    ("300000.50", "人民币叁拾万元伍角"),
    ("1000000", "人民币壹佰万元整"),
])
def test_capitals(amount: str, expected: str) -> None:
    assert rmb_capitals(Decimal(amount)) == expected


@pytest.mark.parametrize("amount", ["1.005", "-5", "NaN", "Infinity"])
def test_capitals_refuse_what_cannot_be_written_exactly(amount: str) -> None:
    # cn2an itself turns 1.005 into 壹元整 and -5 into 负伍元整.
    with pytest.raises(ValueError):
        rmb_capitals(Decimal(amount))


def test_capitals_refuse_float() -> None:
    with pytest.raises(TypeError):
        rmb_capitals(50000.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(("amount", "expected"), [
    ("50000", "¥50,000.00"), ("12345.67", "¥12,345.67"), ("0.5", "¥0.50"), ("1234567.8", "¥1,234,567.80"),
])
def test_figures(amount: str, expected: str) -> None:
    assert rmb_figures(Decimal(amount)) == expected


def test_figures_refuse_sub_fen() -> None:
    with pytest.raises(ValueError):
        rmb_figures(Decimal("0.005"))
