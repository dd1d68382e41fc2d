"""Contribution indicators beside the stars: loyalty from tenure and products held, growth of average daily
assets against the 12 months before. They never change the points or the stars."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.rating.contribution import rate_contribution
from domain.rating.model import ContributionModel
from domain.rating.scoring import HouseholdFacts, contribution

MODEL = ContributionModel()


def facts(**kw) -> HouseholdFacts:
    return HouseholdFacts(customer_id=1, age=40, **kw)


@pytest.mark.parametrize(("months", "products", "level"), [
    (60, 3, "high"), (120, 5, "high"), (59, 3, "medium"), (60, 2, "medium"), (30, 0, "medium"), (0, 2, "medium"),
    (29, 1, "low"), (0, 0, "low")])
def test_loyalty(months, products, level):
    assert rate_contribution(facts(months_as_customer=months, products_held=products), MODEL).loyalty == level


@pytest.mark.parametrize(("now", "before", "trend", "rate"), [
    ("110000", "100000", "growing", "0.1000"), ("109999", "100000", "stable", "0.1000"),
    ("90000", "100000", "declining", "-0.1000"), ("95000", "100000", "stable", "-0.0500"),
    ("5000", "0", "new", None), ("0", "0", "none", None)])
def test_growth(now, before, trend, rate):
    out = rate_contribution(facts(avg_daily_assets=Decimal(now), avg_daily_assets_prev=Decimal(before)), MODEL)
    assert out.growth == trend
    if trend != "stable":
        assert out.growth_rate == (Decimal(rate) if rate else None)


def test_indicators_do_not_change_points_or_stars():
    plain = facts(avg_daily_assets=Decimal("600000"))
    loyal = plain.model_copy(update={"months_as_customer": 240, "products_held": 9,
                                     "avg_daily_assets_prev": Decimal("100000")})
    assert contribution(plain, MODEL) == contribution(loyal, MODEL) == (Decimal("600.00"), 4)
    out = rate_contribution(loyal, MODEL)
    assert (out.stars, out.loyalty, out.growth) == (4, "high", "growing")
    zh, en = out.summary()
    assert zh.startswith("贡献度积分 600.00,4星;忠诚度高,资产增长") and "+500%" in en


def test_thresholds_are_part_of_the_model():
    strict = ContributionModel(loyal_months=120, loyal_products=5, growth_threshold=Decimal("0.5"))
    f = facts(months_as_customer=72, products_held=4, avg_daily_assets=Decimal(120), avg_daily_assets_prev=Decimal(100))
    assert (rate_contribution(f, MODEL).loyalty, rate_contribution(f, MODEL).growth) == ("high", "growing")
    assert (rate_contribution(f, strict).loyalty, rate_contribution(f, strict).growth) == ("medium", "stable")


def test_star_bands_must_ascend():
    with pytest.raises(ValueError, match="ascending"):
        ContributionModel(star_bands=[(Decimal(500), 4), (Decimal(50), 3)])
    with pytest.raises(ValueError, match="stars"):
        ContributionModel(star_bands=[(Decimal(50), 3), (Decimal(500), 9)])
