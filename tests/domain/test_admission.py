"""Admission (准入) by the shipped rule set: customer type served, the age window on the birthday, the
region, blacklist and court list, the resident ID, another open application; every refusal at once, in
Chinese and English."""

from __future__ import annotations

from datetime import date

import pytest

from db.rule_store import shipped
from domain import admission, reasons
from domain.admission import CustomerFacts
from domain.products import ProductTerms, nongedai_default

AS_OF = date(2025, 6, 1)
PRODUCT = nongedai_default()
RULE_SET, _ = shipped("NONG_E_DAI", "admission")


def facts(**overrides) -> CustomerFacts:
    base = dict(customer_type="farmer", birth_date=date(1985, 3, 15), residence_region="350582")
    return CustomerFacts(**{**base, **overrides})


def codes(f: CustomerFacts, product: ProductTerms = PRODUCT) -> list[str]:
    return [r.code for r in admission.check_admission(f, product, AS_OF, rule_set=RULE_SET)]


def test_an_eligible_customer_is_admitted():
    assert codes(facts()) == []
    assert admission.outcome({"refusals": []}) == ("admit", [])


def test_a_customer_type_the_product_does_not_serve():
    farmers_only = PRODUCT.model_copy(update={"customer_types": ["farmer"]})
    assert codes(facts(customer_type="salaried"), farmers_only) == ["CUSTOMER_TYPE_NOT_SERVED"]
    assert codes(facts(customer_type="salaried")) == []  # 农e贷 serves all three by default
    (refusal,) = admission.check_admission(facts(customer_type="salaried"), farmers_only, AS_OF, rule_set=RULE_SET)
    assert (refusal.field, refusal.zh) == ("customer_type", "本产品不面向该类客户")


@pytest.mark.parametrize(("birth", "refused"), [
    (date(2007, 6, 1), False),   # 18th birthday today
    (date(2007, 6, 2), True),    # 18 tomorrow
    (date(1960, 6, 1), False),   # 65th birthday today
    (date(1959, 6, 2), False),   # 66 tomorrow: still 65
    (date(1959, 6, 1), True),    # 66th birthday today
])
def test_age_window_edges(birth, refused):
    assert codes(facts(birth_date=birth)) == (["AGE_OUT_OF_RANGE"] if refused else [])


def test_age_refusal_names_the_window_and_a_future_birth_date_is_its_own_refusal():
    (refusal,) = admission.check_admission(facts(birth_date=date(2010, 1, 1)), PRODUCT, AS_OF, rule_set=RULE_SET)
    assert refusal.code == "AGE_OUT_OF_RANGE" and "18" in refusal.zh and "65" in refusal.zh
    assert codes(facts(birth_date=date(2025, 6, 2))) == ["BIRTH_DATE_FUTURE"]


@pytest.mark.parametrize(("region", "refused"), [("350582", False), ("350102", False), ("440106", True),
                                                 ("530582", True), ("", True)])
def test_region_prefix(region, refused):
    assert codes(facts(residence_region=region)) == (["OUTSIDE_REGION"] if refused else [])


def test_region_accepts_any_configured_prefix():
    product = ProductTerms(code="P", name="p", region_prefixes=["3505", "3501"])
    assert codes(facts(residence_region="350102"), product) == []
    assert codes(facts(residence_region="350203"), product) == ["OUTSIDE_REGION"]


@pytest.mark.parametrize(("open_count", "refused"), [(0, False), (1, True), (3, True)])
def test_other_open_application(open_count, refused):
    assert codes(facts(other_open_applications=open_count)) == (["OPEN_APPLICATION_EXISTS"] if refused else [])


def test_blacklist_court_list_and_resident_id():
    assert codes(facts(blacklisted=True)) == ["ADMISSION_BLACKLIST"]
    assert codes(facts(court_dishonest=True)) == ["ADMISSION_COURT_LIST"]
    (refusal,) = admission.check_admission(facts(id_problem="ID_CHECKSUM"), PRODUCT, AS_OF, rule_set=RULE_SET)
    assert (refusal.code, refusal.field) == ("ID_CHECKSUM", "resident_id")


def test_every_refusal_at_once_in_both_languages():
    f = facts(customer_type="enterprise", birth_date=date(1940, 1, 1), residence_region="440106", blacklisted=True,
              court_dishonest=True, other_open_applications=1)
    refusals = admission.check_admission(f, PRODUCT, AS_OF, rule_set=RULE_SET)
    assert [r.code for r in refusals] == ["CUSTOMER_TYPE_NOT_SERVED", "AGE_OUT_OF_RANGE", "OUTSIDE_REGION",
                                          "ADMISSION_BLACKLIST", "ADMISSION_COURT_LIST", "OPEN_APPLICATION_EXISTS"]
    assert all(r.zh and r.en for r in refusals)
    assert reasons.explain("ADMISSION_COURT_LIST", {}).zh == "已被列入失信被执行人名单"


def test_the_facts_carry_no_personal_data():
    inputs = admission.rule_facts(facts(id_problem="ID_CHECKSUM"), PRODUCT, AS_OF)
    assert set(inputs) == {"customer_type", "age", "birth_in_future", "residence_region", "blacklisted",
                           "court_dishonest", "id_problem", "other_open_applications", "product"}
    assert inputs["age"] == 40 and inputs["product"]["customer_types"] == ["farmer", "individual_business", "salaried"]
