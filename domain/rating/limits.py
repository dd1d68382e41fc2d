"""The credit limit with its breakdown (DOMAIN.md "Rating and limits"), per product and guarantee type:

    limit = min(cap, (net assets x asset weight + annual net income x income weight) x grade factor x coefficient)

rounded down to 1,000 yuan, never negative. A pre-filter hit means no line at all. Every term is kept so
staff can see why a farmer got the line they got.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from domain.money import ZERO, floor_to
from domain.products import ProductTerms
from domain.rating.scoring import HouseholdFacts

ROUND_TO = Decimal(1000)


class LimitBreakdown(BaseModel):
    product_code: str
    guarantee_type: str
    net_assets: Decimal
    asset_weight: Decimal
    asset_term: Decimal
    net_income: Decimal
    income_weight: Decimal
    income_term: Decimal
    grade: str
    grade_factor: Decimal
    coefficient: Decimal
    raw: Decimal
    cap: Decimal
    capped: bool
    round_to: Decimal = ROUND_TO
    limit: Decimal
    prefiltered: bool = False

    def lines(self) -> list[tuple[str, str]]:
        """Each step in words, (zh, en)."""
        out = [
            (f"净资产 {self.net_assets:,.2f} × 资产系数 {self.asset_weight} = {self.asset_term:,.2f}",
             f"net assets {self.net_assets:,.2f} x asset weight {self.asset_weight} = {self.asset_term:,.2f}"),
            (f"家庭年净收入 {self.net_income:,.2f} × 收入系数 {self.income_weight} = {self.income_term:,.2f}",
             f"annual net income {self.net_income:,.2f} x income weight {self.income_weight} = {self.income_term:,.2f}"),
            (f"(二者之和) × 等级系数 {self.grade_factor}({self.grade})× 额度系数 {self.coefficient} = {self.raw:,.2f}",
             f"(their sum) x grade factor {self.grade_factor} ({self.grade}) x limit coefficient {self.coefficient}"
             f" = {self.raw:,.2f}"),
            (f"产品上限 {self.cap:,.2f}" + (",已封顶" if self.capped else ""),
             f"product cap {self.cap:,.2f}" + (", applied" if self.capped else "")),
            (f"向下取整到 {self.round_to:,.0f} 元:额度 {self.limit:,.2f}",
             f"rounded down to {self.round_to:,.0f}: limit {self.limit:,.2f}"),
        ]
        if self.prefiltered:
            out.insert(0, ("命中准入前置过滤,不授信", "a pre-filter was hit: no line"))
        return out


def credit_limit(facts: HouseholdFacts, grade: str, terms: ProductTerms, guarantee_type: str, *,
                 prefiltered: bool = False) -> LimitBreakdown:
    net_assets = facts.total_assets - facts.total_liabilities
    net_income = facts.annual_income - facts.annual_expenses
    # Debts beyond the assets do not reduce the income term: the asset term is floored at zero, as the
    # spine did; a loss-making household still gets no line because the total is floored below.
    # Exact products, no rounding on the way: only the final limit is rounded (down, to 1,000).
    asset_term = max(net_assets, ZERO) * terms.limit_asset_weight
    income_term = net_income * terms.limit_income_weight
    factor = ZERO if prefiltered else terms.grade_factors.get(grade, ZERO)
    raw = (asset_term + income_term) * factor * terms.limit_coefficient
    cap = terms.cap_for(guarantee_type)
    limit = ZERO if prefiltered else floor_to(max(min(cap, raw), ZERO), ROUND_TO)
    return LimitBreakdown(product_code=terms.code, guarantee_type=guarantee_type, net_assets=net_assets,
                          asset_weight=terms.limit_asset_weight, asset_term=asset_term, net_income=net_income,
                          income_weight=terms.limit_income_weight, income_term=income_term, grade=grade,
                          grade_factor=factor, coefficient=terms.limit_coefficient, raw=raw, cap=cap,
                          capped=raw > cap, limit=limit, prefiltered=prefiltered)
