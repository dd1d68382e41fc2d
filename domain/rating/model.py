"""The rating models as data: a credit scorecard (bins -> points, grade bands) and a contribution model
(points -> stars). Staff change them by uploading a new version; ratings record the version they used.

The scorecard reads only the named features below, computed from `HouseholdFacts`; there is no
expression language, so a model can be checked completely on upload and scored set-based in the batch.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

Feature = Literal["age", "net_income", "net_assets", "debt_ratio", "acreage_mu", "livestock_heads",
                  "business_years", "labour_count", "house_owned", "credit_village"]
FEATURES_ZH: dict[str, str] = {
    "age": "年龄", "net_income": "家庭年净收入", "net_assets": "净资产", "debt_ratio": "资产负债率",
    "acreage_mu": "经营面积(亩)", "livestock_heads": "畜禽存栏", "business_years": "从业年限",
    "labour_count": "劳动力人数", "house_owned": "自有住房", "credit_village": "信用村",
}
Prefilter = Literal["BLACKLIST", "CURRENT_OVERDUE", "BAD_HISTORY", "COURT_DISHONEST", "AGE_OUT_OF_RANGE"]
Grade = Literal["AAA", "AA", "A", "B", "C"]
STARS = (0, 3, 4, 5, 6, 7)
MAX_BINS = 64
MAX_POINTS = 10_000


class Bin(BaseModel):
    """Values from `lower` (inclusive) up to the next bin's lower bound score `points`; None is -infinity."""

    lower: Decimal | None
    points: int = Field(ge=-MAX_POINTS, le=MAX_POINTS)
    reason: str = Field(min_length=1, max_length=48, description="reason code recorded when this bin applies")


class ScoredFeature(BaseModel):
    feature: Feature
    kind: Literal["base", "bonus"] = "base"
    # A few bins per feature in practice; the limit keeps a bin index in a byte (domain/rating/vector.py).
    bins: list[Bin] = Field(min_length=1, max_length=MAX_BINS)

    @field_validator("bins")
    @classmethod
    def _ordered(cls, bins: list[Bin]) -> list[Bin]:
        if bins[0].lower is not None:
            raise ValueError("the first bin must start at -infinity (lower: null)")
        lows = [b.lower for b in bins[1:]]
        if any(b is None for b in lows) or lows != sorted(lows) or len(set(lows)) != len(lows):  # type: ignore[type-var]
            raise ValueError("bin lower bounds must be strictly increasing after the first")
        return bins


class GradeBand(BaseModel):
    min_score: int
    grade: Grade


class CreditScorecard(BaseModel):
    """Score = base_score + the points of each feature's bin + the contribution points for the stars,
    clamped to 0..max_score; the grade is the first band whose min_score the score reaches (else C)."""

    code: str = "NONG_E_DAI_CREDIT"
    version: int = Field(default=1, ge=1)
    # Bounded so that every score and its grade table stay small (domain/rating/vector.py).
    base_score: int = Field(default=30, ge=-MAX_POINTS, le=MAX_POINTS)
    max_score: int = Field(default=100, ge=1, le=MAX_POINTS)
    min_age: int = Field(default=18, ge=0, le=150)
    max_age: int = Field(default=65, ge=0, le=150)
    prefilters: list[Prefilter] = ["BLACKLIST", "CURRENT_OVERDUE", "BAD_HISTORY", "COURT_DISHONEST", "AGE_OUT_OF_RANGE"]
    features: list[ScoredFeature] = Field(min_length=1)
    contribution_points: dict[int, int] = Field(description="stars (0, 3..7) -> points added to the score")
    grade_bands: list[GradeBand] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> CreditScorecard:
        if len({f.feature for f in self.features}) != len(self.features):
            raise ValueError("each feature may be scored once")
        if len(set(self.prefilters)) != len(self.prefilters):
            raise ValueError("each pre-filter may be listed once")
        if set(self.contribution_points) != set(STARS):
            raise ValueError(f"contribution_points needs exactly the stars {list(STARS)}")
        if any(abs(p) > MAX_POINTS for p in self.contribution_points.values()):
            raise ValueError(f"contribution points lie between -{MAX_POINTS} and {MAX_POINTS}")
        mins = [b.min_score for b in self.grade_bands]
        if mins != sorted(mins, reverse=True):
            raise ValueError("grade bands must be listed from the highest min_score down")
        return self


