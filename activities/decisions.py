"""Running a rule set from an activity: find the version in force, evaluate, record the decision.

The record keeps the version, the input facts, the result, the reason codes and the engine's trace. A
rule set that raises while evaluating is recorded as an `error` decision and fails the activity with a
non-retryable `RuleEvaluationFailed` (retrying the same facts on the same rules cannot help); the worker
carries on.

A decision made on a workflow's behalf carries a `key` the workflow derived (`<workflow id>:<step>:<scenario>`):
an activity retried after its decision was committed (a timeout, a later step of the same activity failing)
gets the recorded decision back instead of deciding, and recording, a second time.
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
from db.models import DecisionRecord
from domain import rules


class RuleDecision(BaseModel):
    decision_id: int
    rule_set_version: str
    outcome: str
    reason_codes: list[str]
    result: dict[str, Any]


def decide(engine: Engine, *, application_id: int | None, product_code: str, scenario: str,
           inputs: dict[str, Any], as_of: date,
           read: Callable[[dict[str, Any]], tuple[str, list[str]]], key: str | None = None) -> RuleDecision:
    """Evaluate the rule set in force on `as_of`; `read` turns its result into (outcome, reason codes)."""
    with session_scope(engine) as session:
        # One transaction: the look-up by key costs a single indexed SELECT on the usual path.
        found = rule_store.by_key(session, key) if key is not None else None
        if found is None:
            in_force = rule_store.in_force(session, product_code, scenario, as_of)
            try:
                evaluation = rules.evaluate(in_force.content, inputs, key=in_force.checksum)
                outcome, reasons = read(evaluation.result)
            except (rules.RuleError, KeyError, TypeError, ValueError) as err:
                failure = err
            else:
                found = rule_store.record(session, application_id=application_id, product_code=product_code,
                                          scenario=scenario, rule_set=in_force, outcome=outcome,
                                          reason_codes=reasons, inputs=inputs, result=evaluation.result,
                                          trace=evaluation.trace, now=utcnow(), key=key)
    if found is not None:
        return _recorded(found)  # outside the transaction: a recorded error raises once it is committed
    node = failure.node if isinstance(failure, rules.RuleError) else None
    message = failure.message if isinstance(failure, rules.RuleError) else f"unreadable result: {failure!r}"
    with session_scope(engine) as session:
        row = rule_store.record(session, application_id=application_id, product_code=product_code, scenario=scenario,
                                rule_set=in_force, outcome="error", reason_codes=["RULE_EVALUATION_FAILED"],
                                inputs=inputs, result={}, trace=[], now=utcnow(), error=message, error_node=node,
                                key=key)
    return _recorded(row)  # raises, once the error record is committed


def _recorded(row: DecisionRecord) -> RuleDecision:
    """The decision as recorded; an `error` record fails the activity again, as it did the first time."""
    if row.outcome == "error":
        raise ApplicationError(f"{row.rule_set_version} failed in node {row.error_node}: {row.error}",
                               {"code": "RULE_EVALUATION_FAILED", "decision_id": row.id,
                                "rule_set_version": row.rule_set_version, "node": row.error_node},
                               type="RuleEvaluationFailed", non_retryable=True)
    return RuleDecision(decision_id=row.id or 0, rule_set_version=row.rule_set_version, outcome=row.outcome,
                        reason_codes=list(row.reason_codes), result=dict(row.result))
