"""The contribution engine: what a customer brings the cooperative as points and stars (none, 3..7), with
the two indicators the case study adds beside them: loyalty (tenure, products held) and growth (average
daily assets against the 12 months before). The points and stars are `scoring.contribution`, the same
function the credit scorecard and the quarterly batch use; the indicators never change them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from domain.rating.model import ContributionModel
from domain.rating.scoring import HouseholdFacts, contribution

Loyalty = Literal["high", "medium", "low"]
Growth = Literal["growing", "stable", "declining", "new", "none"]

LOYALTY_ZH = {"high": "高", "medium": "中", "low": "低"}
GROWTH_ZH = {"growing": "增长", "stable": "平稳", "declining": "下降", "new": "新增", "none": "无资产"}


class ContributionRating(BaseModel):
    model_code: str
    model_version: int
    points: Decimal
    stars: int
    loyalty: Loyalty
    months_as_customer: int
    products_held: int
    growth: Growth
    growth_rate: Decimal | None  # None when there is no year before to compare with

    def summary(self) -> tuple[str, str]:
        points_zh, points_en = points_text(self.points, self.stars)
        rate = "" if self.growth_rate is None else f" ({self.growth_rate:+.0%})"
        return (f"{points_zh};忠诚度{LOYALTY_ZH[self.loyalty]},资产{GROWTH_ZH[self.growth]}{rate}",
                f"{points_en}; loyalty {self.loyalty}, assets {self.growth}{rate}")


def points_text(points: Decimal, stars: int) -> tuple[str, str]:
    stars_zh = f"{stars}星" if stars else "无星级"
    stars_en = f"{stars} stars" if stars else "no star"
    return f"贡献度积分 {points},{stars_zh}", f"contribution points {points}, {stars_en}"


def loyalty(facts: HouseholdFacts, model: ContributionModel) -> Loyalty:
    """High: long tenure and several products; medium: either half of the way; low otherwise."""
    long_tenure = facts.months_as_customer >= model.loyal_months
    many_products = facts.products_held >= model.loyal_products
    if long_tenure and many_products:
        return "high"
    if facts.months_as_customer * 2 >= model.loyal_months or facts.products_held * 2 >= model.loyal_products:
        return "medium"
    return "low"


def growth(facts: HouseholdFacts, model: ContributionModel) -> tuple[Growth, Decimal | None]:
    before, now = facts.avg_daily_assets_prev, facts.avg_daily_assets
    if before <= 0:
        return ("new" if now > 0 else "none"), None
    rate = (now - before) / before
    shown = rate.quantize(Decimal("0.0001"))  # compared unrounded: 9.999 % is not yet growth
    if rate >= model.growth_threshold:
        return "growing", shown
    if rate <= -model.growth_threshold:
        return "declining", shown
    return "stable", shown


def rate_contribution(facts: HouseholdFacts, model: ContributionModel) -> ContributionRating:
    points, stars = contribution(facts, model)
    trend, growth_rate = growth(facts, model)
    return ContributionRating(model_code=model.code, model_version=model.version, points=points, stars=stars,
                              loyalty=loyalty(facts, model), months_as_customer=facts.months_as_customer,
                              products_held=facts.products_held, growth=trend, growth_rate=growth_rate)
