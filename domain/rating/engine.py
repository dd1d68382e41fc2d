"""One real-time rating: contribution stars and indicators, the credit scorecard behind its pre-filters, and
the credit limit for a product, with everything a rating record keeps (versions, items, reason codes).

Pure: the caller brings the household's facts, the models in force and the product's terms.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from domain.products import ProductTerms
from domain.rating.contribution import ContributionRating, rate_contribution
from domain.rating.limits import LimitBreakdown, credit_limit
from domain.rating.model import FEATURES_ZH, ContributionModel, CreditScorecard
from domain.rating.scoring import FeatureScore, HouseholdFacts, Scored, score

PREFILTER_TEXT: dict[str, tuple[str, str]] = {
    "BLACKLIST": ("列入黑名单", "on the blacklist"),
    "CURRENT_OVERDUE": ("当前有逾期贷款", "a loan is overdue now"),
    "BAD_HISTORY": ("有不良信用记录", "a non-performing loan in the credit history"),
    "COURT_DISHONEST": ("列入失信被执行人名单", "on the court's list of dishonest judgment debtors"),
    "AGE_OUT_OF_RANGE": ("年龄不在准入范围内", "age outside the window"),
}


def model_label(code: str, version: int) -> str:
    return f"{code}@v{version}"


class Rating(BaseModel):
    """The whole outcome of one rating, as stored (RatingRecord.detail) and explained."""

    scored: Scored
    contribution: ContributionRating
    limit: LimitBreakdown
    policy_tags: list[str]

    @property
    def model_version(self) -> str:
        return model_label(self.scored.model_code, self.scored.model_version)

    @property
    def contribution_version(self) -> str:
        return model_label(self.contribution.model_code, self.contribution.model_version)

    def reason_codes(self) -> list[str]:
        """Pre-filter hits when there are any (they decide alone), else each scored item's bin reason."""
        return list(self.scored.prefilter_hits) or [i.reason for i in self.scored.items]


def rate(facts: HouseholdFacts, card: CreditScorecard, contrib: ContributionModel, terms: ProductTerms,
         guarantee_type: str, policy_tags: list[str]) -> Rating:
    scored = score(facts, card, contrib)
    limit = credit_limit(facts, scored.grade, terms, guarantee_type, prefiltered=bool(scored.prefilter_hits))
    tags = sorted(set(policy_tags) | ({"credit_village"} if facts.credit_village else set()))
    return Rating(scored=scored, contribution=rate_contribution(facts, contrib), limit=limit, policy_tags=tags)


def item_text(item: FeatureScore) -> tuple[str, str]:
    name = FEATURES_ZH.get(item.feature, item.feature)
    value = _show(item.value)
    return (f"{name} {value}:{item.points:+d} 分({item.reason})",
            f"{item.feature} {value}: {item.points:+d} points ({item.reason})")


def _show(value: Decimal) -> str:
    return f"{value:,.2f}" if value != value.to_integral_value() else f"{value:,.0f}"
