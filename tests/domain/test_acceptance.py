"""Acceptance (受理): each refusal on its own, a clean application, and all problems reported at once. The
customer-level conditions (age, region, open application) are admission's: tests/domain/test_admission.py."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from db.rule_store import shipped
from domain import acceptance
from domain.acceptance import ApplicationFacts
from domain.products import ProductTerms, nongedai_default

AS_OF = date(2025, 6, 1)
PRODUCT = nongedai_default()
RULE_SET, _ = shipped("NONG_E_DAI", "acceptance")


def check_acceptance(f: ApplicationFacts, product: ProductTerms, as_of: date):
    """The shipped acceptance rule set, as the accept activity runs it."""
    return acceptance.check_acceptance(f, product, as_of, rule_set=RULE_SET)


def facts(**overrides) -> ApplicationFacts:
    base = dict(amount=Decimal("50000"), term_months=12, repayment_method="equal_installment",
                guarantee_type="credit", borrower_id=1, guarantor_ids=[])
    return ApplicationFacts(**{**base, **overrides})


def codes(f: ApplicationFacts, product: ProductTerms = PRODUCT) -> list[str]:
    return [r.code for r in check_acceptance(f, product, AS_OF)]


def test_clean_application_has_no_refusals():
    assert check_acceptance(facts(), PRODUCT, AS_OF) == []


def test_clean_guaranteed_application_with_two_guarantors():
    assert codes(facts(guarantee_type="guaranteed", guarantor_ids=[2, 3], amount=Decimal("300000"))) == []


# --- amount --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "guarantee", "guarantors", "expected"), [
    ("1000", "credit", [], []),
    ("999.99", "credit", [], ["AMOUNT_OUT_OF_RANGE"]),
    ("200000", "credit", [], []),
    ("200000.01", "credit", [], ["AMOUNT_OUT_OF_RANGE"]),       # credit cap
    ("300000", "guaranteed", [2], []),
    ("300000.01", "guaranteed", [2], ["AMOUNT_OUT_OF_RANGE"]),  # guaranteed cap
    ("1E+30", "credit", [], ["AMOUNT_OUT_OF_RANGE"]),
    ("50000.001", "credit", [], ["AMOUNT_INVALID"]),            # sub-fen
    ("0", "credit", [], ["AMOUNT_INVALID"]),
    ("-5000", "credit", [], ["AMOUNT_INVALID"]),
])
def test_amount_bounds(amount, guarantee, guarantors, expected):
    assert codes(facts(amount=Decimal(amount), guarantee_type=guarantee, guarantor_ids=guarantors)) == expected


def test_amount_refusals_point_at_the_field():
    (refusal,) = check_acceptance(facts(amount=Decimal("999.99")), PRODUCT, AS_OF)
    assert refusal.field == "amount"
    (refusal,) = check_acceptance(facts(amount=Decimal("1.001")), PRODUCT, AS_OF)
    assert refusal.field == "amount"


def test_product_max_amount_is_honoured():
    """A cooperative that configures max_amount below the guarantee caps expects it to bound applications."""
    product = ProductTerms(code="SMALL", name="small", max_amount=Decimal("50000"))
    assert codes(facts(amount=Decimal("50000")), product) == []
    assert codes(facts(amount=Decimal("60000")), product) == ["AMOUNT_OUT_OF_RANGE"]


# --- term and repayment method -------------------------------------------------------------------------

@pytest.mark.parametrize(("term", "refused"), [(0, True), (1, False), (36, False), (37, True), (-1, True)])
def test_term_bounds(term, refused):
    assert codes(facts(term_months=term)) == (["TERM_OUT_OF_RANGE"] if refused else [])


@pytest.mark.parametrize("method", ["equal_installment", "equal_principal", "interest_monthly", "bullet"])
def test_every_offered_method_is_accepted(method):
    assert codes(facts(repayment_method=method)) == []


def test_unknown_repayment_method():
    assert codes(facts(repayment_method="balloon")) == ["REPAYMENT_METHOD"]


def test_method_not_offered_by_this_product():
    product = ProductTerms(code="P", name="p", repayment_methods=["equal_installment"])
    assert codes(facts(repayment_method="bullet"), product) == ["REPAYMENT_METHOD"]


@pytest.mark.parametrize(("term", "refused"), [(12, False), (13, True), (36, True)])
def test_bullet_at_most_twelve_months(term, refused):
    assert codes(facts(repayment_method="bullet", term_months=term)) == (["BULLET_TOO_LONG"] if refused else [])


def test_thirteen_months_is_fine_for_other_methods():
    assert codes(facts(repayment_method="interest_monthly", term_months=13)) == []


# --- guarantee -----------------------------------------------------------------------------------------

def test_unknown_guarantee_type():
    assert codes(facts(guarantee_type="mortgage")) == ["GUARANTEE_TYPE"]


def test_guarantee_type_not_offered_by_this_product():
    product = ProductTerms(code="P", name="p", guarantee_types=["credit"])
    assert codes(facts(guarantee_type="guaranteed", guarantor_ids=[2]), product) == ["GUARANTEE_TYPE"]


def test_credit_loan_takes_no_guarantors():
    assert codes(facts(guarantor_ids=[2])) == ["GUARANTORS_ON_CREDIT"]


@pytest.mark.parametrize(("guarantors", "refused"), [([], True), ([2], False), ([2, 3], False), ([2, 3, 4], True)])
def test_guarantor_count(guarantors, refused):
    got = codes(facts(guarantee_type="guaranteed", guarantor_ids=guarantors))
    assert got == (["GUARANTOR_COUNT"] if refused else [])


def test_guarantor_cannot_be_the_borrower():
    assert codes(facts(guarantee_type="guaranteed", guarantor_ids=[1])) == ["GUARANTOR_DUPLICATE"]
    assert codes(facts(guarantee_type="guaranteed", guarantor_ids=[2, 1])) == ["GUARANTOR_DUPLICATE"]


def test_guarantor_cannot_appear_twice():
    assert codes(facts(guarantee_type="guaranteed", guarantor_ids=[2, 2])) == ["GUARANTOR_DUPLICATE"]


# --- everything at once --------------------------------------------------------------------------------

def test_all_problems_are_reported_together():
    f = facts(amount=Decimal("500.005"), term_months=48, repayment_method="balloon", guarantee_type="guaranteed",
              guarantor_ids=[])
    assert codes(f) == ["AMOUNT_INVALID", "TERM_OUT_OF_RANGE", "REPAYMENT_METHOD", "GUARANTOR_COUNT"]


def test_bullet_too_long_and_amount_over_cap_and_duplicate_guarantor_together():
    f = facts(repayment_method="bullet", term_months=24, amount=Decimal("350000"), guarantee_type="guaranteed",
              guarantor_ids=[1, 2])
    assert codes(f) == ["AMOUNT_OUT_OF_RANGE", "BULLET_TOO_LONG", "GUARANTOR_DUPLICATE"]


def test_every_refusal_has_both_languages():
    f = facts(amount=Decimal("0"), term_months=48, repayment_method="bullet", guarantee_type="credit",
              guarantor_ids=[2])
    refusals = check_acceptance(f, PRODUCT, AS_OF)
    assert len(refusals) == 4
    assert all(r.zh and r.en for r in refusals)
