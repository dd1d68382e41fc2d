"""What a rating answers (the rating port's RatingOutcome): grade, score, limit, items, pre-filter hits, and
the stars and policy tags pricing reads. The engines behind it are domain/rating/ (issue 4), which replaced
the spine's simple scorecard that used to live here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel

# The version a RatingOutcome names when built without one (tests and benchmarks build them by hand).
MODEL_VERSION = "unrated"


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
    # Filled by the rating engines (domain/rating/engine.py): the contribution model's version, the reason
    # codes, the limit's breakdown (domain.rating.limits.LimitBreakdown as JSON) and the stored record.
    contribution_version: str | None = None
    reasons: list[str] = []
    limit_breakdown: dict[str, Any] | None = None
    rating_record_id: int | None = None
