"""Pricing: the dated LPR table, LPR + spread + grade adjustment, clamped to the product's floor and cap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.pricing import lpr_on, price
from domain.products import ProductTerms, nongedai_default

D = Decimal


@pytest.mark.parametrize(("day", "tenor", "effective", "rate"), [
    (date(2025, 5, 19), "1Y", date(2024, 10, 21), "0.0310"),
    (date(2025, 5, 19), "5Y", date(2024, 10, 21), "0.0360"),
    (date(2025, 5, 20), "1Y", date(2025, 5, 20), "0.0300"),
    (date(2025, 5, 20), "5Y", date(2025, 5, 20), "0.0350"),
    (date(2025, 5, 21), "1Y", date(2025, 5, 20), "0.0300"),
    (date(2030, 1, 1), "5Y", date(2025, 5, 20), "0.0350"),
    (date(2024, 10, 21), "1Y", date(2024, 10, 21), "0.0310"),
])
def test_lpr_on(day, tenor, effective, rate):
    assert lpr_on(day, tenor) == (effective, D(rate))


def test_no_lpr_before_the_first_entry():
    with pytest.raises(ValueError, match="no 1Y LPR"):
        lpr_on(date(2024, 10, 20), "1Y")
    with pytest.raises(ValueError):
        price(nongedai_default(), "credit", "AA", date(2020, 1, 1))


@pytest.mark.parametrize(("guarantee", "grade", "day", "rate", "spread", "adjust"), [
    ("credit", "AA", date(2025, 6, 1), "0.0480", 200, -20),        # 3.00 + 2.00 - 0.20
    ("credit", "AAA", date(2025, 6, 1), "0.0470", 200, -30),       # 3.00 + 2.00 - 0.30
    ("credit", "A", date(2025, 6, 1), "0.0500", 200, 0),
    ("credit", "B", date(2025, 6, 1), "0.0530", 200, 30),
    ("guaranteed", "AAA", date(2025, 6, 1), "0.0420", 150, -30),   # 3.00 + 1.50 - 0.30
    ("guaranteed", "B", date(2025, 5, 19), "0.0490", 150, 30),     # old LPR 3.10 + 1.50 + 0.30
    ("credit", "AA", date(2025, 5, 19), "0.0490", 200, -20),       # 3.10 + 2.00 - 0.20
    ("credit", "C", date(2025, 6, 1), "0.0500", 200, 0),           # no adjustment configured for C
])
def test_price_is_lpr_plus_spread_plus_grade(guarantee, grade, day, rate, spread, adjust):
    out = price(nongedai_default(), guarantee, grade, day)
    assert out.annual_rate == D(rate)
    assert out.annual_rate.as_tuple().exponent == -6  # stored to six places
    assert (out.spread_bp, out.grade_adjust_bp, out.lpr_tenor) == (spread, adjust, "1Y")
    assert out.lpr_date == (date(2025, 5, 20) if day >= date(2025, 5, 20) else date(2024, 10, 21))
    assert out.lpr + (spread + adjust) * D("0.0001") == D(rate)


def test_five_year_tenor_product():
    product = ProductTerms(code="P5", name="p5", lpr_tenor="5Y")
    out = price(product, "credit", "AA", date(2025, 6, 1))
    assert (out.lpr, out.annual_rate) == (D("0.0350"), D("0.0530"))  # 3.50 + 2.00 - 0.20


def test_clamped_up_to_the_floor():
    product = ProductTerms(code="F", name="f", floor_rate=D("0.0600"))
    out = price(product, "credit", "AA", date(2025, 6, 1))  # 4.80% before the clamp
    assert out.annual_rate == D("0.060000")
    assert out.spread_bp == 200 and out.grade_adjust_bp == -20  # the breakdown still shows the inputs


def test_clamped_down_to_the_cap():
    product = ProductTerms(code="C", name="c", cap_rate=D("0.0400"))
    assert price(product, "credit", "B", date(2025, 6, 1)).annual_rate == D("0.040000")  # 5.30% before


def test_exactly_at_floor_and_cap_is_unchanged():
    at_floor = ProductTerms(code="F", name="f", floor_rate=D("0.0480"))
    at_cap = ProductTerms(code="C", name="c", cap_rate=D("0.0480"))
    assert price(at_floor, "credit", "AA", date(2025, 6, 1)).annual_rate == D("0.0480")
    assert price(at_cap, "credit", "AA", date(2025, 6, 1)).annual_rate == D("0.0480")


def test_custom_spreads_and_adjustments():
    product = ProductTerms(code="X", name="x", spread_bp={"credit": 275, "guaranteed": 125},
                           grade_adjust_bp={"AAA": -45, "AA": -15, "A": 5, "B": 60})
    assert price(product, "credit", "AAA", date(2025, 6, 1)).annual_rate == D("0.0530")     # 3.00 + 2.75 - 0.45
    assert price(product, "guaranteed", "A", date(2025, 6, 1)).annual_rate == D("0.0430")   # 3.00 + 1.25 + 0.05


def test_a_table_given_as_data_prices_by_tenor_and_date():
    table = [(date(2025, 5, 20), {"1Y": D("0.0300"), "5Y": D("0.0350")}),
             (date(2026, 3, 20), {"1Y": D("0.0285")})]  # only the 1-year rate moved that month
    assert lpr_on(date(2026, 3, 20), "1Y", table) == (date(2026, 3, 20), D("0.0285"))
    assert lpr_on(date(2026, 3, 20), "5Y", table) == (date(2025, 5, 20), D("0.0350"))
    assert lpr_on(date(2026, 3, 19), "1Y", table) == (date(2025, 5, 20), D("0.0300"))
    priced = price(nongedai_default(), "credit", "AA", date(2026, 4, 1), table)
    assert (priced.lpr, priced.lpr_date, priced.annual_rate) == (D("0.0285"), date(2026, 3, 20), D("0.046500"))
    with pytest.raises(ValueError, match="no 5Y LPR"):
        lpr_on(date(2026, 1, 1), "5Y", [(date(2025, 5, 20), {"1Y": D("0.03")})])


def test_adjustments_from_the_pricing_rule_set_add_up_and_are_listed():
    from domain.pricing import Adjustment, adjustments_of

    found = adjustments_of({"adjustments": [{"code": "GRADE_AA", "bp": -20.0}, {"code": "CREDIT_VILLAGE", "bp": -20}]})
    assert found == [Adjustment(code="GRADE_AA", bp=-20), Adjustment(code="CREDIT_VILLAGE", bp=-20)]
    # DOMAIN.md's example: AA farmer in a credit village, credit loan: 3.00% + 200bp - 20bp - 20bp = 4.60%
    priced = price(nongedai_default(), "credit", "AA", date(2025, 6, 1), adjustments=found)
    assert (priced.grade_adjust_bp, priced.annual_rate, priced.adjustments) == (-40, D("0.046000"), found)
    assert price(nongedai_default(), "credit", "AA", date(2025, 6, 1)).adjustments == [
        Adjustment(code="GRADE_AA", bp=-20)]
    with pytest.raises(ValueError, match="whole basis points"):
        adjustments_of({"adjustments": [{"code": "X", "bp": 2.5}]})


def _by_shipped_rules(product: ProductTerms, grade: str, customer_type: str = "farmer", *, stars=None, tags=()):
    from db.rule_store import shipped
    from domain import rules
    from domain.pricing import adjustments_of, rule_facts

    content, _ = shipped("NONG_E_DAI", "pricing")
    facts = rule_facts(product, "credit", grade, customer_type, stars=stars, policy_tags=list(tags))
    return price(product, "credit", grade, date(2025, 6, 1), adjustments=adjustments_of(rules.evaluate(content, facts).result))


def test_domain_example_aa_farmer_five_stars_credit_loan_is_4_60():
    """DOMAIN.md: 3.00% + 200bp - 20bp (AA) - 20bp (5 stars) = 4.60%; a credit village takes 20bp more."""
    p = _by_shipped_rules(nongedai_default(), "AA", stars=5)
    assert [(a.code, a.bp) for a in p.adjustments] == [("GRADE_AA", -20), ("STARS_5", -20)]
    assert p.annual_rate == D("0.046000")
    tagged = _by_shipped_rules(nongedai_default(), "AA", stars=5, tags=["credit_village"])
    assert [(a.code, a.bp) for a in tagged.adjustments][-1] == ("TAG_CREDIT_VILLAGE", -20)
    assert tagged.annual_rate == D("0.044000")


def test_no_contribution_rating_is_a_visible_term_of_no_adjustment():
    p = _by_shipped_rules(nongedai_default(), "AA", stars=None)
    assert [(a.code, a.bp) for a in p.adjustments] == [("GRADE_AA", -20), ("STARS_NONE", 0)]
    assert p.annual_rate == D("0.048000")  # what 农e贷 priced before stars existed


def test_customer_type_adjustment_and_the_floor_clamps_last():
    product = nongedai_default().model_copy(update={
        "customer_type_adjust_bp": {"salaried": 15}, "floor_rate": D("0.0450"),
        "star_adjust_bp": {"7": -80}})
    p = _by_shipped_rules(product, "AAA", "salaried", stars=7, tags=["credit_village"])
    assert [(a.code, a.bp) for a in p.adjustments] == [("GRADE_AAA", -30), ("TYPE_SALARIED", 15), ("STARS_7", -80),
                                                       ("TAG_CREDIT_VILLAGE", -20)]
    assert p.grade_adjust_bp == -115 and p.annual_rate == D("0.045000")  # 3.00 + 2.00 - 1.15 = 3.85 -> floor 4.50
