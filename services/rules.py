"""Rules management: upload a rule-set version (validated), activate it as a second person, roll back, dry-run
a draft over recent applications; and the decisions on an application, explained in Chinese and English."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from db import rule_store
from db.models import DecisionRecord, LoanApplication, RuleSet
from db.repositories import catalogue
from domain import acceptance, admission, approval, drawdown, pricing, reasons, rules
from services.application_views import visible
from services.clock import utcnow
from services.errors import ProblemError, not_found
from services.principal import Principal
from services.schemas.rules import (
    DecisionBrief,
    DecisionExplanation,
    DecisionView,
    DryRunChange,
    DryRunIn,
    DryRunReport,
    ExplanationStep,
    RollbackResult,
    RuleSetIn,
    RuleSetSummary,
    RuleSetView,
)

READERS: dict[str, Callable[[dict[str, Any]], tuple[str, list[str]]]] = {
    "admission": admission.outcome, "acceptance": acceptance.outcome, "approval": approval.outcome, "drawdown": drawdown.outcome,
    "pricing": pricing.outcome}


def upload(session: Session, principal: Principal, body: RuleSetIn) -> RuleSetView:
    if catalogue.product(session, body.product_code) is None:
        raise ProblemError(422, "PRODUCT_UNKNOWN", "没有该贷款产品", "no such product", "product_code")
    try:
        _check_shape(body)
        row = rule_store.upload(session, product_code=body.product_code, scenario=body.scenario,
                                content=body.content, tests=body.tests, effective_from=body.effective_from,
                                note=body.note, by=principal.subject, now=utcnow())
    except rules.RuleProblem as problem:
        raise _refused(problem) from problem
    session.commit()
    return RuleSetView.of(row)


def _check_shape(body: RuleSetIn) -> None:
    """Each test case's result must be what the scenario's step reads (an approval decision with reason codes,
    a list of refusals); otherwise every real decision would fail at evaluation time."""
    read = READERS[body.scenario]
    for case in body.tests:
        try:
            result = rules.evaluate(body.content, case.input).result
        except (rules.RuleError, rules.RuleProblem):
            return  # the full check names the node or test
        try:
            read(result)
        except (KeyError, TypeError, ValueError) as err:
            zh, en = reasons.SCENARIOS[body.scenario]
            raise rules.RuleProblem(
                "RULE_SET_INVALID", f"test '{case.name}': the result is not what the {en} step reads "
                f"({type(err).__name__}: {str(err).splitlines()[0][:120]})",
                f"测试用例「{case.name}」的结果不是{zh}环节能读取的格式", test=case.name) from err


def listing(session: Session, *, product_code: str | None, scenario: str | None, limit: int,
            offset: int) -> list[RuleSetSummary]:
    return [RuleSetSummary.of(r) for r in rule_store.listing(session, product_code=product_code, scenario=scenario,
                                                             limit=limit, offset=offset)]


def get(session: Session, rule_set_id: int) -> RuleSetView:
    return RuleSetView.of(_rule_set(session, rule_set_id))


def activate(session: Session, principal: Principal, rule_set_id: int) -> RuleSetView:
    row = _rule_set(session, rule_set_id, lock=True)
    try:
        rule_store.activate(session, row, by=principal.subject, now=utcnow())
    except rule_store.RuleSetRefused as refused:
        raise ProblemError(409, refused.code, refused.zh, refused.en) from refused
    except rules.RuleProblem as problem:
        raise _refused(problem) from problem
    session.commit()
    return RuleSetView.of(row)


def rollback(session: Session, principal: Principal, rule_set_id: int) -> RollbackResult:
    row = _rule_set(session, rule_set_id, lock=True)
    try:
        set_aside = rule_store.rollback(session, row, by=principal.subject, now=utcnow())
    except rule_store.RuleSetRefused as refused:
        raise ProblemError(409, refused.code, refused.zh, refused.en) from refused
    session.commit()
    return RollbackResult(in_force=RuleSetSummary.of(row), set_aside=[RuleSetSummary.of(r) for r in set_aside])


def dry_run(session: Session, rule_set_id: int, body: DryRunIn) -> DryRunReport:
    """The draft over the facts recorded for the last N applications' decisions: what would change, and why."""
    draft = _rule_set(session, rule_set_id)
    read = READERS[draft.scenario]
    records = rule_store.recent_decisions(session, draft.product_code, draft.scenario, body.last)
    app_nos = {a.id: a.app_no for a in (session.get(LoanApplication, r.application_id) for r in records) if a}
    changes, errors = [], 0
    for record in records:
        try:
            result = rules.evaluate(draft.content, record.inputs, key=draft.checksum).result
            outcome, codes = read(result)
            after = DecisionBrief(rule_set_version=_label(draft), outcome=outcome, reason_codes=codes)
        except (rules.RuleError, KeyError, TypeError, ValueError) as err:
            errors += 1
            after = DecisionBrief(rule_set_version=_label(draft), outcome="error", reason_codes=[],
                                  error=getattr(err, "message", repr(err)), error_node=getattr(err, "node", None))
        if (after.outcome, after.reason_codes) != (record.outcome, record.reason_codes):
            assert record.application_id is not None and record.id is not None
            changes.append(DryRunChange(
                decision_id=record.id, application_id=record.application_id, app_no=app_nos.get(record.application_id),
                before=DecisionExplanation.brief(record), after=after,
                why=[reasons.explain(c, record.inputs) for c in after.reason_codes]))
    return DryRunReport(rule_set=RuleSetSummary.of(draft), evaluated=len(records), changed=len(changes),
                        errors=errors, changes=changes)


