"""Acceptance (受理): can this application, as asked, be taken in?

Application-level conditions (amount, term, repayment method, guarantee and guarantors), after admission
(`domain/admission.py`) found the customer eligible. The conditions themselves are the product's
acceptance rule set (a JDM decision model, by default `rules/NONG_E_DAI/acceptance.json`). This module
turns what the caller gathered into the facts that rule set reads, and refusal codes (its own and the
admission codes they share, such as the age window) back into Chinese and English text with the
product's figures.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from domain import rules
from domain.money import is_whole_fen
from domain.products import ProductTerms
from domain.refusals import Refusal

_HUGE = Decimal(10) ** 15


class ApplicationFacts(BaseModel):
    amount: Decimal
    term_months: int
    repayment_method: str
    guarantee_type: str
    borrower_id: int
    guarantor_ids: list[int] = []


def rule_facts(facts: ApplicationFacts, product: ProductTerms, as_of: date) -> dict[str, Any]:
    """What the acceptance rule set reads: no names, no ID numbers, only what the conditions need."""
    n = len(facts.guarantor_ids)
    whole = is_whole_fen(facts.amount)
    # An amount finer than a fen is refused anyway: the rules see it cut to the fen. Beyond 10^15 (the
    # engine's decimals hold 28 digits) they see 10^15, which is out of every product's bounds just the same.
    amount = max(min(facts.amount if whole else facts.amount.quantize(Decimal("0.01")), _HUGE), -_HUGE)
    return {
        "amount": amount,
        "amount_whole_fen": whole,
        "term_months": facts.term_months, "repayment_method": facts.repayment_method,
        "guarantee_type": facts.guarantee_type, "guarantor_count": n,
        "guarantors_distinct": facts.borrower_id not in facts.guarantor_ids and len(set(facts.guarantor_ids)) == n,
        "product": {
            "min_amount": product.min_amount,
            "amount_ceiling": min(product.max_amount, product.cap_for(facts.guarantee_type)),
            "min_term_months": product.min_term_months, "max_term_months": product.max_term_months,
            "repayment_methods": list(product.repayment_methods), "bullet_max_months": product.bullet_max_months,
            "guarantee_types": list(product.guarantee_types), "max_guarantors": product.max_guarantors,
        },
    }


def refusals(result: dict[str, Any], facts: dict[str, Any]) -> list[Refusal]:
    """The rule set's refusals, in its order, with text; `facts` are the ones it was given."""
    return [refusal(r["code"], facts, r.get("field")) for r in result.get("refusals", [])]


def refusal(code: str, facts: dict[str, Any], field: str | None = None) -> Refusal:
    p = facts.get("product", {})
    texts: dict[str, tuple[str, str]] = {
        "BIRTH_DATE_FUTURE": ("出生日期晚于今天", "birth date is in the future"),
        "AGE_OUT_OF_RANGE": (f"年龄须在{p.get('min_age')}至{p.get('max_age')}周岁之间",
                             f"age must be {p.get('min_age')}-{p.get('max_age')}"),
        "OUTSIDE_REGION": ("不在本社服务区域内", "residence is outside the cooperative's region"),
        "AMOUNT_INVALID": ("金额须为正数且精确到分", "amount must be positive, in whole fen"),
        "AMOUNT_OUT_OF_RANGE": (f"申请金额须在{p.get('min_amount')}至{p.get('amount_ceiling')}元之间",
                                "amount is outside the product's bounds"),
        "TERM_OUT_OF_RANGE": (f"期限须在{p.get('min_term_months')}至{p.get('max_term_months')}个月之间",
                              "term is outside the product's bounds"),
        "REPAYMENT_METHOD": ("本产品不支持该还款方式", "repayment method not offered"),
        "BULLET_TOO_LONG": ("利随本清贷款期限不得超过一年", "bullet loans are at most 1 year"),
        "GUARANTEE_TYPE": ("本产品不支持该担保方式", "guarantee type not offered"),
        "GUARANTORS_ON_CREDIT": ("信用贷款无需保证人", "credit loans take no guarantors"),
        "GUARANTOR_COUNT": (f"保证贷款需1至{p.get('max_guarantors')}名保证人",
                            f"guaranteed loans need 1-{p.get('max_guarantors')} guarantors"),
        "GUARANTOR_DUPLICATE": ("保证人不能是借款人本人,也不能重复", "a guarantor cannot be the borrower or appear twice"),
        "OPEN_APPLICATION_EXISTS": ("您已有一笔在办的贷款申请", "another application is open"),
    }
    zh, en = texts.get(code, ("不符合受理规则", f"refused by the acceptance rules ({code})"))
    return Refusal(code=code, zh=zh, en=en, field=field)


def outcome(result: dict[str, Any]) -> tuple[str, list[str]]:
    """(accept | reject, reason codes) from the rule set's result."""
    codes = [str(r["code"]) for r in result["refusals"]]
    return ("reject" if codes else "accept"), codes


def check_acceptance(facts: ApplicationFacts, product: ProductTerms, as_of: date, *,
                     rule_set: dict[str, Any]) -> list[Refusal]:
    """Every refusal that applies (not just the first), so the customer can fix them in one go."""
    inputs = rule_facts(facts, product, as_of)
    return refusals(rules.evaluate(rule_set, inputs).result, inputs)
