"""Test cases shipped with a rating model (like rules/ do for rule sets): each names household facts and
what the model must answer. A model version is stored and activated only while all of them pass."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.rating.contribution import Growth, Loyalty, rate_contribution
from domain.rating.model import STARS, ContributionModel, CreditScorecard, Grade, Prefilter
from domain.rating.scoring import HouseholdFacts, score_with_stars


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _anonymous(cls, data: Any) -> Any:
        # A test household is nobody: its customer id may be left out.
        if isinstance(data, dict) and isinstance(data.get("facts"), dict):
            data = {**data, "facts": {"customer_id": 0, **data["facts"]}}
        return data


class ScorecardExpect(Strict):
    grade: Grade
    score: int | None = None
    prefilter_hits: list[Prefilter] | None = None
    reasons: list[str] = Field(default_factory=list, description="reason codes that must be among the answer's")


class ScorecardCase(Strict):
    name: str = Field(min_length=1, max_length=120)
    facts: HouseholdFacts
    stars: int = Field(default=0, description="the contribution stars the scorecard is given (0, 3..7)")
    expect: ScorecardExpect


class ContributionExpect(Strict):
    stars: int
    points: Decimal | None = None
    loyalty: Loyalty | None = None
    growth: Growth | None = None


class ContributionCase(Strict):
    name: str = Field(min_length=1, max_length=120)
    facts: HouseholdFacts
    expect: ContributionExpect


class CaseFailure(BaseModel):
    index: int
    name: str
    expected: dict
    got: dict


def check_scorecard(card: CreditScorecard, cases: list[ScorecardCase]) -> list[CaseFailure]:
    failures = []
    for index, case in enumerate(cases):
        if case.stars not in STARS:
            failures.append(CaseFailure(index=index, name=case.name, expected={"stars": list(STARS)},
                                        got={"stars": case.stars}))
            continue
        scored = score_with_stars(case.facts, card, points=Decimal(0), stars=case.stars, contribution_version=0)
        reasons = set(scored.prefilter_hits) | {i.reason for i in scored.items}
        got = {"grade": scored.grade, "score": scored.score, "prefilter_hits": scored.prefilter_hits,
               "reasons": sorted(reasons)}
        want = case.expect
        if (scored.grade != want.grade or (want.score is not None and scored.score != want.score)
                or (want.prefilter_hits is not None and scored.prefilter_hits != want.prefilter_hits)
                or not set(want.reasons) <= reasons):
            failures.append(CaseFailure(index=index, name=case.name, expected=want.model_dump(exclude_none=True),
                                        got=got))
    return failures


def check_contribution(model: ContributionModel, cases: list[ContributionCase]) -> list[CaseFailure]:
    failures = []
    for index, case in enumerate(cases):
        rated = rate_contribution(case.facts, model)
        want = case.expect
        got = {"stars": rated.stars, "points": str(rated.points), "loyalty": rated.loyalty, "growth": rated.growth}
        if (rated.stars != want.stars or (want.points is not None and rated.points != want.points)
                or (want.loyalty is not None and rated.loyalty != want.loyalty)
                or (want.growth is not None and rated.growth != want.growth)):
            failures.append(CaseFailure(index=index, name=case.name, expected=want.model_dump(mode="json", exclude_none=True),
                                        got=got))
    return failures
