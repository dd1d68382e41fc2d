"""Acceptance (受理): can this application be taken in at all? Pure checks over facts the caller gathers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from domain.identity import age_on
from domain.money import is_whole_fen
from domain.products import ProductTerms
from domain.refusals import Refusal


class ApplicationFacts(BaseModel):
    amount: Decimal
    term_months: int
    repayment_method: str
    guarantee_type: str
    borrower_id: int
    guarantor_ids: list[int] = []
    birth_date: date
    residence_region: str
    other_open_applications: int = 0


def check_acceptance(facts: ApplicationFacts, product: ProductTerms, as_of: date) -> list[Refusal]:
    """Every refusal that applies (not just the first), so the customer can fix them in one go."""
    out: list[Refusal] = []
    age = age_on(facts.birth_date, as_of)
    ceiling = min(product.max_amount, product.cap_for(facts.guarantee_type))
    if facts.birth_date > as_of:
        out.append(Refusal(code="BIRTH_DATE_FUTURE", zh="出生日期晚于今天", en="birth date is in the future"))
    elif not product.min_age <= age <= product.max_age:
        out.append(Refusal(code="AGE_OUT_OF_RANGE", zh=f"年龄须在{product.min_age}至{product.max_age}周岁之间",
                           en=f"age must be {product.min_age}-{product.max_age}"))
    if not any(facts.residence_region.startswith(p) for p in product.region_prefixes):
        out.append(Refusal(code="OUTSIDE_REGION", zh="不在本社服务区域内", en="residence is outside the cooperative's region"))
    if not is_whole_fen(facts.amount) or facts.amount <= 0:
        out.append(Refusal(code="AMOUNT_INVALID", zh="金额须为正数且精确到分", en="amount must be positive, in whole fen",
                           field="amount"))
    elif not product.min_amount <= facts.amount <= ceiling:
        out.append(Refusal(code="AMOUNT_OUT_OF_RANGE",
                           zh=f"申请金额须在{product.min_amount}至{ceiling}元之间",
                           en="amount is outside the product's bounds", field="amount"))
    if not product.min_term_months <= facts.term_months <= product.max_term_months:
        out.append(Refusal(code="TERM_OUT_OF_RANGE",
                           zh=f"期限须在{product.min_term_months}至{product.max_term_months}个月之间",
                           en="term is outside the product's bounds", field="term_months"))
    if facts.repayment_method not in product.repayment_methods:
        out.append(Refusal(code="REPAYMENT_METHOD", zh="本产品不支持该还款方式", en="repayment method not offered",
                           field="repayment_method"))
    elif facts.repayment_method == "bullet" and facts.term_months > product.bullet_max_months:
        out.append(Refusal(code="BULLET_TOO_LONG", zh="利随本清贷款期限不得超过一年", en="bullet loans are at most 1 year",
                           field="term_months"))
    out.extend(_guarantee_refusals(facts, product))
    if facts.other_open_applications:
        out.append(Refusal(code="OPEN_APPLICATION_EXISTS", zh="您已有一笔在办的贷款申请", en="another application is open"))
    return out


def _guarantee_refusals(facts: ApplicationFacts, product: ProductTerms) -> list[Refusal]:
    if facts.guarantee_type not in product.guarantee_types:
        return [Refusal(code="GUARANTEE_TYPE", zh="本产品不支持该担保方式", en="guarantee type not offered",
                        field="guarantee_type")]
    n = len(facts.guarantor_ids)
    if facts.guarantee_type == "credit" and n:
        return [Refusal(code="GUARANTORS_ON_CREDIT", zh="信用贷款无需保证人", en="credit loans take no guarantors",
                        field="guarantors")]
    if facts.guarantee_type == "guaranteed" and not 1 <= n <= product.max_guarantors:
        return [Refusal(code="GUARANTOR_COUNT", zh=f"保证贷款需1至{product.max_guarantors}名保证人",
                        en=f"guaranteed loans need 1-{product.max_guarantors} guarantors", field="guarantors")]
    if facts.borrower_id in facts.guarantor_ids or len(set(facts.guarantor_ids)) != n:
        return [Refusal(code="GUARANTOR_DUPLICATE", zh="保证人不能是借款人本人,也不能重复",
                        en="a guarantor cannot be the borrower or appear twice", field="guarantors")]
    return []
