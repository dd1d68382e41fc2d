"""The reference scorer: one household at a time, in Decimal. The batch's set-based scorer must give the
same score, grade, stars and reasons for every household (a property test holds them together)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from domain.rating.model import ContributionModel, CreditScorecard, Feature


class HouseholdFacts(BaseModel):
    """The rating's input snapshot: no name, ID or phone, so it can be stored and passed around freely."""

    customer_id: int
    age: int
    customer_type: str = "farmer"
    annual_income: Decimal = Decimal(0)
    annual_expenses: Decimal = Decimal(0)
    total_assets: Decimal = Decimal(0)
    total_liabilities: Decimal = Decimal(0)
    acreage_mu: Decimal = Decimal(0)
    livestock_heads: int = 0
    business_years: int = 0
    labour_count: int = 1
    house_owned: bool = False
    credit_village: bool = False
    blacklisted: bool = False
    currently_overdue: bool = False
    bad_history: bool = False
    court_dishonest: bool = False
    avg_daily_assets: Decimal = Decimal(0)
    avg_loan_balance: Decimal = Decimal(0)
    settlement_txns: int = 0
    # Loyalty and growth indicators (domain/rating/contribution.py); they do not change points or stars.
    avg_daily_assets_prev: Decimal = Decimal(0)
    months_as_customer: int = 0
    products_held: int = 0


class FeatureScore(BaseModel):
    feature: str
    value: Decimal
    points: int
    reason: str


class Scored(BaseModel):
    model_code: str
    model_version: int
    contribution_version: int
    prefilter_hits: list[str]
    contribution_points: Decimal
    stars: int
    score: int
    grade: str
    items: list[FeatureScore]


def feature_value(facts: HouseholdFacts, feature: Feature) -> Decimal:
    match feature:
        case "net_income":
            return facts.annual_income - facts.annual_expenses
        case "net_assets":
            return facts.total_assets - facts.total_liabilities
        case "debt_ratio":
            # No assets at all is the worst case, not a division by zero.
            return facts.total_liabilities / facts.total_assets if facts.total_assets > 0 else Decimal(1)
        case "house_owned" | "credit_village":
            return Decimal(int(getattr(facts, feature)))
        case _:
            return Decimal(getattr(facts, feature))


def contribution(facts: HouseholdFacts, model: ContributionModel) -> tuple[Decimal, int]:
    points = (facts.avg_daily_assets / 1000 * model.asset_weight + facts.avg_loan_balance / 1000 * model.loan_weight
              + facts.settlement_txns * model.settlement_weight)
    stars = 0
    for floor, band_stars in model.star_bands:
        if points >= floor:
            stars = band_stars
    return points.quantize(Decimal("0.01")), stars


def prefilter_hits(facts: HouseholdFacts, card: CreditScorecard) -> list[str]:
    checks = {"BLACKLIST": facts.blacklisted, "CURRENT_OVERDUE": facts.currently_overdue,
              "BAD_HISTORY": facts.bad_history, "COURT_DISHONEST": facts.court_dishonest,
              "AGE_OUT_OF_RANGE": not card.min_age <= facts.age <= card.max_age}
    return [code for code in card.prefilters if checks[code]]


def score(facts: HouseholdFacts, card: CreditScorecard, contrib: ContributionModel) -> Scored:
    """Pre-filters first: a hit means grade C, score 0 and no items (so no line), as DOMAIN.md says."""
    points, stars = contribution(facts, contrib)
    return score_with_stars(facts, card, points=points, stars=stars, contribution_version=contrib.version)


def score_with_stars(facts: HouseholdFacts, card: CreditScorecard, *, points: Decimal, stars: int,
                     contribution_version: int) -> Scored:
    """The scorecard alone, given the contribution engine's answer (a scorecard's test cases name the stars)."""
    hits = prefilter_hits(facts, card)
    base = dict(model_code=card.code, model_version=card.version, contribution_version=contribution_version,
                prefilter_hits=hits, contribution_points=points, stars=stars)
    if hits:
        return Scored(**base, score=0, grade="C", items=[])
    items = []
    for scored in card.features:
        value = feature_value(facts, scored.feature)
        chosen = scored.bins[0]
        for b in scored.bins[1:]:
            if value >= b.lower:  # type: ignore[operator]
                chosen = b
        items.append(FeatureScore(feature=scored.feature, value=value, points=chosen.points, reason=chosen.reason))
    total = card.base_score + sum(i.points for i in items) + card.contribution_points[stars]
    total = max(0, min(card.max_score, total))
    grade = next((band.grade for band in card.grade_bands if total >= band.min_score), "C")
    return Scored(**base, score=total, grade=grade, items=items)
