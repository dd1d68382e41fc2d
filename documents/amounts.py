"""Amounts as contracts print them: 大写 capitals (人民币伍万元整) and figures (¥50,000.00)."""

from __future__ import annotations

from decimal import Decimal

import cn2an

FEN = Decimal("0.01")


def _exact_yuan(amount: Decimal) -> Decimal:
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be Decimal, got {type(amount).__name__}")
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"amount must be a finite, non-negative yuan figure: {amount}")
    if amount != amount.quantize(FEN):
        # cn2an silently drops digits below the fen (1.005 -> 壹元整); a contract must not round.
        raise ValueError(f"amount has digits below the fen: {amount}")
    return amount


def rmb_capitals(amount: Decimal) -> str:
    """人民币 + the 大写 form of a non-negative yuan amount with at most two decimals."""
    # format 'f' keeps Decimal('5E+4') out of scientific notation, which cn2an rejects.
    return "人民币" + cn2an.an2cn(format(_exact_yuan(amount), "f"), "rmb")


def rmb_figures(amount: Decimal) -> str:
    """The amount in figures, as printed next to the capitals: ¥50,000.00."""
    return f"¥{_exact_yuan(amount).quantize(FEN):,.2f}"
