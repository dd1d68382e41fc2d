"""Repayments on a real drawdown: posted to the core-banking ledger, booked on the note, the revolving line
freed; refused without money; compensated when booking fails; reversed by staff."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.core_banking.simulator import CoreBankingSimulator
from adapters.sms.simulator import SmsSimulator
from db.engine import session_scope
from db.models import CreditLine, Customer, LoanNote, Repayment
from db.servicing_store import installment_rows, to_state
from domain.servicing import dues
from tests import factories
from tests.workflows.support import running_worker, sign_note, until
from tests.workflows.test_drawdowns import draw, open_line
from workflows import names
from workflows.messages import RepaymentBooked, RepaymentInput, RepaymentResult, ReversalInput

D = Decimal
_keys = itertools.count(1)


async def disbursed(client, queue, engine, product, amount: str = "12000") -> tuple[LoanNote, str]:
    line_no, _ = await open_line(client, queue, engine, product)
    line = client.get_workflow_handle(names.credit_line_workflow_id(line_no))
    await until(lambda: line.query(names.QUERY_STATE))
    accepted = await draw(line, amount, term=12)
    await sign_note(client, accepted)
    await client.get_workflow_handle(accepted.workflow_id).result()
    with Session(engine) as s:
        return s.exec(select(LoanNote).where(LoanNote.note_no == accepted.note_no)).one(), line.id


def fund(engine, note: LoanNote, amount: str) -> str:
    with Session(engine) as s:
        account = s.get(Customer, note.customer_id).settlement_account
    CoreBankingSimulator(engine).deposit(idempotency_key=f"cash-{note.note_no}-{next(_keys)}", to_account=account,
                                         amount=D(amount))
    return account


def request(engine, note: LoanNote, amount: str) -> RepaymentInput:
    n = next(_keys)
    with session_scope(engine) as s:
        rep = Repayment(repayment_no=f"RP{note.note_no}-{n}", note_id=note.id, customer_id=note.customer_id,
                        request_key=f"key-{n}", amount=D(amount), requested_by="customer",
                        created_at=datetime.now(UTC))
        s.add(rep)
        s.flush()
        line = s.get(CreditLine, note.line_id)
        return RepaymentInput(repayment_id=rep.id, repayment_no=rep.repayment_no, note_no=note.note_no,
                              customer_id=note.customer_id, line_workflow_id=line.workflow_id)


async def repay(client, queue, inp: RepaymentInput) -> RepaymentResult:
    return await client.execute_workflow(names.REPAYMENT, inp, id=names.repayment_workflow_id(inp.repayment_no),
                                         task_queue=queue, result_type=RepaymentResult)


def note_state(engine, note_no: str):
    with Session(engine) as s:
        note = s.exec(select(LoanNote).where(LoanNote.note_no == note_no)).one()
        return to_state(note, installment_rows(s, note.id))


def sms_templates(engine, customer_id: int) -> list[str]:
    with Session(engine) as s:
        mobile = s.get(Customer, customer_id).mobile
    return [m.template for m in SmsSimulator(engine).outbox(mobile=mobile, limit=100)]


async def test_prepayment_then_payoff_frees_the_line_and_settles_the_note(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client, bank = dev_env.client, CoreBankingSimulator(engine)
    async with running_worker(client, engine, settings) as (queue, _):
        note, line_id = await disbursed(client, queue, engine, product)
        line = client.get_workflow_handle(line_id)
        fund(engine, note, "20000")
        result = await repay(client, queue, request(engine, note, "3000.00"))
        assert (result.status, result.kind) == ("posted", "prepayment")
        assert note_state(engine, note.note_no).outstanding_principal == D("9000.00")
        assert bank.loan_balance(note.note_no) == D("9000.00")
        await until(lambda: _available(line, D("50000") - D("9000")))

        state = note_state(engine, note.note_no)
        payoff = dues(state, state.value_date(note.start_date)).payoff
        result = await repay(client, queue, request(engine, note, str(payoff)))
        assert (result.status, result.kind) == ("posted", "payoff")
        assert note_state(engine, note.note_no).status == "settled"
        assert bank.loan_balance(note.note_no) == D("0.00")
        assert bank.trial_balance() == 0
        await until(lambda: _available(line, D("50000")))
        assert {"repayment_received", "loan_settled"} <= set(sms_templates(engine, note.customer_id))


async def _available(line, expected: Decimal) -> bool:
    return D(str((await line.query(names.QUERY_STATE))["available"])) == expected


async def test_without_money_the_repayment_fails_and_nothing_is_booked(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        note, _ = await disbursed(client, queue, engine, product)
        bank = CoreBankingSimulator(engine)
        with Session(engine) as s:
            account = s.get(Customer, note.customer_id).settlement_account
        # The borrower spent the loan: all but 1.00 leaves the account (any debit will do for the ledger).
        bank.repay(idempotency_key=f"spent-{note.note_no}", note_no=note.note_no, from_account=account,
                   principal=D("0"), interest=D("0"), penalty=D("0"), compound=bank.balance(account) - D("1"))
        before = note_state(engine, note.note_no)
        inp = request(engine, note, "11999.99")
        result = await repay(client, queue, inp)
        assert (result.status, result.failure_code) == ("failed", "INSUFFICIENT_FUNDS")
        assert note_state(engine, note.note_no) == before
        with Session(engine) as s:
            assert s.get(Repayment, inp.repayment_id).status == "failed"
        assert "repayment_failed" in sms_templates(engine, note.customer_id)


async def test_a_booking_that_fails_after_the_posting_is_reversed(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client, bank = dev_env.client, CoreBankingSimulator(engine)

    @activity.defn(name="book_repayment")
    def broken_booking(request: RepaymentInput, posting: object) -> RepaymentBooked:
        raise ApplicationError("database gone", non_retryable=True)

    async with running_worker(client, engine, settings, replace={"book_repayment": broken_booking}) as (queue, _):
        note, _ = await disbursed(client, queue, engine, product)
        account = fund(engine, note, "1000")
        before = bank.balance(account)
        result = await repay(client, queue, request(engine, note, "500.00"))
        assert (result.status, result.failure_code) == ("failed", "BOOKING_FAILED_REVERSED")
        assert bank.balance(account) == before and bank.loan_balance(note.note_no) == D("12000.00")
        assert note_state(engine, note.note_no).outstanding_principal == D("12000.00")


async def test_staff_reverse_the_latest_repayment(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client, bank = dev_env.client, CoreBankingSimulator(engine)
    async with running_worker(client, engine, settings) as (queue, _):
        note, line_id = await disbursed(client, queue, engine, product)
        line = client.get_workflow_handle(line_id)
        fund(engine, note, "5000")
        before = note_state(engine, note.note_no)
        first = request(engine, note, "1000.00")
        await repay(client, queue, first)
        second = request(engine, note, "2000.00")
        await repay(client, queue, second)
        await until(lambda: _available(line, D("50000") - D("9000")))

        def reversal(inp: RepaymentInput) -> ReversalInput:
            return ReversalInput(repayment_no=inp.repayment_no, note_no=inp.note_no, customer_id=inp.customer_id,
                                 line_workflow_id=inp.line_workflow_id, requested_by="risk1")

        refused = await client.execute_workflow(names.REPAYMENT_REVERSAL, reversal(first),
                                                id=names.reversal_workflow_id(first.repayment_no), task_queue=queue,
                                                result_type=RepaymentResult)
        assert (refused.status, refused.failure_code) == ("failed", "NOT_LATEST")
        for inp in (second, first):
            done = await client.execute_workflow(names.REPAYMENT_REVERSAL, reversal(inp),
                                                 id=names.reversal_workflow_id(inp.repayment_no) + "-ok",
                                                 task_queue=queue, result_type=RepaymentResult)
            assert done.status == "reversed"
        assert note_state(engine, note.note_no) == before
        assert bank.loan_balance(note.note_no) == D("12000.00") and bank.trial_balance() == 0
        await until(lambda: _available(line, D("50000") - D("12000")))


async def test_no_reversal_while_another_repayment_of_the_note_is_in_progress(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        note, _ = await disbursed(client, queue, engine, product)
        fund(engine, note, "3000")
        posted = request(engine, note, "1000.00")
        await repay(client, queue, posted)
        waiting = request(engine, note, "500.00")  # recorded, its workflow not started yet
        result = await client.execute_workflow(
            names.REPAYMENT_REVERSAL, ReversalInput(repayment_no=posted.repayment_no, note_no=note.note_no,
                                                    customer_id=note.customer_id,
                                                    line_workflow_id=posted.line_workflow_id, requested_by="risk1"),
            id=names.reversal_workflow_id(posted.repayment_no), task_queue=queue, result_type=RepaymentResult)
        assert (result.status, result.failure_code) == ("failed", "REPAYMENT_IN_PROGRESS")
        with Session(engine) as s:
            assert s.get(Repayment, posted.repayment_id).status == "posted"
        assert (await repay(client, queue, waiting)).status == "posted"
