"""Contract rate = LPR + spread + adjustments (credit grade, customer type, contribution stars, policy tags, as
the pricing rule set decides from the product's terms), clamped to the product's floor and cap last."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

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


class Adjustment(BaseModel):
    """One term added to the spread, in basis points: by credit grade, customer type, stars, policy tags."""

    code: str
    bp: int


class PriceBreakdown(BaseModel):
    lpr: Decimal
    lpr_tenor: str
    lpr_date: date
    spread_bp: int
    grade_adjust_bp: int = Field(description="every adjustment together (the grade's alone by default)")
    annual_rate: Decimal
    adjustments: list[Adjustment] = []


def lpr_on(as_of: date, tenor: str, table: LprTable | None = None) -> tuple[date, Decimal]:
    """The tenor's rate in force on `as_of`: the latest published on or before it."""
    effective = sorted((d, rates[tenor]) for d, rates in (LPR_TABLE if table is None else table)
                       if d <= as_of and tenor in rates)
    if not effective:
        raise ValueError(f"no {tenor} LPR published on or before {as_of}")
    return effective[-1]


def price(product: ProductTerms, guarantee_type: str, grade: str, as_of: date,
          lpr_table: LprTable | None = None, adjustments: list[Adjustment] | None = None) -> PriceBreakdown:
    """LPR + spread + adjustments, clamped to floor and cap. `adjustments` come from the product's pricing
    rule set; without them, the product's grade adjustment alone."""
    day, lpr = lpr_on(as_of, product.lpr_tenor, lpr_table)
    spread = product.spread_bp[guarantee_type]
    if adjustments is None:
        adjustments = [Adjustment(code=f"GRADE_{grade}", bp=product.grade_adjust_bp.get(grade, 0))]
    adjust = sum(a.bp for a in adjustments)
    rate = min(max(lpr + (spread + adjust) * BP, product.floor_rate), product.cap_rate)
    return PriceBreakdown(lpr=lpr, lpr_tenor=product.lpr_tenor, lpr_date=day, spread_bp=spread,
                          grade_adjust_bp=adjust, annual_rate=rate.quantize(Decimal("0.000001")),
                          adjustments=adjustments)


def rule_facts(product: ProductTerms, guarantee_type: str, grade: str, customer_type: str, *,
               stars: int | None = None, policy_tags: list[str] | None = None) -> dict[str, Any]:
    """What the pricing rule set reads: no personal data. `stars` None means not rated for contribution
    (the rule set shows that as a term of 0 bp); tags are the customer's policy tags (e.g. credit_village)."""
    return {"grade": grade, "guarantee_type": guarantee_type, "customer_type": customer_type,
            "stars": stars, "policy_tags": sorted(policy_tags or []),
            "product": {"grade_adjust_bp": dict(product.grade_adjust_bp),
                        "customer_type_adjust_bp": dict(product.customer_type_adjust_bp),
                        "star_adjust_bp": dict(product.star_adjust_bp),
                        "tag_adjust_bp": dict(product.tag_adjust_bp)}}


def adjustments_of(result: dict[str, Any]) -> list[Adjustment]:
    out = []
    for item in result["adjustments"]:
        bp = Decimal(str(item["bp"]))
        if bp != bp.to_integral_value():
            raise ValueError(f"adjustment {item.get('code')} is {bp} bp: whole basis points only")
        out.append(Adjustment(code=str(item["code"]), bp=int(bp)))
    return out


def outcome(result: dict[str, Any]) -> tuple[str, list[str]]:
    """(priced, the adjustments' codes) from the rule set's result."""
    return "priced", [a.code for a in adjustments_of(result)]
