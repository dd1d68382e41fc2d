"""The credit limit worked by hand: each term, the grade factor, the coefficient, the cap and the rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.products import nongedai_default
from domain.rating.limits import credit_limit
from domain.rating.scoring import HouseholdFacts

D = Decimal


def facts(**overrides) -> HouseholdFacts:
    base = dict(customer_id=1, age=40, annual_income=D("80000"), total_assets=D("400000"),
                total_liabilities=D("100000"))
    return HouseholdFacts(**{**base, **overrides})


def terms(**overrides):
    return nongedai_default().model_copy(update=overrides)


@pytest.mark.parametrize(("grade", "expected"), [("AAA", "170000"), ("AA", "136000"), ("A", "102000"),
                                                 ("B", "51000"), ("C", "0")])
def test_grade_factors(grade, expected):
    # (300,000 x 0.3 + 80,000 x 1.0) = 170,000 x factor (1.0 / 0.8 / 0.6 / 0.3 / 0)
    out = credit_limit(facts(), grade, terms(), "credit")
    assert out.limit == D(expected)
    assert (out.asset_term, out.income_term) == (D("90000"), D("80000"))
    assert out.grade_factor == {"AAA": D("1.0"), "AA": D("0.8"), "A": D("0.6"), "B": D("0.3"), "C": D(0)}[grade]


def test_net_income_is_income_less_expenses():
    # (90,000 + (80,000 - 30,000)) x 0.8 = 112,000
    out = credit_limit(facts(annual_expenses=D("30000")), "AA", terms(), "credit")
    assert (out.net_income, out.income_term, out.limit) == (D("50000"), D("50000"), D("112000"))


def test_coefficient_and_round_down():
    # 170,000 x 0.6 x 0.55 = 56,100 -> 56,000
    assert credit_limit(facts(), "A", terms(limit_coefficient=D("0.55")), "credit").limit == D("56000")
    # 170,000 x 0.8 x 1.47 = 199,920 -> 199,000 (under the 200,000 cap)
    out = credit_limit(facts(), "AA", terms(limit_coefficient=D("1.47")), "credit")
    assert (out.raw, out.capped, out.limit) == (D("199920"), False, D("199000"))


def test_rounds_down_even_just_under_a_thousand():
    # net 0, income 1,666.66 x 0.6 = 999.996 -> 0 (no rounding to the fen on the way up to 1,000)
    f = facts(annual_income=D("1666.66"), total_assets=D("0"), total_liabilities=D("0"))
    assert credit_limit(f, "A", terms(), "credit").limit == D("0")


def test_negative_net_assets_count_as_zero_and_a_loss_gives_no_line():
    # assets 50,000 - liabilities 80,000 -> asset term 0; (0 + 40,000) x 0.6 = 24,000.
    f = facts(annual_income=D("40000"), total_assets=D("50000"), total_liabilities=D("80000"))
    assert credit_limit(f, "A", terms(), "credit").limit == D("24000")
    loss = facts(annual_income=D("10000"), annual_expenses=D("90000"), total_assets=D("100000"), total_liabilities=D(0))
    assert credit_limit(loss, "AAA", terms(), "credit").limit == D("0")


def test_cap_by_guarantee_type_applies_before_rounding():
    rich = facts(annual_income=D("400000"), total_assets=D("1000000"), total_liabilities=D(0))
    credit = credit_limit(rich, "AAA", terms(credit_cap=D("150500")), "credit")
    assert (credit.cap, credit.capped, credit.limit) == (D("150500"), True, D("150000"))
    assert credit_limit(rich, "AAA", terms(), "guaranteed").limit == D("300000")


def test_product_weights_and_factors_come_from_the_terms():
    custom = terms(limit_asset_weight=D("0.5"), limit_income_weight=D("2"), grade_factors={"AA": D("0.5")})
    # (300,000 x 0.5 + 80,000 x 2) x 0.5 = 155,000; a grade the product has no factor for gets nothing
    assert credit_limit(facts(), "AA", custom, "credit").limit == D("155000")
    assert credit_limit(facts(), "A", custom, "credit").limit == D("0")


def test_a_prefilter_hit_means_no_line_and_the_breakdown_says_so():
    out = credit_limit(facts(), "AAA", terms(), "credit", prefiltered=True)
    assert (out.limit, out.grade_factor, out.prefiltered) == (D("0"), D("0"), True)
    assert out.lines()[0] == ("命中准入前置过滤,不授信", "a pre-filter was hit: no line")


def test_breakdown_lines_name_each_step_in_both_languages():
    zh, en = zip(*credit_limit(facts(), "AA", terms(), "credit").lines(), strict=True)
    assert "净资产 300,000.00 × 资产系数 0.3 = 90,000.00" in zh[0]
    assert "grade factor 0.8 (AA) x limit coefficient 1.0 = 136,000.00" in en[2]
    assert en[-1] == "rounded down to 1,000: limit 136,000.00"
