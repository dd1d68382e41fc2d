"""Running a rule set from an activity: find the version in force, evaluate, record the decision.

The record keeps the version, the input facts, the result, the reason codes and the engine's trace. A
rule set that raises while evaluating is recorded as an `error` decision and fails the activity with a
non-retryable `RuleEvaluationFailed` (retrying the same facts on the same rules cannot help); the worker
carries on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from temporalio.exceptions import ApplicationError

from activities.clock import utcnow
from db import rule_store
from db.engine import session_scope
from domain import rules


class RuleDecision(BaseModel):
    decision_id: int
    rule_set_version: str
    outcome: str
    reason_codes: list[str]
    result: dict[str, Any]


def decide(engine: Engine, *, application_id: int | None, product_code: str, scenario: str,
           inputs: dict[str, Any], as_of: date,
           read: Callable[[dict[str, Any]], tuple[str, list[str]]]) -> RuleDecision:
    """Evaluate the rule set in force on `as_of`; `read` turns its result into (outcome, reason codes)."""
    with session_scope(engine) as session:
        in_force = rule_store.in_force(session, product_code, scenario, as_of)
        try:
            evaluation = rules.evaluate(in_force.content, inputs, key=in_force.checksum)
            outcome, reasons = read(evaluation.result)
        except (rules.RuleError, KeyError, TypeError, ValueError) as err:
            failure = err
        else:
            row = rule_store.record(session, application_id=application_id, product_code=product_code,
                                    scenario=scenario, rule_set=in_force, outcome=outcome, reason_codes=reasons,
                                    inputs=inputs, result=evaluation.result, trace=evaluation.trace, now=utcnow())
            return RuleDecision(decision_id=row.id or 0, rule_set_version=in_force.version, outcome=outcome,
                                reason_codes=reasons, result=evaluation.result)
    node = failure.node if isinstance(failure, rules.RuleError) else None
    message = failure.message if isinstance(failure, rules.RuleError) else f"unreadable result: {failure!r}"
    with session_scope(engine) as session:
        row = rule_store.record(session, application_id=application_id, product_code=product_code, scenario=scenario,
                                rule_set=in_force, outcome="error", reason_codes=["RULE_EVALUATION_FAILED"],
                                inputs=inputs, result={}, trace=[], now=utcnow(), error=message, error_node=node)
        decision_id = row.id
    raise ApplicationError(f"{in_force.version} failed in node {node}: {message}",
                           {"code": "RULE_EVALUATION_FAILED", "decision_id": decision_id,
                            "rule_set_version": in_force.version, "node": node},
                           type="RuleEvaluationFailed", non_retryable=True)
