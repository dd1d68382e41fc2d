"""Ratings, rating models and overrides as the API shows and takes them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from db.models import CustomerRating, RatingModel, RatingOverride, RatingRecord
from services.schemas.common import RequestModel

GradeIn = Literal["AAA", "AA", "A", "B", "C"]


class RatingModelIn(RequestModel):
    """A new version of a rating model (domain.rating.model) with the test cases it must pass."""

    kind: Literal["scorecard", "contribution"]
    note: str = Field(default="", max_length=200)
    content: dict[str, Any] = Field(description="a CreditScorecard or ContributionModel as JSON")
    tests: list[Any] = Field(max_length=500, description="scorecard: {name, facts, stars, expect: {grade, score, "
                             "prefilter_hits, reasons}}; contribution: {name, facts, expect: {stars, points, loyalty, growth}}")


class RatingModelSummary(BaseModel):
    id: int
    kind: str
    code: str
    version: int
    label: str
    status: str
    checksum: str
    note: str
    created_by: str
    created_at: datetime
    activated_by: str | None
    activated_at: datetime | None

    @classmethod
    def of(cls, row: RatingModel) -> RatingModelSummary:
        return cls(**row.model_dump(exclude={"content", "tests"}), label=f"{row.code}@v{row.version}")


class RatingModelView(RatingModelSummary):
    content: dict[str, Any]
    tests: list[Any]

    @classmethod
    def of(cls, row: RatingModel) -> RatingModelView:
        return cls(**RatingModelSummary.of(row).model_dump(), content=row.content, tests=row.tests)


class RateIn(RequestModel):
    """Rate now, for the limit of one product and guarantee type."""

    product_code: str = Field(default="NONG_E_DAI", min_length=1, max_length=32)
    guarantee_type: Literal["credit", "guaranteed"] = "credit"


class RatingRecordView(BaseModel):
    id: int
    customer_id: int
    application_id: int | None
    source: str
    model_version: str
    contribution_version: str | None
    score: int
    grade: str
    stars: int | None
    credit_limit: Decimal
    reasons: list[Any]
    policy_tags: list[str]
    rated_at: datetime
    batch_run_id: int | None

    @classmethod
    def of(cls, row: RatingRecord) -> RatingRecordView:
        assert row.id is not None
        detail = row.detail or {}
        return cls(id=row.id, customer_id=row.customer_id, application_id=row.application_id, source=row.source,
                   model_version=row.model_version, contribution_version=detail.get("contribution_version"),
                   score=row.score, grade=row.grade, stars=row.stars, credit_limit=row.credit_limit,
                   reasons=row.reasons, policy_tags=detail.get("policy_tags", []), rated_at=row.rated_at,
                   batch_run_id=row.batch_run_id)


class LimitLine(BaseModel):
    zh: str
    en: str


class RatingResult(RatingRecordView):
    """A rating just made, with its input snapshot and the limit's breakdown."""

    inputs: dict[str, Any]
    limit_breakdown: dict[str, Any] | None
    limit_lines: list[LimitLine]


class CurrentRatingView(BaseModel):
    customer_id: int
    grade: str
    score: int
    stars: int
    source: str
    model_version: str
    rated_at: datetime
    rating_record_id: int

    @classmethod
    def of(cls, row: CustomerRating) -> CurrentRatingView:
        return cls(**row.model_dump())


class ExplanationLine(BaseModel):
    code: str
    points: int | None = None
    zh: str
    en: str


class RatingExplanation(BaseModel):
    record: RatingRecordView
    summary_zh: str
    summary_en: str
    prefilters: list[ExplanationLine]
    items: list[ExplanationLine]
    contribution: ExplanationLine | None
    limit: list[LimitLine]
    override: dict[str, Any] | None
    inputs: dict[str, Any]


class OverrideIn(RequestModel):
    """Change the customer's current grade by hand; a second person must approve."""

    to_grade: GradeIn
    reason: str = Field(min_length=4, max_length=200, description="why, in words the approver and auditor read")


class OverrideDecisionIn(RequestModel):
    decision: Literal["approve", "reject"]
    note: str = Field(default="", max_length=200)


class OverrideView(BaseModel):
    id: int
    customer_id: int
    base_record_id: int
    from_grade: str
    to_grade: str
    reason: str
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    result_record_id: int | None

    @classmethod
    def of(cls, row: RatingOverride) -> OverrideView:
        return cls(**row.model_dump())
