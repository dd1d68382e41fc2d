"""The automatic approval decision: approve, send to a human approver, or reject — with reason codes.

The conditions are the product's approval rule set (by default `rules/NONG_E_DAI/approval.json`); this
module gives it the facts it reads and reads its answer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from domain import rules
from domain.products import ProductTerms
from domain.scorecard import RatingOutcome

Decision = Literal["approve", "manual_review", "reject"]


class ApprovalDecision(BaseModel):
    decision: Decision
    reason_codes: list[str]


def rule_facts(product: ProductTerms, amount: Decimal, guarantee_type: str, rating: RatingOutcome) -> dict[str, Any]:
    return {"amount": amount, "guarantee_type": guarantee_type,
            "rating": {"grade": rating.grade, "credit_limit": rating.credit_limit,
                       "prefilter_hits": list(rating.prefilter_hits)},
            "product": {"auto_approve_grades": list(product.auto_approve_grades),
                        "auto_approve_max": product.auto_approve_max}}


def outcome(result: dict[str, Any]) -> tuple[str, list[str]]:
    """(approve | manual_review | reject, reason codes) from the rule set's result."""
    decision = ApprovalDecision.model_validate(result)
    return decision.decision, decision.reason_codes


def decide(product: ProductTerms, amount: Decimal, guarantee_type: str, rating: RatingOutcome, *,
           rule_set: dict[str, Any]) -> ApprovalDecision:
    result = rules.evaluate(rule_set, rule_facts(product, amount, guarantee_type, rating)).result
    return ApprovalDecision.model_validate(result)
