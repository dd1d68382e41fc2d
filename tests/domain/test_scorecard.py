"""The 100-point scorecard, grade bands, pre-filters and the credit limit, with scores worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.products import nongedai_default
from domain.scorecard import MODEL_VERSION, RatingFacts, credit_limit, grade_of, rate, score

D = Decimal
CAP = D("200000")


def facts(**overrides) -> RatingFacts:
    base = dict(age=40, customer_type="farmer", annual_income=D("80000"), total_assets=D("400000"),
                total_liabilities=D("100000"))
    return RatingFacts(**{**base, **overrides})


def points(f: RatingFacts) -> dict[str, int]:
    return {i.code: i.points for i in score(f)[1]}


# --- hand-computed profiles ----------------------------------------------------------------------------

def test_profile_aa_farmer():
    # base 30; age 40 -> 10; income 80,000 -> 18 (60k..120k); net assets 300,000 -> 15 (200k..500k);
    # debt ratio 100k/400k = 0.25 -> 15. Total 88 -> AA.
    # limit = (300,000 x 0.3 + 80,000) x 0.8 x 1.0 = 136,000
    f = facts()
    assert points(f) == {"BASE": 30, "AGE": 10, "INCOME": 18, "NET_ASSETS": 15, "DEBT_RATIO": 15}
    out = rate(f, D("1.0"), CAP)
    assert (out.score, out.grade, out.credit_limit) == (88, "AA", D("136000"))
    assert out.prefilter_hits == []
    assert out.model_version == MODEL_VERSION == "spine-scorecard-1"
    assert [i.code for i in out.items] == ["BASE", "AGE", "INCOME", "NET_ASSETS", "DEBT_RATIO"]


def test_profile_weak_household_is_grade_c_with_no_line():
    # base 30; age 60 -> 5; income 25,000 -> 0; net 30,000 -> 0; debt ratio 0.7 -> 0. Total 35 -> C, limit 0.
    f = facts(age=60, annual_income=D("25000"), total_assets=D("100000"), total_liabilities=D("70000"))
    out = rate(f, D("1.0"), CAP)
    assert (out.score, out.grade, out.credit_limit) == (35, "C", D("0"))
    assert out.prefilter_hits == []


def test_profile_top_household_is_capped():
    # base 30; age 30 -> 10; income 150,000 -> 25; net 800,000 -> 20; ratio 0.2 -> 15. Total 100 -> AAA.
    # raw limit (240,000 + 150,000) x 1.0 = 390,000, capped at 200,000
    f = facts(age=30, annual_income=D("150000"), total_assets=D("1000000"), total_liabilities=D("200000"))
    out = rate(f, D("1.0"), CAP)
    assert (out.score, out.grade, out.credit_limit) == (100, "AAA", D("200000"))
    assert rate(f, D("1.0"), D("300000")).credit_limit == D("300000")


def test_profile_b_with_coefficient_rounds_down_to_thousand():
    # base 30; age 45 -> 10; income 45,678 -> 10; net 83,456 -> 8; ratio 40,000/123,456 = 0.324 -> 8. Total 66 -> B.
    # limit = (83,456 x 0.3 + 45,678) x 0.3 x 1.2 = 70,714.8 x 0.36 = 25,457.328 -> 25,000
    f = facts(age=45, annual_income=D("45678"), total_assets=D("123456"), total_liabilities=D("40000"))
    out = rate(f, D("1.2"), CAP)
    assert (out.score, out.grade, out.credit_limit) == (66, "B", D("25000"))
    assert str(out.credit_limit) == "25000.00"


# --- item edges ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("age", "pts"), [(24, 5), (25, 10), (55, 10), (56, 5), (18, 5), (65, 5)])
def test_age_item(age, pts):
    assert points(facts(age=age))["AGE"] == pts


@pytest.mark.parametrize(("income", "pts"), [("0", 0), ("29999.99", 0), ("30000", 10), ("59999.99", 10),
                                             ("60000", 18), ("119999.99", 18), ("120000", 25), ("-5000", 0)])
def test_income_item(income, pts):
    assert points(facts(annual_income=D(income)))["INCOME"] == pts


@pytest.mark.parametrize(("assets", "liabilities", "pts"), [
    ("49999.99", "0", 0), ("50000", "0", 8), ("200000", "0", 15), ("500000", "0", 20), ("600000", "100000", 20),
    ("50000", "80000", 0),
])
def test_net_assets_item(assets, liabilities, pts):
    assert points(facts(total_assets=D(assets), total_liabilities=D(liabilities)))["NET_ASSETS"] == pts


@pytest.mark.parametrize(("assets", "liabilities", "pts"), [
    ("100000", "0", 15), ("100000", "30000", 15), ("100000", "30000.01", 8), ("100000", "60000", 8),
    ("100000", "60000.01", 0), ("0", "0", 0), ("0", "10000", 0),
])
def test_debt_ratio_item(assets, liabilities, pts):
    assert points(facts(total_assets=D(assets), total_liabilities=D(liabilities)))["DEBT_RATIO"] == pts


# --- grade bands ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("pts", "grade"), [(100, "AAA"), (90, "AAA"), (89, "AA"), (80, "AA"), (79, "A"),
                                            (70, "A"), (69, "B"), (60, "B"), (59, "C"), (0, "C")])
def test_grade_bands(pts, grade):
    assert grade_of(pts) == grade


# --- pre-filters ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("blacklisted", "overdue", "hits"), [
    (True, False, ["BLACKLIST"]),
    (False, True, ["CURRENT_OVERDUE"]),
    (True, True, ["BLACKLIST", "CURRENT_OVERDUE"]),
])
def test_prefilter_hit_means_no_grade_and_no_line(blacklisted, overdue, hits):
    # the otherwise-AAA household from test_profile_top_household_is_capped
    f = facts(age=30, annual_income=D("150000"), total_assets=D("1000000"), total_liabilities=D("200000"),
              blacklisted=blacklisted, currently_overdue=overdue)
    out = rate(f, D("1.0"), CAP)
    assert out.grade == "C"
    assert out.credit_limit == 0
    assert out.score == 0
    assert out.items == []
    assert out.prefilter_hits == hits


# --- the limit formula ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("grade", "expected"), [("AAA", "170000"), ("AA", "136000"), ("A", "102000"),
                                                 ("B", "51000"), ("C", "0")])
def test_limit_grade_factors(grade, expected):
    # (300,000 x 0.3 + 80,000) = 170,000 x factor (1.0 / 0.8 / 0.6 / 0.3 / 0)
    assert credit_limit(facts(), grade, D("1.0"), CAP) == D(expected)


def test_limit_coefficient_and_round_down():
    # 170,000 x 0.6 x 0.55 = 56,100 -> 56,000
    assert credit_limit(facts(), "A", D("0.55"), CAP) == D("56000")
    # 170,000 x 0.8 x 1.47 = 199,920 -> 199,000 (under the 200,000 cap)
    assert credit_limit(facts(), "AA", D("1.47"), CAP) == D("199000")


def test_limit_rounds_down_even_just_under_a_thousand():
    # net 0, income 1,666.66 x 0.6 = 999.996 -> 0
    f = facts(annual_income=D("1666.66"), total_assets=D("0"), total_liabilities=D("0"))
    assert credit_limit(f, "A", D("1.0"), CAP) == D("0")


def test_negative_net_assets_count_as_zero():
    # assets 50,000 - liabilities 80,000 = -30,000 -> 0; (0 + 40,000) x 0.6 = 24,000.
    # (Had the negative been used: (-9,000 + 40,000) x 0.6 = 18,600 -> 18,000.)
    f = facts(annual_income=D("40000"), total_assets=D("50000"), total_liabilities=D("80000"))
    assert credit_limit(f, "A", D("1.0"), CAP) == D("24000")


def test_cap_applies_before_rounding_to_a_non_round_cap():
    # raw 170,000 x 1.0 = 170,000 > cap 150,500 -> floor(150,500) = 150,000
    assert credit_limit(facts(), "AAA", D("1.0"), D("150500")) == D("150000")


def test_the_limit_takes_the_products_weights_and_grade_factors():
    """With ProductTerms' defaults the limit is what the scorecard gave before; other weights change it."""
    terms = nongedai_default()
    f = RatingFacts(age=40, customer_type="farmer", annual_income=D("60000"), total_assets=D("300000"),
                    total_liabilities=D("100000"))
    by_terms = credit_limit(f, "AA", D("1.0"), CAP, grade_factors=terms.grade_factors,
                            asset_weight=terms.limit_asset_weight, income_weight=terms.limit_income_weight)
    assert by_terms == credit_limit(f, "AA", D("1.0"), CAP) == D("96000")  # (200k x 0.3 + 60k) x 0.8
    assert credit_limit(f, "AA", D("1.0"), CAP, grade_factors=terms.grade_factors | {"AA": D("0.5")},
                        asset_weight=D("0.5"), income_weight=D("2.0")) == D("110000")  # (100k + 120k) x 0.5
    assert credit_limit(f, "C", D("1.0"), CAP, grade_factors=terms.grade_factors) == D("0")


def test_a_staff_members_limit_is_capped_by_the_products_limit_for_their_role():
    terms = nongedai_default()
    assert terms.authority_limit("approver", D("300000")) == D("100000")
    assert terms.authority_limit("county_approver", D("300000")) == D("300000")
    assert terms.authority_limit("approver", D("50000")) == D("50000")
    assert terms.authority_limit("customer_manager", D("80000")) == D("0")
    assert terms.authority_limit("approver", None) is None
