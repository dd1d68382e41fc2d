"""A credit loan on the time-skipping server: auto-approval, contract, signature, line, drawdown, ledger."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session, select
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from adapters.core_banking.simulator import CoreBankingSimulator
from db.models import ApplicationEvent, CreditLine, Document, LoanApplication, LoanNote, ScheduleInstallment
from tests import factories
from tests.workflows import histories
from tests.workflows.support import running_worker, sign_note, until, until_stage
from workflows import names
from workflows.loan_application import LoanApplicationWorkflow
from workflows.messages import DrawdownAccepted, DrawdownRequest, SignInput


async def test_credit_loan_from_application_to_money(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower = factories.customer(engine)
    row = factories.application(engine, borrower, amount="50000")
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        state = await until_stage(handle, "awaiting_signatures")
        assert state["status"] == "approved" and state["grade"] in ("AAA", "AA", "A")
        contract = state["documents"][0]
        await handle.execute_update(names.UPDATE_SIGN, SignInput(
            document_id=contract["document_id"], signer_customer_id=borrower.id, otp_ref="otp-test"))
        result = await handle.result()
        assert result.status == "active" and result.line_no

        line_handle = client.get_workflow_handle(names.credit_line_workflow_id(result.line_no))
        line_state = await until(lambda: line_handle.query(names.QUERY_STATE))
        assert Decimal(line_state["available"]) == Decimal("50000.00")
        accepted: DrawdownAccepted = await line_handle.execute_update(
            names.UPDATE_REQUEST_DRAWDOWN,
            DrawdownRequest(amount=Decimal("20000"), term_months=12, repayment_method="equal_installment",
                            requested_by="customer"),
            result_type=DrawdownAccepted)
        drawdown = client.get_workflow_handle(accepted.workflow_id)
        await sign_note(client, accepted)
        outcome = await drawdown.result()
        assert outcome["status"] == "disbursed" and outcome["posting_ref"]
        await histories.record(client, "credit_loan_application", row.workflow_id)
        await histories.record(client, "drawdown", accepted.workflow_id)
        await until(lambda: _line_saved(engine, result.line_no))
        await histories.record(client, "credit_line", line_handle.id)

    with Session(engine) as s:
        app = s.get(LoanApplication, row.id)
        assert (app.stage, app.status, app.approved_amount) == ("completed", "active", Decimal("50000.00"))
        stages = [e.stage for e in s.exec(select(ApplicationEvent).where(
            ApplicationEvent.application_id == row.id).order_by(ApplicationEvent.seq))]
        assert stages == ["submitted", "accepting", "reviewing", "approved", "contracting", "awaiting_signatures",
                          "activating", "completed"]
        docs = {d.kind: d for d in s.exec(select(Document).where(Document.application_id == row.id))}
        # The contract, then the drawdown's note (its schedule inside it).
        assert set(docs) == {"loan_contract", "drawdown_note"}
        assert docs["loan_contract"].status == "signed" and docs["loan_contract"].signature_id
        assert docs["drawdown_note"].doc_no == accepted.note_no
        note = s.exec(select(LoanNote).where(LoanNote.note_no == accepted.note_no)).one()
        assert note.status == "disbursed" and note.amount == Decimal("20000.00")
        installments = s.exec(select(ScheduleInstallment).where(ScheduleInstallment.note_id == note.id)).all()
        assert sum(i.principal for i in installments) == Decimal("20000.00")
    bank = CoreBankingSimulator(engine)
    assert bank.count_postings(kind="disbursement", reference=accepted.note_no) == 1
    assert bank.trial_balance() == Decimal("0")


def _line_saved(engine, line_no: str) -> bool:
    with Session(engine) as s:
        line = s.exec(select(CreditLine).where(CreditLine.line_no == line_no)).one()
        return line.outstanding_principal == Decimal("20000.00")


async def test_a_step_that_fails_for_good_closes_the_application(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower = factories.customer(engine)
    row = factories.application(engine, borrower)

    @activity.defn(name="review")
    def review_broken(ref) -> None:
        raise ApplicationError("rating model missing", type="Unexpected", non_retryable=True)

    client = dev_env.client
    async with running_worker(client, engine, settings, replace={"review": review_broken}) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        with pytest.raises(WorkflowFailureError):
            await handle.result()
    with Session(engine) as s:
        app = s.get(LoanApplication, row.id)
        # Not left "open": the customer's next application is not refused as a duplicate.
        assert (app.stage, app.status, app.reason_codes) == ("failed", "failed", ["STEP_FAILED"])
