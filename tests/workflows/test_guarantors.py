"""Guaranteed loans: guarantor child workflows, decline and replacement, deadlines, signatures."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError

from adapters.ca.simulator import CaSimulator
from adapters.imaging.simulator import ImagingSimulator
from db.models import Document, Guarantee
from tests import factories
from tests.workflows import histories
from tests.workflows.support import has_contract, running_worker, until, until_stage
from workflows import names
from workflows.loan_application import LoanApplicationWorkflow
from workflows.messages import ConsentInput, ReplaceGuarantorInput, SignInput, WithdrawInput


def slot_status(state: dict, slot: int) -> str:
    return next(g["status"] for g in state["guarantors"] if g["slot"] == slot)


async def test_declined_guarantor_is_replaced_and_everyone_signs(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower = factories.customer(engine)
    first, second, third = (factories.customer(engine, name=n) for n in ("陈一", "陈二", "陈三"))
    row = factories.application(engine, borrower, amount="80000", guarantee_type="guaranteed")
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run,
                                             factories.loan_input(row, product, [first, second]),
                                             id=row.workflow_id, task_queue=queue)
        state = await until_stage(handle, "awaiting_guarantors")
        g1 = client.get_workflow_handle(names.guarantor_workflow_id(row.app_no, 1, 1))
        g2 = client.get_workflow_handle(names.guarantor_workflow_id(row.app_no, 2, 1))
        with pytest.raises(WorkflowUpdateFailedError):  # only the invited guarantor may answer
            await g1.execute_update(names.UPDATE_CONSENT, ConsentInput(customer_id=second.id, accept=True))
        await g1.execute_update(names.UPDATE_CONSENT, ConsentInput(customer_id=first.id, accept=True))
        await g2.execute_update(names.UPDATE_CONSENT, ConsentInput(customer_id=second.id, accept=False))
        state = await until_stage(handle, "awaiting_guarantor_replacement")
        assert state["reason_codes"] == ["GUARANTOR_2_DECLINED"]
        with pytest.raises(WorkflowUpdateFailedError):  # the borrower cannot guarantee their own loan
            await handle.execute_update(names.UPDATE_REPLACE_GUARANTOR, ReplaceGuarantorInput(
                slot=2, guarantor_customer_id=borrower.id, actor="customer"))
        await handle.execute_update(names.UPDATE_REPLACE_GUARANTOR, ReplaceGuarantorInput(
            slot=2, guarantor_customer_id=third.id, actor="customer"))
        g2b = client.get_workflow_handle(names.guarantor_workflow_id(row.app_no, 2, 2))
        await until(lambda: g2b.query(names.QUERY_STATE))
        await g2b.execute_update(names.UPDATE_CONSENT, ConsentInput(customer_id=third.id, accept=True))

        state = await until_stage(handle, "awaiting_signatures")
        docs = {(d["kind"], d["guarantor_slot"]): d["document_id"] for d in state["documents"]}
        assert set(docs) == {("loan_contract", None), ("guarantee_contract", 1), ("guarantee_contract", 2)}
        await handle.execute_update(names.UPDATE_SIGN, SignInput(
            document_id=docs[("loan_contract", None)], signer_customer_id=borrower.id, otp_ref="o1"))
        with pytest.raises(WorkflowUpdateFailedError):  # a guarantor signs only their own contract
            await g1.execute_update(names.UPDATE_GUARANTOR_SIGN, SignInput(
                document_id=docs[("guarantee_contract", 2)], signer_customer_id=first.id, otp_ref="o2"))
        await until(lambda: has_contract(g1))
        await g1.execute_update(names.UPDATE_GUARANTOR_SIGN, SignInput(
            document_id=docs[("guarantee_contract", 1)], signer_customer_id=first.id, otp_ref="o2"))
        await until(lambda: has_contract(g2b))
        await g2b.execute_update(names.UPDATE_GUARANTOR_SIGN, SignInput(
            document_id=docs[("guarantee_contract", 2)], signer_customer_id=third.id, otp_ref="o3"))
        result = await handle.result()
        await histories.record(client, "guaranteed_loan_application", row.workflow_id)
        await histories.record(client, "guarantor_consent", g2b.id)
    assert result.status == "active"
    with Session(engine) as s:
        rows = {(g.slot, g.attempt): g.status for g in s.exec(select(Guarantee).where(Guarantee.application_id == row.id))}
        assert rows == {(1, 1): "signed", (2, 1): "declined", (2, 2): "signed"}
        signers = {d.signer_customer_id for d in s.exec(select(Document).where(
            Document.application_id == row.id, Document.status == "signed"))}
        assert signers == {borrower.id, first.id, third.id}
        guarantee = s.get(Document, docs[("guarantee_contract", 2)])
    # Each guarantor's PAdES signature, then the cooperative's seal, inside their guarantee contract.
    check = await asyncio.to_thread(CaSimulator(engine).verify_pdf, ImagingSimulator(engine).get(guarantee.signed_sha256))
    assert check.valid and [(f.field_name, f.signer_name) for f in check.signatures][0] == ("guarantor", "陈三")
    assert [f.field_name for f in check.signatures] == ["guarantor", "lender_seal"]


def one_guarantor_loan(engine):
    product = factories.ensure_reference_data(engine)
    borrower, guarantor = factories.customer(engine), factories.customer(engine)
    row = factories.application(engine, borrower, guarantee_type="guaranteed")
    return row, factories.loan_input(row, product, [guarantor]), borrower, guarantor


async def test_silent_guarantor_lapses_and_the_application_expires_unreplaced(ts_env, engine, settings):
    row, loan, _, _ = one_guarantor_loan(engine)
    client = ts_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, loan, id=row.workflow_id, task_queue=queue)
        result = await handle.result()  # 72 h consent deadline, then 168 h to find a replacement
    assert (result.status, result.reason_codes) == ("expired", ["GUARANTOR_NOT_REPLACED"])
    with Session(engine) as s:
        assert s.exec(select(Guarantee.status).where(Guarantee.application_id == row.id)).all() == ["expired"]


async def test_withdrawal_cancels_the_guarantor_workflows(ts_env, engine, settings):
    row, loan, borrower, guarantor = one_guarantor_loan(engine)
    client = ts_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, loan, id=row.workflow_id, task_queue=queue)
        await until_stage(handle, "awaiting_guarantors")
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(names.UPDATE_WITHDRAW, WithdrawInput(customer_id=guarantor.id))
        await handle.execute_update(names.UPDATE_WITHDRAW, WithdrawInput(customer_id=borrower.id, reason="不需要了"))
        result = await handle.result()
        assert result.status == "withdrawn"
        child = client.get_workflow_handle(names.guarantor_workflow_id(row.app_no, 1, 1))
        with pytest.raises(Exception):  # noqa: B017 - cancelled children raise a cancellation failure
            await child.result()
    with Session(engine) as s:
        await until(lambda: s.exec(select(Guarantee.status).where(Guarantee.application_id == row.id)).all()
                    == ["cancelled"] or s.expire_all())