def decisions_of(session: Session, principal: Principal, app_no: str) -> list[DecisionView]:
    app = visible(session, principal, app_no)
    assert app.id is not None
    return [_view(r) for r in rule_store.decisions_of(session, app.id)]


def explain(session: Session, principal: Principal, decision_id: int) -> DecisionExplanation:
    row = rule_store.decision(session, decision_id)
    app = session.get(LoanApplication, row.application_id) if row and row.application_id else None
    missing = not_found("DECISION", "未找到该决策记录", "decision not found", "decision_id")
    if row is None or app is None:
        raise missing
    try:
        visible(session, principal, app.app_no)
    except ProblemError as out_of_scope:  # reads as absent, like any row out of the caller's scope
        raise missing from out_of_scope
    view = _view(row)
    scenario_zh, scenario_en = reasons.SCENARIOS.get(row.scenario, (row.scenario, row.scenario))
    outcome_zh, outcome_en = reasons.OUTCOMES.get(row.outcome, (row.outcome, row.outcome))
    summary_zh = f"{scenario_zh}规则集 {row.rule_set_version} 的结论:{outcome_zh}。"
    summary_en = f"The {scenario_en} rule set {row.rule_set_version} decided: {outcome_en}."
    if view.reasons:
        summary_zh += "原因:" + ";".join(r.zh for r in view.reasons) + "。"
        summary_en += " Because: " + "; ".join(r.en for r in view.reasons) + "."
    if row.error:
        summary_zh += f"出错节点:{row.error_node}。"
        summary_en += f" It failed in node {row.error_node}: {row.error}."
    return DecisionExplanation(**view.model_dump(), app_no=app.app_no, summary_zh=summary_zh, summary_en=summary_en,
                               inputs=row.inputs, steps=[_step(s) for s in row.trace], error=row.error,
                               error_node=row.error_node)


def _step(step: dict[str, Any]) -> ExplanationStep:
    """One node of the trace in words: the branch a switch took, the rows a table matched, what it computed."""
    detail = step.get("detail")
    name = step.get("name") or step.get("node") or ""
    if isinstance(detail, dict) and "statements" in detail:
        taken = ", ".join(str(s.get("id")) for s in detail["statements"])
        zh, en = f"{name}:走分支 {taken}", f"{name}: took branch {taken}"
    elif isinstance(detail, list):
        rows = ", ".join(str((hit.get("rule") or {}).get("_id")) for hit in detail if isinstance(hit, dict))
        zh, en = (f"{name}:命中规则 {rows}", f"{name}: matched rules {rows}") if rows else \
            (f"{name}:未命中任何规则", f"{name}: no rule matched")
    elif isinstance(detail, dict) and isinstance(detail.get("rule"), dict):
        rule = detail["rule"].get("_id")
        zh, en = f"{name}:命中规则 {rule}", f"{name}: matched rule {rule}"
    elif isinstance(detail, dict) and detail:
        parts = ", ".join(f"{k} = {v.get('result') if isinstance(v, dict) else v}" for k, v in detail.items())
        zh, en = f"{name}:计算 {parts}", f"{name}: computed {parts}"
    else:
        zh = en = name
    return ExplanationStep(order=step.get("order"), node=step.get("node"), name=step.get("name"), zh=zh, en=en,
                           detail=detail)


def _view(row: DecisionRecord) -> DecisionView:
    assert row.id is not None
    return DecisionView(id=row.id, scenario=row.scenario, rule_set_version=row.rule_set_version, outcome=row.outcome,
                        reasons=[reasons.explain(c, row.inputs) for c in row.reason_codes], decided_at=row.decided_at)


def _rule_set(session: Session, rule_set_id: int, *, lock: bool = False) -> RuleSet:
    row = session.get(RuleSet, rule_set_id, with_for_update=lock)
    if row is None:
        raise not_found("RULE_SET", "未找到该规则集", "rule set not found", "rule_set_id")
    return row


def _label(row: RuleSet) -> str:
    return rule_store.label(row.product_code, row.scenario, row.version)


def _refused(problem: rules.RuleProblem) -> ProblemError:
    field = "tests" if problem.code == "RULE_TEST_FAILED" else "content"
    return ProblemError(422, problem.code, problem.zh, problem.en, field,
                        extra={"node": problem.node, "test": problem.test})
