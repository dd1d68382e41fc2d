"""Rules management: rule-set versions (upload, activate by a second person, roll back, dry run) and the
decisions made on an application, explained."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import CurrentUser, RulesChecker, RulesMaker, SessionDep, StaffMember
from api.errors import responses
from services import rules
from services.schemas.rules import (
    DecisionExplanation,
    DecisionView,
    DryRunIn,
    DryRunReport,
    RollbackResult,
    RuleSetIn,
    RuleSetSummary,
    RuleSetView,
)

router = APIRouter(tags=["rules"])
RuleSetId = Annotated[int, Path(ge=1)]


@router.post("/v1/rule-sets", status_code=201, response_model=RuleSetView, responses=responses(403, 422))
def upload(body: RuleSetIn, user: RulesMaker, session: SessionDep) -> RuleSetView:
    """A new draft version. Refused (422) when the graph or an expression is malformed (`RULE_SET_INVALID`,
    naming the `node`) or a test case fails (`RULE_TEST_FAILED`, naming the `test`)."""
    return rules.upload(session, user, body)


@router.get("/v1/rule-sets", response_model=list[RuleSetSummary], responses=responses(403))
def listing(user: RulesMaker, session: SessionDep,
            product_code: Annotated[str | None, Query(max_length=32)] = None,
            scenario: Annotated[str | None, Query(max_length=16)] = None,
            limit: Annotated[int, Query(ge=1, le=200)] = 50,
            offset: Annotated[int, Query(ge=0)] = 0) -> list[RuleSetSummary]:
    return rules.listing(session, product_code=product_code, scenario=scenario, limit=limit, offset=offset)


@router.get("/v1/rule-sets/{rule_set_id}", response_model=RuleSetView, responses=responses(403, 404))
def get(rule_set_id: RuleSetId, user: RulesMaker, session: SessionDep) -> RuleSetView:
    return rules.get(session, rule_set_id)


@router.post("/v1/rule-sets/{rule_set_id}/activation", response_model=RuleSetView,
             responses=responses(403, 404, 409, 422))
def activate(rule_set_id: RuleSetId, user: RulesChecker, session: SessionDep) -> RuleSetView:
    """Put a draft in force from its effective date: an administrator other than its uploader (maker-checker)."""
    return rules.activate(session, user, rule_set_id)


@router.post("/v1/rule-sets/{rule_set_id}/rollback", response_model=RollbackResult,
             responses=responses(403, 404, 409))
def rollback(rule_set_id: RuleSetId, user: RulesChecker, session: SessionDep) -> RollbackResult:
    """Put an earlier, once-activated version back in force; the later active versions step aside."""
    return rules.rollback(session, user, rule_set_id)


@router.post("/v1/rule-sets/{rule_set_id}/dry-run", response_model=DryRunReport, responses=responses(403, 404))
def dry_run(rule_set_id: RuleSetId, body: DryRunIn, user: RulesMaker, session: SessionDep) -> DryRunReport:
    """Evaluate this version over the facts of the last N applications' decisions; nothing is recorded."""
    return rules.dry_run(session, rule_set_id, body)


@router.get("/v1/applications/{app_no}/decisions", response_model=list[DecisionView], responses=responses(404))
def decisions(app_no: Annotated[str, Path(max_length=24)], user: CurrentUser,
              session: SessionDep) -> list[DecisionView]:
    """The rule decisions on an application (acceptance, approval): version, outcome, reasons in both languages."""
    return rules.decisions_of(session, user, app_no)


@router.get("/v1/decisions/{decision_id}/explanation", response_model=DecisionExplanation,
            responses=responses(403, 404))
def explanation(decision_id: Annotated[int, Path(ge=1)], user: StaffMember,
                session: SessionDep) -> DecisionExplanation:
    """Why: the rule-set version, the facts it read, each node it went through and each reason, zh and en."""
    return rules.explain(session, user, decision_id)
