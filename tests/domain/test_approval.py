"""The automatic approval decision: reject, manual review (each reason), approve."""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.rule_store import shipped
from domain import approval
from domain.products import ProductTerms, nongedai_default
from domain.scorecard import RatingOutcome

D = Decimal
PRODUCT = nongedai_default()  # auto-approve up to 100,000 for AAA/AA/A
RULE_SET, _ = shipped("NONG_E_DAI", "approval")


def decide(product: ProductTerms, amount: Decimal, guarantee_type: str, rating: RatingOutcome):
    """The shipped approval rule set, as the review activity runs it."""
    return approval.decide(product, amount, guarantee_type, rating, rule_set=RULE_SET)


def rating(grade: str, limit: str, hits: list[str] | None = None, score: int = 85) -> RatingOutcome:
    return RatingOutcome(score=score, grade=grade, credit_limit=D(limit), items=[], prefilter_hits=hits or [])


@pytest.mark.parametrize(("hits", "codes"), [
    (["BLACKLIST"], ["PREFILTER_BLACKLIST"]),
    (["CURRENT_OVERDUE"], ["PREFILTER_CURRENT_OVERDUE"]),
    (["BLACKLIST", "CURRENT_OVERDUE"], ["PREFILTER_BLACKLIST", "PREFILTER_CURRENT_OVERDUE"]),
])
def test_reject_on_prefilter(hits, codes):
    out = decide(PRODUCT, D("10000"), "credit", rating("C", "0", hits, score=0))
    assert (out.decision, out.reason_codes) == ("reject", codes)


def test_prefilter_wins_even_with_a_good_grade_on_the_outcome():
    out = decide(PRODUCT, D("10000"), "credit", rating("AAA", "200000", ["BLACKLIST"]))
    assert (out.decision, out.reason_codes) == ("reject", ["PREFILTER_BLACKLIST"])


def test_reject_grade_c():
    out = decide(PRODUCT, D("1000"), "credit", rating("C", "0", score=40))
    assert (out.decision, out.reason_codes) == ("reject", ["GRADE_TOO_LOW"])


def test_manual_review_amount_over_model_limit():
    out = decide(PRODUCT, D("50000.01"), "credit", rating("AA", "50000"))
    assert (out.decision, out.reason_codes) == ("manual_review", ["AMOUNT_OVER_MODEL_LIMIT"])


def test_manual_review_grade_b():
    out = decide(PRODUCT, D("20000"), "credit", rating("B", "51000", score=65))
    assert (out.decision, out.reason_codes) == ("manual_review", ["GRADE_NEEDS_REVIEW"])


def test_manual_review_amount_over_auto_max():
    out = decide(PRODUCT, D("100000.01"), "guaranteed", rating("AAA", "200000"))
    assert (out.decision, out.reason_codes) == ("manual_review", ["AMOUNT_OVER_AUTO_LIMIT"])


def test_all_review_reasons_together_in_order():
    out = decide(PRODUCT, D("150000"), "guaranteed", rating("B", "51000", score=65))
    assert (out.decision, out.reason_codes) == (
        "manual_review", ["AMOUNT_OVER_MODEL_LIMIT", "GRADE_NEEDS_REVIEW", "AMOUNT_OVER_AUTO_LIMIT"])


@pytest.mark.parametrize(("grade", "amount", "limit"), [
    ("AAA", "100000", "200000"),   # exactly at the auto-approve maximum
    ("AA", "80000", "80000"),      # exactly at the model limit
    ("A", "1000", "102000"),
])
def test_approve_within_rules(grade, amount, limit):
    out = decide(PRODUCT, D(amount), "credit", rating(grade, limit))
    assert (out.decision, out.reason_codes) == ("approve", ["AUTO_WITHIN_RULES"])


def test_product_settings_drive_the_review_reasons():
    strict = ProductTerms(code="S", name="s", auto_approve_max=D("30000"), auto_approve_grades=["AAA"])
    out = decide(strict, D("40000"), "credit", rating("AA", "136000"))
    assert (out.decision, out.reason_codes) == ("manual_review", ["GRADE_NEEDS_REVIEW", "AMOUNT_OVER_AUTO_LIMIT"])
    assert decide(strict, D("30000"), "credit", rating("AAA", "170000")).decision == "approve"
