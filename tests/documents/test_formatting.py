"""Percentages, the LPR formula, dates and numerals as they read on a contract."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from documents.formatting import (
    account_groups,
    chinese_count,
    date_zh,
    percent,
    rate_formula,
    repayment_method_zh,
)


@pytest.mark.parametrize(("rate", "expected"), [
    ("0.05", "5.00%"), ("0.0750", "7.50%"), ("0.046000", "4.60%"), ("0.04355", "4.355%"), ("0.1", "10.00%"),
])
def test_percent(rate: str, expected: str) -> None:
    assert percent(Decimal(rate)) == expected


def test_rate_formula() -> None:
    assert (rate_formula(Decimal("0.0300"), "1Y", 200, Decimal("0.0500"))
            == "LPR(一年期) 3.00% + 200个基点 = 年利率 5.00%")
    assert (rate_formula(Decimal("0.0350"), "5Y", -20, Decimal("0.0330"))
            == "LPR(五年期以上) 3.50% - 20个基点 = 年利率 3.30%")


def test_date_and_numerals() -> None:
    assert date_zh(date(2025, 5, 20)) == "2025年5月20日"
    assert [chinese_count(n) for n in (6, 12, 36)] == ["六", "十二", "三十六"]
    assert account_groups("6229000000001234567") == "6229 0000 0000 1234 567"


@pytest.mark.parametrize(("code", "name"), [
    ("equal_installment", "等额本息"), ("equal_principal", "等额本金"),
    ("interest_monthly", "按月付息到期还本"), ("bullet", "利随本清"),
])
def test_repayment_method_names(code: str, name: str) -> None:
    assert repayment_method_zh(code) == name
