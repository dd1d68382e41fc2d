"""Contract rate = LPR + spread, adjusted by grade, clamped to the product's floor and cap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from domain.products import ProductTerms

# The LPR as published: (effective from, {tenor: rate}), oldest first. The live table is data (`lpr_rate`,
# kept by staff through the API); this is what the seed installs and what applies while that table is empty.
# DOMAIN.md: 1Y 3.00%, 5Y 3.50% since 2025-05-20.
LprTable = list[tuple[date, dict[str, Decimal]]]
LPR_TABLE: LprTable = [
    (date(2024, 10, 21), {"1Y": Decimal("0.0310"), "5Y": Decimal("0.0360")}),
    (date(2025, 5, 20), {"1Y": Decimal("0.0300"), "5Y": Decimal("0.0350")}),
]
BP = Decimal("0.0001")


class PriceBreakdown(BaseModel):
    lpr: Decimal
    lpr_tenor: str
    lpr_date: date
    spread_bp: int
    grade_adjust_bp: int
    annual_rate: Decimal


def lpr_on(as_of: date, tenor: str, table: LprTable | None = None) -> tuple[date, Decimal]:
    """The tenor's rate in force on `as_of`: the latest published on or before it."""
    effective = sorted((d, rates[tenor]) for d, rates in (LPR_TABLE if table is None else table)
                       if d <= as_of and tenor in rates)
    if not effective:
        raise ValueError(f"no {tenor} LPR published on or before {as_of}")
    return effective[-1]


def price(product: ProductTerms, guarantee_type: str, grade: str, as_of: date,
          lpr_table: LprTable | None = None) -> PriceBreakdown:
    day, lpr = lpr_on(as_of, product.lpr_tenor, lpr_table)
    spread = product.spread_bp[guarantee_type]
    adjust = product.grade_adjust_bp.get(grade, 0)
    rate = min(max(lpr + (spread + adjust) * BP, product.floor_rate), product.cap_rate)
    return PriceBreakdown(lpr=lpr, lpr_tenor=product.lpr_tenor, lpr_date=day, spread_bp=spread,
                          grade_adjust_bp=adjust, annual_rate=rate.quantize(Decimal("0.000001")))
