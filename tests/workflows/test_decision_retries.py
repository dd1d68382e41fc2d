"""A decision is recorded once per workflow step, however often its activity runs: a retry after the
decision was committed (the activity failed later, or its answer was lost) reads the recorded decision back
(real PostgreSQL; the last test on the dev server with the real worker)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.applications import ApplicationActivities
from activities.decisions import decide
from db import rule_store
from db.models import DecisionRecord
from domain import approval
from tests import factories
from tests.workflows.support import running_worker, until_stage
from worker import simulators
from workflows.loan_application import LoanApplicationWorkflow
from workflows.messages import ApplicationRef, ReviewResult

FACTS = {"amount": 50000, "guarantee_type": "credit",
         "rating": {"grade": "AA", "credit_limit": 80000, "prefilter_hits": []},
         "product": {"auto_approve_grades": ["AAA", "AA", "A"], "auto_approve_max": 100000}}


def _records(engine, **where) -> list[DecisionRecord]:
    with Session(engine) as s:
        query = select(DecisionRecord)
        for column, value in where.items():
            query = query.where(getattr(DecisionRecord, column) == value)
        return list(s.exec(query).all())


def _decide(engine, key: str | None, facts=FACTS, product_code="NONG_E_DAI"):
    return decide(engine, application_id=None, product_code=product_code, scenario="approval", inputs=facts,
                  as_of=datetime.now(UTC).date(), read=approval.outcome, key=key)


def test_the_same_key_decides_once_and_answers_the_recorded_decision(engine):
    factories.ensure_reference_data(engine)
    key = f"loan-app-T{datetime.now(UTC):%H%M%S%f}:review-1:approval"
    first = _decide(engine, key)
    again = _decide(engine, key)
    assert again == first and first.outcome == "approve"
    (row,) = _records(engine, decision_key=key)
    assert row.id == first.decision_id
    # Without a key (a caller outside any workflow) every call is a decision of its own.
    assert _decide(engine, None).decision_id != _decide(engine, None).decision_id


def test_a_failed_evaluation_is_recorded_once_and_fails_the_retry_the_same_way(engine):
    factories.ensure_reference_data(engine)
    key = f"loan-app-E{datetime.now(UTC):%H%M%S%f}:review-1:approval"
    broken = {k: v for k, v in FACTS.items() if k != "rating"}  # the input schema requires the rating
    with pytest.raises(ApplicationError) as first:
        _decide(engine, key, broken)
    with pytest.raises(ApplicationError) as again:
        _decide(engine, key, broken)
    assert first.value.type == again.value.type == "RuleEvaluationFailed" and again.value.non_retryable
    assert first.value.details[0]["decision_id"] == again.value.details[0]["decision_id"]
    (row,) = _records(engine, decision_key=key)
    assert row.outcome == "error" and row.id == first.value.details[0]["decision_id"]


def test_a_key_lost_in_a_race_gives_back_the_winner(engine):
    """Two attempts evaluated at once: the UNIQUE key keeps the first record, the second reads it."""
    factories.ensure_reference_data(engine)
    key = f"loan-app-R{datetime.now(UTC):%H%M%S%f}:review-1:approval"
    with Session(engine) as s:
        in_force = rule_store.in_force(s, "NONG_E_DAI", "approval", datetime.now(UTC).date())
    now = datetime.now(UTC)
    with Session(engine) as winner, Session(engine) as loser:
        won = rule_store.record(winner, application_id=None, product_code="NONG_E_DAI", scenario="approval",
                                rule_set=in_force, outcome="approve", reason_codes=["AUTO_WITHIN_RULES"],
                                inputs=FACTS, result={}, trace=[], now=now, key=key)
        winner.commit()
        lost = rule_store.record(loser, application_id=None, product_code="NONG_E_DAI", scenario="approval",
                                 rule_set=in_force, outcome="approve", reason_codes=["AUTO_WITHIN_RULES"],
                                 inputs=FACTS, result={}, trace=[], now=now, key=key)
        assert lost.id == won.id
    assert len(_records(engine, decision_key=key)) == 1


async def test_a_review_retried_after_its_decisions_were_committed_records_them_once(dev_env, engine, settings):
    """The review activity fails on its first attempt after everything it decided was committed; Temporal
    retries it, and the application carries one approval and one pricing decision."""
    product = factories.ensure_reference_data(engine)
    row = factories.application(engine, factories.customer(engine), amount="50000")
    client = dev_env.client
    adapters = simulators(engine, settings)
    real = ApplicationActivities(engine, adapters.rating, adapters.sms, settings.jwt_secret)
    attempts: list[int] = []

    @activity.defn(name="review")
    def review_then_fail_once(ref: ApplicationRef) -> ReviewResult:
        result = real.review(ref)
        attempts.append(activity.info().attempt)
        if activity.info().attempt == 1:
            raise RuntimeError("lost after commit")
        return result

    async with running_worker(client, engine, settings, adapters=adapters,
                              replace={"review": review_then_fail_once}) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        await until_stage(handle, "awaiting_signatures", timeout=60)
    assert attempts == [1, 2]
    by_scenario = [(d.scenario, d.outcome) for d in _records(engine, application_id=row.id)]
    assert sorted(by_scenario) == [("acceptance", "accept"), ("admission", "admit"), ("approval", "approve"),
                                   ("pricing", "priced")]
    keys = sorted(d.decision_key for d in _records(engine, application_id=row.id))
    assert keys == [f"{row.workflow_id}:accept:acceptance", f"{row.workflow_id}:accept:admission",
                    f"{row.workflow_id}:review-1:approval", f"{row.workflow_id}:review-1:pricing"]
