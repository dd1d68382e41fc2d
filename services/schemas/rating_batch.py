"""Ops views of the quarterly batch rating: runs with their progress, the migration report, failed rows."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from services.schemas.common import RequestModel


class RatingRunStart(RequestModel):
    as_of: date | None = Field(default=None, description="ages are counted on this date; default today (Beijing)")


class RatingRunAccepted(BaseModel):
    workflow_id: str
    as_of: date | None


class RatingRunView(BaseModel):
    id: int
    quarter: str
    as_of: date
    status: str = Field(description="running | completed | abandoned (left idle past its lease, then a newer run started)")
    model_version: str = Field(description="the scorecard the run rates with, as CODE@v<version>")
    contribution_version: str = Field(description="the contribution model, as CODE@v<version>")
    chunk_size: int
    chunks_done: int
    chunks_total: int
    households_rated: int
    households_failed: int
    started_at: datetime
    finished_at: datetime | None
    last_active_at: datetime = Field(description="its start or its latest chunk; a run still running whose last "
                                                 "activity is older than NONGEDAI_RATING_RUN_LEASE_MINUTES has most "
                                                 "likely stopped and blocks no new run (should it wake up after a "
                                                 "newer run started, it is abandoned)")


class GradeMigration(BaseModel):
    from_grade: str | None = Field(description="the rating in force before the run; null: none (new)")
    to_grade: str
    prefiltered: bool = Field(description="a pre-filter hit (blacklist, overdue, ...): grade C, no line")
    households: int
    override_kept: bool = Field(default=False, description="a manual override stays in force; the batch's own "
                                                           "rating is recorded beside it")


class MigrationSummary(BaseModel):
    upgrades: int
    downgrades: int
    unchanged: int
    new: int
    prefiltered: int
    overrides_kept: int


class RatingRunReport(RatingRunView):
    migrations: list[GradeMigration]
    summary: MigrationSummary


class RatingFailureReason(BaseModel):
    code: str
    field: str
    zh: str
    en: str


class RatingFailureView(BaseModel):
    household_id: int
    customer_id: int
    chunk_no: int
    reasons: list[RatingFailureReason]
