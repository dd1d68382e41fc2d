"""Decisions by rule sets in a running loan (dev server, real worker): each evaluation is recorded with its
version, facts and trace, and the workflow history carries the version; a rule set that raises fails only
that application's step, recorded, while the worker goes on deciding other loans."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError

from db import rule_store
from db.engine import session_scope
from db.models import ApplicationEvent, Customer, DecisionRecord, LoanApplication, Product
from services import prices
from services.principal import Principal
from tests import factories
from tests.workflows.support import running_worker, sign_note, until_stage
from workflows import names
from workflows.loan_application import LoanApplicationWorkflow
from workflows.messages import DrawdownAccepted, DrawdownRequest, SignInput


def in_force_version(engine, scenario: str) -> str:
    """What decides for 农e贷 in this database: the shipped default, unless a version is installed."""
    with Session(engine) as s:
        return rule_store.in_force(s, "NONG_E_DAI", scenario, datetime.now(UTC).date()).version


def decisions(engine, application_id: int) -> list[DecisionRecord]:
    with Session(engine) as s:
        return rule_store.decisions_of(s, application_id)


async def test_acceptance_and_approval_are_recorded_with_version_facts_and_trace(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    row = factories.application(engine, factories.customer(engine), amount="50000")
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        await until_stage(handle, "awaiting_signatures")
        history = await handle.fetch_history()
    admit, accept, approve, _ = decisions(engine, row.id)  # and pricing, below
    assert (admit.scenario, admit.outcome, admit.reason_codes) == ("admission", "admit", [])
    assert (accept.scenario, accept.outcome, accept.reason_codes) == ("acceptance", "accept", [])
    assert (approve.scenario, approve.outcome, approve.reason_codes) == ("approval", "approve", ["AUTO_WITHIN_RULES"])
    for record in (admit, accept, approve):
        assert record.rule_set_version == in_force_version(engine, record.scenario)
        assert record.trace[0]["node"] == "facts" and record.trace[-1]["node"] == "decision"
    assert approve.inputs["amount"] == 50000 and approve.inputs["rating"]["grade"] in ("AAA", "AA", "A")
    assert "resident_id" not in str(accept.inputs) and "name" not in accept.inputs
    assert admit.inputs["customer_type"] == "farmer" and admit.inputs["id_problem"] is None
    assert "resident_id" not in str(admit.inputs) and "name" not in admit.inputs
    results = [e.activity_task_completed_event_attributes.result.payloads[0].data.decode()
               for e in history.events if e.HasField("activity_task_completed_event_attributes")]
    assert any(approve.rule_set_version in r and f'"decision_id":{approve.id}' in r for r in results)
    with Session(engine) as s:
        approved = s.exec(select(ApplicationEvent).where(ApplicationEvent.application_id == row.id,
                                                         ApplicationEvent.stage == "approved")).one()
    assert approved.actor == "rules"
    assert approved.detail["rule_set_version"] == approve.rule_set_version
    assert approved.detail["decision_id"] == approve.id
    with Session(engine) as s:  # the price breakdown the customer reads is the one the review computed
        shown = prices.price_of(s, Principal(kind="staff", id=1, role="ops"), row.app_no)
        assert shown.annual_rate == s.get(LoanApplication, row.id).annual_rate
    priced = [d for d in decisions(engine, row.id) if d.scenario == "pricing"]
    assert [(d.outcome, d.rule_set_version.split("@")[0]) for d in priced] == [("priced", "NONG_E_DAI/pricing")]
    assert [t.code for t in shown.terms if t.bp is not None][1:] == priced[0].reason_codes


def _product_with_raising_approval(engine, code: str) -> None:
    """A product whose active approval rule set raises on an amount of exactly 90,000 (no test case has it)."""
    content, tests = rule_store.shipped("NONG_E_DAI", "approval")
    verdict = next(n for n in content["nodes"] if n["id"] == "verdict")
    next(n for n in content["nodes"] if n["id"] == "review_reasons")["content"]["passThrough"] = True
    verdict["content"]["expressions"][0]["value"] = (
        "amount == 90000 ? upper(amount) : (len(hits) > 0 ? 'manual_review' : 'approve')")
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        terms = factories.nongedai_default().model_dump(mode="json") | {"code": code}
        s.add(Product(code=code, version=1, name="raising", terms=terms))
        s.flush()
        for scenario, body, ts in [("approval", content, tests), ("acceptance", *rule_store.shipped("NONG_E_DAI",
                                                                                                   "acceptance"))]:
            draft = rule_store.upload(s, product_code=code, scenario=scenario, content=body, tests=ts,
                                      effective_from=date(2000, 1, 1), note="", by="staff:maker", now=now)
            rule_store.activate(s, draft, by="staff:checker", now=now)


async def test_a_rule_that_raises_fails_that_decision_cleanly_and_the_worker_goes_on(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    code = f"RAISE{datetime.now(UTC):%H%M%S%f}"[:32]
    _product_with_raising_approval(engine, code)
    raising_terms = product.model_copy(update={"code": code})
    bad = factories.application(engine, factories.customer(engine), amount="90000")
    with session_scope(engine) as s:
        s.get(LoanApplication, bad.id).product_code = code
    good = factories.application(engine, factories.customer(engine), amount="50000")
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(bad, raising_terms),
                                             id=bad.workflow_id, task_queue=queue)
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        cause = failed.value.cause
        assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
        assert cause.cause.type == "RuleEvaluationFailed" and cause.cause.non_retryable
        history = await handle.fetch_history()
        attempts = [e.activity_task_started_event_attributes.attempt for e in history.events
                    if e.HasField("activity_task_started_event_attributes")]
        assert max(attempts) == 1  # not retried
        # Same worker, next loan: decided as usual.
        other = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(good, product),
                                            id=good.workflow_id, task_queue=queue)
        await until_stage(other, "awaiting_signatures")
    admit, accept, error = decisions(engine, bad.id)
    assert admit.scenario == "admission" and admit.outcome == "admit"
    assert accept.rule_set_version == f"{code}/acceptance@v1" and accept.outcome == "accept"
    assert (error.outcome, error.reason_codes, error.error_node) == ("error", ["RULE_EVALUATION_FAILED"], "verdict")
    assert error.rule_set_version == f"{code}/approval@v1" and error.inputs["amount"] == 90000
    with Session(engine) as s:
        app = s.get(LoanApplication, bad.id)
        assert (app.stage, app.status) == ("failed", "failed")
        assert s.exec(select(DecisionRecord).where(DecisionRecord.application_id == good.id)).all()


async def test_drawdowns_are_decided_by_the_drawdown_rule_set(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower = factories.customer(engine)
    row = factories.application(engine, borrower, amount="50000")
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        state = await until_stage(handle, "awaiting_signatures")
        await handle.execute_update(names.UPDATE_SIGN, SignInput(
            document_id=state["documents"][0]["document_id"], signer_customer_id=borrower.id, otp_ref="o"))
        line = client.get_workflow_handle(names.credit_line_workflow_id((await handle.result()).line_no))
        request = DrawdownRequest(amount=Decimal("10000"), term_months=6, repayment_method="equal_installment",
                                  requested_by="customer")
        first = await line.execute_update(names.UPDATE_REQUEST_DRAWDOWN, request, result_type=DrawdownAccepted)
        await sign_note(client, first)
        assert (await client.get_workflow_handle(first.workflow_id).result())["status"] == "disbursed"
        with session_scope(engine) as s:  # blacklisted after the line was granted
            s.get(Customer, borrower.id).blacklisted = True
        second = await line.execute_update(names.UPDATE_REQUEST_DRAWDOWN, request, result_type=DrawdownAccepted)
        refused = await client.get_workflow_handle(second.workflow_id).result()
    assert (refused["status"], refused["failure_code"]) == ("failed", "DRAWDOWN_REFUSED")
    drawdowns = [d for d in decisions(engine, row.id) if d.scenario == "drawdown"]
    assert [(d.outcome, d.reason_codes) for d in drawdowns] == [("allow", []), ("refuse", ["CUSTOMER_RISK"])]
    assert drawdowns[1].rule_set_version == in_force_version(engine, "drawdown")
    assert drawdowns[1].inputs["customer"] == {"blacklisted": True, "currently_overdue": False,
                                               "grade": drawdowns[0].inputs["customer"]["grade"]}


async def test_a_drawdown_rule_that_raises_ends_that_drawdown_refused(dev_env, engine, settings):
    base = factories.ensure_reference_data(engine)
    code = f"DRAW{datetime.now(UTC):%H%M%S%f}"[:32]
    content, tests = rule_store.shipped("NONG_E_DAI", "drawdown")
    verdict = next(n for n in content["nodes"] if n["id"] == "verdict")
    next(n for n in content["nodes"] if n["id"] == "risk")["content"]["passThrough"] = True
    verdict["content"]["expressions"][0]["value"] = "amount == 12345 ? upper(amount) : map(hits, #.code)"
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        s.add(Product(code=code, version=1, name="raising", terms=base.model_dump(mode="json") | {"code": code}))
        s.flush()
        for scenario in ("acceptance", "approval", "drawdown"):
            body, cases = (content, tests) if scenario == "drawdown" else rule_store.shipped("NONG_E_DAI", scenario)
            draft = rule_store.upload(s, product_code=code, scenario=scenario, content=body, tests=cases,
                                      effective_from=date(2000, 1, 1), note="", by="staff:maker", now=now)
            rule_store.activate(s, draft, by="staff:checker", now=now)
    product = base.model_copy(update={"code": code})
    borrower = factories.customer(engine)
    row = factories.application(engine, borrower, amount="50000")
    with session_scope(engine) as s:
        s.get(LoanApplication, row.id).product_code = code
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        state = await until_stage(handle, "awaiting_signatures")
        await handle.execute_update(names.UPDATE_SIGN, SignInput(
            document_id=state["documents"][0]["document_id"], signer_customer_id=borrower.id, otp_ref="o"))
        line = client.get_workflow_handle(names.credit_line_workflow_id((await handle.result()).line_no))
        accepted = await line.execute_update(names.UPDATE_REQUEST_DRAWDOWN, DrawdownRequest(
            amount=Decimal("12345"), term_months=6, repayment_method="equal_installment", requested_by="customer"),
            result_type=DrawdownAccepted)
        refused = await client.get_workflow_handle(accepted.workflow_id).result()
    assert (refused["status"], refused["failure_code"]) == ("failed", "DRAWDOWN_REFUSED")
    (error,) = [d for d in decisions(engine, row.id) if d.scenario == "drawdown"]
    assert (error.outcome, error.error_node, error.rule_set_version) == ("error", "verdict", f"{code}/drawdown@v1")


async def test_admission_refuses_a_customer_the_product_does_not_serve_before_acceptance(dev_env, engine, settings):
    """A product for farmers only: a salaried customer on the court's list is refused at admission with both
    reasons; acceptance never looks at the application, and the history names the admission rule set."""
    base = factories.ensure_reference_data(engine)
    product = base.model_copy(update={"customer_types": ["farmer"]})
    borrower = factories.customer(engine)
    with session_scope(engine) as s:
        row = s.get(Customer, borrower.id)
        row.customer_type, row.court_dishonest = "salaried", True
    app = factories.application(engine, borrower, amount="50000")
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(app, product),
                                             id=app.workflow_id, task_queue=queue)
        result = await handle.result()
    assert (result.status, result.reason_codes) == ("rejected", ["CUSTOMER_TYPE_NOT_SERVED", "ADMISSION_COURT_LIST"])
    (admit,) = decisions(engine, app.id)
    assert (admit.scenario, admit.outcome) == ("admission", "reject")
    assert admit.rule_set_version == in_force_version(engine, "admission")
    assert admit.inputs["product"]["customer_types"] == ["farmer"] and admit.inputs["court_dishonest"] is True
    with Session(engine) as s:
        rejected = s.exec(select(ApplicationEvent).where(ApplicationEvent.application_id == app.id,
                                                         ApplicationEvent.stage == "rejected")).one()
    assert rejected.detail["rule_set_version"] == admit.rule_set_version
    assert [r["code"] for r in rejected.detail["refusals"]] == ["CUSTOMER_TYPE_NOT_SERVED", "ADMISSION_COURT_LIST"]
    assert rejected.detail["refusals"][0]["field"] == "customer_type"
