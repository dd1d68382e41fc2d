"""How terms read on a contract: percentages, dates, the LPR formula, Chinese numerals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import cn2an

from domain.products import REPAYMENT_METHOD_ZH

LPR_TENOR_ZH = {"1Y": "一年期", "5Y": "五年期以上"}
# One clause each, so the borrower reads what the method name means for their payments.
REPAYMENT_EXPLAINED = {
    "equal_installment": "每月以相等的金额偿还借款本息",
    "equal_principal": "每月偿还相等的本金，利息按剩余本金计算，月还款额逐月递减",
    "interest_monthly": "每月支付利息，借款到期时一次性归还全部本金",
    "interest_quarterly": "每季度支付利息，借款到期时一次性归还全部本金",
    "bullet": "借款到期时一次性归还全部本金和利息，利息按实际占用天数计算",
}
CENT = Decimal("0.01")


def percent(rate: Decimal) -> str:
    """0.05 -> 5.00%; finer rates keep their digits (0.04355 -> 4.355%) rather than being rounded."""
    value = (rate * 100).normalize()
    if value.as_tuple().exponent > -2:
        value = value.quantize(CENT)
    return f"{format(value, 'f')}%"


def date_zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def chinese_count(number: int) -> str:
    """6 -> 六, for periods written out in words (六个月)."""
    return cn2an.an2cn(str(number))


def repayment_method_zh(code: str) -> str:
    return REPAYMENT_METHOD_ZH[code]


def rate_formula(lpr: Decimal, tenor: str, spread_bp: int, annual_rate: Decimal) -> str:
    """LPR(一年期) 3.00% + 200个基点 = 年利率 5.00%."""
    sign = "+" if spread_bp >= 0 else "-"
    return (f"LPR({LPR_TENOR_ZH[tenor]}) {percent(lpr)} {sign} {abs(spread_bp)}个基点"
            f" = 年利率 {percent(annual_rate)}")


def account_groups(account: str) -> str:
    """6230901234567890123 -> 6230 9012 3456 7890 123, the way a passbook prints it."""
    return " ".join(account[i:i + 4] for i in range(0, len(account), 4))
