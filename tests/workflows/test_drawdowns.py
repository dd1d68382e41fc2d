"""Drawdowns on a live credit line: validator refusals, unknown outcomes, refusals and compensation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session, select
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.lines import CreditLineActivities
from adapters.core_banking.simulator import CoreBankingSimulator
from adapters.sms.simulator import SmsSimulator
from db.models import CreditLine, Customer, LoanNote
from tests import factories
from tests.workflows.support import running_worker, sign_note, until, until_stage
from workflows import names
from workflows.credit_line import CreditLineWorkflow
from workflows.loan_application import LoanApplicationWorkflow
from workflows.messages import CreditLineInput, DrawdownAccepted, DrawdownRequest, SettleNoteInput, SignInput


async def open_line(client, queue, engine, product, amount="50000") -> tuple[str, int]:
    borrower = factories.customer(engine)
    row = factories.application(engine, borrower, amount=amount)
    handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                         id=row.workflow_id, task_queue=queue)
    state = await until_stage(handle, "awaiting_signatures")
    await handle.execute_update(names.UPDATE_SIGN, SignInput(
        document_id=state["documents"][0]["document_id"], signer_customer_id=borrower.id, otp_ref="o"))
    return (await handle.result()).line_no, borrower.id


async def draw(line, amount: str, term: int = 12, method: str = "equal_installment") -> DrawdownAccepted:
    return await line.execute_update(names.UPDATE_REQUEST_DRAWDOWN, DrawdownRequest(
        amount=Decimal(amount), term_months=term, repayment_method=method, requested_by="customer"),
        result_type=DrawdownAccepted)


async def refusal(line, amount: str, term: int = 12, method: str = "equal_installment") -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await draw(line, amount, term, method)
    return err.value.cause.type


async def test_validator_guards_the_limit_and_unknown_outcomes_post_once(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client
    bank = CoreBankingSimulator(engine)
    async with running_worker(client, engine, settings) as (queue, _):
        line_no, _ = await open_line(client, queue, engine, product)
        line = client.get_workflow_handle(names.credit_line_workflow_id(line_no))
        await until(lambda: line.query(names.QUERY_STATE))
        assert await refusal(line, "50000.01") == "LimitExceeded"
        assert await refusal(line, "100.005") == "AmountInvalid"
        assert await refusal(line, "-5") == "AmountInvalid"
        # The contract allows drawdowns of up to the applied 12 months, repaid as it says (等额本息).
        assert await refusal(line, "5000", term=13) == "TermOutOfRange"
        assert await refusal(line, "5000", term=6, method="equal_principal") == "RepaymentMethod"

        # The core banking call commits, then times out: the retry must find the posting, not post again.
        bank.inject_fault(operation="disburse", kind="timeout_after_commit", times=1)
        first = await draw(line, "30000")
        await sign_note(client, first)
        assert (await client.get_workflow_handle(first.workflow_id).result())["status"] == "disbursed"
        assert bank.count_postings(kind="disbursement", reference=first.note_no) == 1

        state = await until(lambda: _available_is(line, Decimal("20000.00")))
        assert Decimal(state["outstanding_principal"]) == Decimal("30000.00")
        assert await refusal(line, "20000.01") == "LimitExceeded"

        await line.signal(names.SIGNAL_FREEZE, {"reason_code": "DPD_8", "actor": "ops"})
        await until(lambda: _status_is(line, "frozen"))
        assert await refusal(line, "1000") == "InvalidState"
        await line.signal(names.SIGNAL_UNFREEZE, {"reason_code": "PAID", "actor": "ops"})
        await until(lambda: _status_is(line, "active"))
    assert bank.trial_balance() == Decimal("0")
    with Session(engine) as s:
        saved = s.exec(select(CreditLine).where(CreditLine.line_no == line_no)).one()
        assert saved.outstanding_principal == Decimal("30000.00")


async def test_refused_posting_and_failed_booking_leave_no_money_moved(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client
    bank = CoreBankingSimulator(engine)

    @activity.defn(name="settle_note")
    def settle_note_rejecting_disbursed(request: SettleNoteInput) -> None:
        # Stands in for the note being closed while the money moved: booking fails for good.
        if request.status == "disbursed":
            raise ApplicationError("note closed meanwhile", type="NoteStateConflict", non_retryable=True)
        real.settle_note(request)

    real = CreditLineActivities(engine, bank)
    async with running_worker(client, engine, settings, replace={"settle_note": settle_note_rejecting_disbursed}) as (
            queue, _):
        line_no, customer_id = await open_line(client, queue, engine, product)
        line = client.get_workflow_handle(names.credit_line_workflow_id(line_no))
        bank.inject_fault(operation="disburse", kind="refuse:ACCOUNT_FROZEN", times=1)
        refused = await draw(line, "10000")
        await sign_note(client, refused)
        outcome = await client.get_workflow_handle(refused.workflow_id).result()
        assert (outcome["status"], outcome["failure_code"]) == ("failed", "DISBURSEMENT_REFUSED")

        compensated = await draw(line, "12000")
        await sign_note(client, compensated)
        outcome = await client.get_workflow_handle(compensated.workflow_id).result()
        assert (outcome["status"], outcome["failure_code"]) == ("failed", "BOOKING_FAILED_REVERSED")
        await until(lambda: _available_is(line, Decimal("50000.00")))
    assert bank.count_postings(reference=refused.note_no) == 0
    assert bank.count_postings(kind="disbursement", reference=compensated.note_no) == 1
    assert bank.count_postings(kind="reversal") >= 1
    with Session(engine) as s:
        statuses = dict(s.exec(select(LoanNote.note_no, LoanNote.status).where(
            LoanNote.note_no.in_([refused.note_no, compensated.note_no]))).all())
        account = s.get(Customer, customer_id).settlement_account
    assert statuses == {refused.note_no: "failed", compensated.note_no: "reversed"}
    assert bank.balance(account) == Decimal("0")
    assert bank.trial_balance() == Decimal("0")


async def _available_is(line, amount: Decimal):
    state = await line.query(names.QUERY_STATE)
    return state if Decimal(state["available"]) == amount else None


async def _status_is(line, status: str):
    state = await line.query(names.QUERY_STATE)
    return state if state["status"] == status else None


async def test_a_drawdown_that_breaks_still_releases_its_reservation(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client

    @activity.defn(name="create_note")
    def create_note_broken(request) -> None:
        raise ApplicationError("schema drift", type="Unexpected", non_retryable=True)

    async with running_worker(client, engine, settings, replace={"create_note": create_note_broken}) as (queue, _):
        line_no, _ = await open_line(client, queue, engine, product)
        line = client.get_workflow_handle(names.credit_line_workflow_id(line_no))
        broken = await draw(line, "10000")
        with pytest.raises(Exception):  # noqa: B017 - the drawdown workflow itself fails
            await client.get_workflow_handle(broken.workflow_id).result()
        # Without the report the 10,000 would stay reserved on the line for good.
        await until(lambda: _available_is(line, Decimal("50000.00")))


async def test_sms_the_gateway_refuses_never_stops_a_loan(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client
    sms = SmsSimulator(engine)
    sms.inject_fault(operation="send", kind="refuse:INVALID_MOBILE", times=1000)
    try:
        async with running_worker(client, engine, settings) as (queue, _):
            line_no, _ = await open_line(client, queue, engine, product)
    finally:
        sms.clear_faults()
    assert line_no


async def test_a_retried_drawdown_after_continue_as_new_makes_no_second_loan(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        line_no, customer_id = await open_line(client, queue, engine, product)
        with Session(engine) as s:
            saved = s.exec(select(CreditLine).where(CreditLine.line_no == line_no)).one()
        # A run that continued as new: it carries the request ids of drawdowns made before.
        carried = CreditLineInput(line_id=saved.id, line_no=line_no, customer_id=customer_id,
                                  branch_code=saved.branch_code, product=product, amount=saved.amount,
                                  revolving=True, expiry_date=saved.expiry_date, max_term_months=36,
                                  drawdown_seq=1, recent_requests={"req-before": f"{line_no}-001"})
        line = await client.start_workflow(CreditLineWorkflow.run, carried, id=f"{line_no}-continued", task_queue=queue)
        request = DrawdownRequest(amount=Decimal("60000"), term_months=12, repayment_method="equal_installment",
                                  requested_by="customer")  # over the limit: only a replay may pass
        again = await line.execute_update(names.UPDATE_REQUEST_DRAWDOWN, request, id="req-before",
                                          result_type=DrawdownAccepted)
        assert again.note_no == f"{line_no}-001"
        state = await line.query(names.QUERY_STATE)
        assert Decimal(state["pending"]) == 0 and state["drawdowns"] == []
        await line.terminate("test over")


async def test_entrusted_payment_pays_the_payee_not_the_borrower(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client
    bank = CoreBankingSimulator(engine)
    async with running_worker(client, engine, settings) as (queue, _):
        line_no, customer_id = await open_line(client, queue, engine, product)
        line = client.get_workflow_handle(names.credit_line_workflow_id(line_no))
        await until(lambda: line.query(names.QUERY_STATE))
        for mode, payee in (("entrusted", None), ("self", "FJ-SEED-001")):
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await line.execute_update(names.UPDATE_REQUEST_DRAWDOWN, DrawdownRequest(
                    amount=Decimal("8000"), term_months=12, repayment_method="equal_installment",
                    requested_by="customer", payment_mode=mode, payee_ref=payee))
            assert err.value.cause.type == "PayeeRequired"
        accepted = await line.execute_update(names.UPDATE_REQUEST_DRAWDOWN, DrawdownRequest(
            amount=Decimal("8000"), term_months=12, repayment_method="equal_installment", requested_by="customer",
            payment_mode="entrusted", payee_ref="FJ-SEED-001"), result_type=DrawdownAccepted)
        await sign_note(client, accepted)
        assert (await client.get_workflow_handle(accepted.workflow_id).result())["status"] == "disbursed"
    payee = bank.open_counterparty_account(counterparty_ref="FJ-SEED-001")
    with Session(engine) as s:
        note = s.exec(select(LoanNote).where(LoanNote.note_no == accepted.note_no)).one()
        borrower = s.get(Customer, customer_id)
    assert (note.payment_mode, note.payee_account) == ("entrusted", payee)
    assert bank.balance(payee) >= Decimal("8000") and bank.balance(borrower.settlement_account) == 0
    assert bank.loan_balance(accepted.note_no) == Decimal("8000.00")
    sent = SmsSimulator(engine).outbox(mobile=borrower.mobile, limit=20)
    assert any(m.template == "drawdown_paid_to_payee" and payee[-4:] in m.body for m in sent)
