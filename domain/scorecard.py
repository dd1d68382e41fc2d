"""The spine's simple, honest 100-point scorecard and credit limit (DOMAIN.md, illustrative defaults).

Pre-filters run first; a hit means no grade and no line. Each item's points are kept as a reason so a
rating can be explained. The full engines (issue 4) replace this module behind the rating adapter.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from domain.money import floor_to

MODEL_VERSION = "spine-scorecard-1"
GRADE_BANDS = ((90, "AAA"), (80, "AA"), (70, "A"), (60, "B"))
GRADE_FACTORS = {"AAA": Decimal("1.0"), "AA": Decimal("0.8"), "A": Decimal("0.6"), "B": Decimal("0.3"), "C": Decimal("0")}


class RatingFacts(BaseModel):
    age: int
    customer_type: str
    annual_income: Decimal
    total_assets: Decimal
    total_liabilities: Decimal
    blacklisted: bool = False
    currently_overdue: bool = False


class ScoreItem(BaseModel):
    code: str
    points: int


class RatingOutcome(BaseModel):
    model_version: str = MODEL_VERSION
    score: int
    grade: str
    credit_limit: Decimal
    items: list[ScoreItem]
    prefilter_hits: list[str]
    # Filled by the contribution engine (issue 4) and read by pricing (issue 3); None means not rated.
    stars: int | None = None
    policy_tags: list[str] = []


def _band(value: Decimal, bins: tuple[tuple[Decimal, int], ...]) -> int:
    points = 0
    for threshold, pts in bins:
        if value >= threshold:
            points = pts
    return points


def score(facts: RatingFacts) -> tuple[int, list[ScoreItem]]:
    net_assets = facts.total_assets - facts.total_liabilities
    debt_ratio = facts.total_liabilities / facts.total_assets if facts.total_assets > 0 else Decimal("1")
    items = [
        ScoreItem(code="BASE", points=30),
        ScoreItem(code="AGE", points=10 if 25 <= facts.age <= 55 else 5),
        ScoreItem(code="INCOME", points=_band(facts.annual_income, (
            (Decimal(0), 0), (Decimal(30_000), 10), (Decimal(60_000), 18), (Decimal(120_000), 25)))),
        ScoreItem(code="NET_ASSETS", points=_band(net_assets, (
            (Decimal(0), 0), (Decimal(50_000), 8), (Decimal(200_000), 15), (Decimal(500_000), 20)))),
        ScoreItem(code="DEBT_RATIO", points=15 if debt_ratio <= Decimal("0.3") else 8 if debt_ratio <= Decimal("0.6") else 0),
    ]
    return min(sum(i.points for i in items), 100), items


def grade_of(points: int) -> str:
    for floor, grade in GRADE_BANDS:
        if points >= floor:
            return grade
    return "C"


def credit_limit(facts: RatingFacts, grade: str, coefficient: Decimal, cap: Decimal, *,
                 grade_factors: dict[str, Decimal] | None = None, asset_weight: Decimal = Decimal("0.3"),
                 income_weight: Decimal = Decimal("1.0")) -> Decimal:
    """min(cap, (net assets x asset weight + annual income x income weight) x grade factor x coefficient),
    down to 1,000. The weights and factors are the product's (ProductTerms); these defaults are DOMAIN.md's."""
    net_assets = max(facts.total_assets - facts.total_liabilities, Decimal(0))
    factor = (GRADE_FACTORS if grade_factors is None else grade_factors).get(grade, Decimal(0))
    raw = (net_assets * asset_weight + facts.annual_income * income_weight) * factor * coefficient
    # A loss-making household (negative income) gets no line, never a negative one.
    return floor_to(max(min(cap, raw), Decimal(0)), Decimal(1000))


def rate(facts: RatingFacts, coefficient: Decimal, cap: Decimal, *, grade_factors: dict[str, Decimal] | None = None,
         asset_weight: Decimal = Decimal("0.3"), income_weight: Decimal = Decimal("1.0")) -> RatingOutcome:
    hits = [code for code, hit in (("BLACKLIST", facts.blacklisted), ("CURRENT_OVERDUE", facts.currently_overdue)) if hit]
    if hits:
        return RatingOutcome(score=0, grade="C", credit_limit=Decimal("0.00"), items=[], prefilter_hits=hits)
    points, items = score(facts)
    grade = grade_of(points)
    limit = credit_limit(facts, grade, coefficient, cap, grade_factors=grade_factors, asset_weight=asset_weight,
                         income_weight=income_weight)
    return RatingOutcome(score=points, grade=grade, credit_limit=limit, items=items, prefilter_hits=[])
