"""Rule sets and decisions as the API shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from db.models import DecisionRecord, RuleSet
from domain.refusals import Refusal
from domain.rules import RuleTestCase
from services.schemas.common import RequestModel

WiredScenario = Literal["admission", "acceptance", "approval", "drawdown", "pricing"]


class RuleSetIn(RequestModel):
    """A new version of a product's rule set: a GoRules JDM graph and the test cases that must pass."""

    product_code: str = Field(min_length=1, max_length=32)
    scenario: WiredScenario
    effective_from: date
    note: str = Field(default="", max_length=200)
    content: dict[str, Any] = Field(description="the JDM decision graph (nodes and edges)")
    tests: list[RuleTestCase] = Field(min_length=1, max_length=500)


class RuleSetSummary(BaseModel):
    id: int
    product_code: str
    scenario: str
    version: int
    label: str
    status: str
    effective_from: date
    checksum: str
    note: str
    created_by: str
    created_at: datetime
    activated_by: str | None
    activated_at: datetime | None
    rolled_back_by: str | None

    @classmethod
    def of(cls, row: RuleSet) -> RuleSetSummary:
        return cls(**row.model_dump(exclude={"content", "tests", "rolled_back_at"}),
                   label=f"{row.product_code}/{row.scenario}@v{row.version}")


class RuleSetView(RuleSetSummary):
    content: dict[str, Any]
    tests: list[dict[str, Any]]

    @classmethod
    def of(cls, row: RuleSet) -> RuleSetView:
        return cls(**RuleSetSummary.of(row).model_dump(), content=row.content, tests=row.tests)


class RollbackResult(BaseModel):
    in_force: RuleSetSummary
    set_aside: list[RuleSetSummary]


class DryRunIn(RequestModel):
    last: int = Field(default=100, ge=1, le=5000, description="how many of the latest applications to replay")


class DecisionBrief(BaseModel):
    rule_set_version: str
    outcome: str
    reason_codes: list[str]
    error: str | None = None
    error_node: str | None = None


class DryRunChange(BaseModel):
    decision_id: int
    application_id: int
    app_no: str | None
    before: DecisionBrief
    after: DecisionBrief
    why: list[Refusal] = Field(description="the draft's reasons, in Chinese and English")


class DryRunReport(BaseModel):
    rule_set: RuleSetSummary
    evaluated: int
    changed: int
    errors: int
    changes: list[DryRunChange]


class DecisionView(BaseModel):
    """What a decision on an application was, with each reason in Chinese and English."""

    id: int
    scenario: str
    rule_set_version: str
    outcome: str
    reasons: list[Refusal]
    decided_at: datetime


class ExplanationStep(BaseModel):
    order: int | None
    node: str | None
    name: str | None
    zh: str
    en: str
    detail: Any = None


class DecisionExplanation(DecisionView):
    app_no: str | None
    summary_zh: str
    summary_en: str
    inputs: dict[str, Any]
    steps: list[ExplanationStep]
    error: str | None
    error_node: str | None

    @staticmethod
    def brief(row: DecisionRecord) -> DecisionBrief:
        return DecisionBrief(rule_set_version=row.rule_set_version, outcome=row.outcome, reason_codes=row.reason_codes,
                             error=row.error, error_node=row.error_node)
