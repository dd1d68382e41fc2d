"""Contract rate = LPR + spread, adjusted by grade, clamped to the product's floor and cap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from domain.products import ProductTerms

# (effective from, tenor) -> rate. DOMAIN.md: 1Y 3.00%, 5Y 3.50% since 2025-05-20.
LPR_TABLE: list[tuple[date, dict[str, Decimal]]] = [
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


def lpr_on(as_of: date, tenor: str) -> tuple[date, Decimal]:
    effective = [(d, rates) for d, rates in LPR_TABLE if d <= as_of]
    if not effective:
        raise ValueError(f"no LPR published on or before {as_of}")
    day, rates = effective[-1]
    return day, rates[tenor]


def price(product: ProductTerms, guarantee_type: str, grade: str, as_of: date) -> PriceBreakdown:
    day, lpr = lpr_on(as_of, product.lpr_tenor)
    spread = product.spread_bp[guarantee_type]
    adjust = product.grade_adjust_bp.get(grade, 0)
    rate = min(max(lpr + (spread + adjust) * BP, product.floor_rate), product.cap_rate)
    return PriceBreakdown(lpr=lpr, lpr_tenor=product.lpr_tenor, lpr_date=day, spread_bp=spread,
                          grade_adjust_bp=adjust, annual_rate=rate.quantize(Decimal("0.000001")))