class ContributionModel(BaseModel):
    """Contribution points = average daily assets / 1,000 x asset_weight + average loan balance / 1,000 x
    loan_weight + settlement transactions in 12 months x settlement_weight; stars from the bands."""

    code: str = "NONG_E_DAI_CONTRIBUTION"
    version: int = Field(default=1, ge=1)
    asset_weight: Decimal = Decimal("1")
    loan_weight: Decimal = Decimal("0.5")
    settlement_weight: Decimal = Decimal("0.2")
    star_bands: list[tuple[Decimal, int]] = Field(
        default_factory=lambda: [(Decimal(50), 3), (Decimal(500), 4), (Decimal(2000), 5),
                                 (Decimal(10000), 6), (Decimal(80000), 7)],
        description="(minimum points, stars), ascending; below the first band no star")
    # Indicators shown beside the stars (domain/rating/contribution.py), not part of the points.
    loyal_months: int = Field(default=60, ge=0, description="tenure (months) for high loyalty")
    loyal_products: int = Field(default=3, ge=0, description="products held for high loyalty")
    growth_threshold: Decimal = Field(default=Decimal("0.10"), ge=0,
                                      description="assets up (down) by this share of the year before: growing (declining)")

    @field_validator("star_bands")
    @classmethod
    def _ascending(cls, bands: list[tuple[Decimal, int]]) -> list[tuple[Decimal, int]]:
        floors, stars = [b[0] for b in bands], [b[1] for b in bands]
        if not bands or floors != sorted(floors) or len(set(floors)) != len(floors) or floors[0] <= 0:
            raise ValueError("star band minimum points must be positive and strictly ascending")
        if stars != sorted(stars) or len(set(stars)) != len(stars) or not set(stars) <= set(STARS[1:]):
            raise ValueError(f"star bands give distinct, ascending stars out of {list(STARS[1:])}")
        return bands


def default_scorecard() -> CreditScorecard:
    """The seeded 农e贷 scorecard (illustrative, DOMAIN.md): 100 points, AAA >= 90 ... B >= 60."""

    def bins(*rows: tuple[int | str | None, int, str]) -> list[Bin]:
        return [Bin(lower=None if lo is None else Decimal(str(lo)), points=p, reason=r) for lo, p, r in rows]

    return CreditScorecard(
        features=[
            ScoredFeature(feature="age", bins=bins((None, 2, "AGE_YOUNG"), (25, 8, "AGE_PRIME"), (56, 4, "AGE_SENIOR"))),
            ScoredFeature(feature="net_income", bins=bins(
                (None, 0, "NET_INCOME_NONE"), (30000, 8, "NET_INCOME_LOW"), (60000, 14, "NET_INCOME_MID"),
                (120000, 20, "NET_INCOME_HIGH"))),
            ScoredFeature(feature="net_assets", bins=bins(
                (None, 0, "NET_ASSETS_NONE"), (50000, 6, "NET_ASSETS_LOW"), (200000, 12, "NET_ASSETS_MID"),
                (500000, 16, "NET_ASSETS_HIGH"))),
            ScoredFeature(feature="debt_ratio", bins=bins(
                (None, 12, "DEBT_LOW"), ("0.3", 6, "DEBT_MID"), ("0.6", 0, "DEBT_HIGH"))),
            ScoredFeature(feature="business_years", bins=bins(
                (None, 0, "BUSINESS_NEW"), (3, 4, "BUSINESS_STABLE"), (10, 6, "BUSINESS_LONG"))),
            ScoredFeature(feature="house_owned", kind="bonus", bins=bins((None, 0, "HOUSE_NONE"), (1, 3, "HOUSE_OWNED"))),
            ScoredFeature(feature="credit_village", kind="bonus", bins=bins((None, 0, "VILLAGE_PLAIN"), (1, 3, "CREDIT_VILLAGE"))),
        ],
        contribution_points={0: 0, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5},
        grade_bands=[GradeBand(min_score=90, grade="AAA"), GradeBand(min_score=80, grade="AA"),
                     GradeBand(min_score=70, grade="A"), GradeBand(min_score=60, grade="B")],
    )
