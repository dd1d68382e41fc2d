"""The automatic approval decision: approve, send to a human approver, or reject — with reason codes."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from domain.products import ProductTerms
from domain.scorecard import RatingOutcome

Decision = Literal["approve", "manual_review", "reject"]


class ApprovalDecision(BaseModel):
    decision: Decision
    reason_codes: list[str]


def decide(product: ProductTerms, amount: Decimal, guarantee_type: str, rating: RatingOutcome) -> ApprovalDecision:
    if rating.prefilter_hits:
        return ApprovalDecision(decision="reject", reason_codes=[f"PREFILTER_{h}" for h in rating.prefilter_hits])
    if rating.grade == "C":
        return ApprovalDecision(decision="reject", reason_codes=["GRADE_TOO_LOW"])
    reasons = []
    if amount > rating.credit_limit:
        reasons.append("AMOUNT_OVER_MODEL_LIMIT")
    if rating.grade not in product.auto_approve_grades:
        reasons.append("GRADE_NEEDS_REVIEW")
    if amount > product.auto_approve_max:
        reasons.append("AMOUNT_OVER_AUTO_LIMIT")
    if reasons:
        return ApprovalDecision(decision="manual_review", reason_codes=reasons)
    return ApprovalDecision(decision="approve", reason_codes=["AUTO_WITHIN_RULES"])
