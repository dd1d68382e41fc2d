"""Amended terms beyond a lower amount: guaranteed loans (every guarantor answers and signs again) and other
terms (term, repayment method, rate within the product's pricing). The old documents are void, say why,
and point to their replacements."""

from __future__ import annotations

import asyncio
import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlmodel import Session, col, select
from temporalio.client import WorkflowUpdateFailedError

from adapters.ca.simulator import CaSimulator
from adapters.imaging.simulator import ImagingSimulator
from db.models import CreditLine, Document, Guarantee, LoanApplication
from services.documents import verification
from tests import factories
from tests.workflows import histories
from tests.workflows.support import has_contract, running_worker, until, until_stage
from workflows import names
from workflows.loan_application import LoanApplicationWorkflow
from workflows.messages import AmendTermsInput, ConsentInput, ReplaceGuarantorInput, SignInput


def amendment(amount: str, **kw) -> AmendTermsInput:
    fields = dict(approver_id=999_003, approver_role="approver", authority_limit=Decimal("200000"),
                  approver_branch="350322101", approved_amount=Decimal(amount), reason_code="CUSTOMER_REQUESTED")
    return AmendTermsInput(**(fields | kw))


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


async def refused(handle, request: AmendTermsInput) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(names.UPDATE_AMEND_TERMS, request)
    return err.value.cause.type


async def consent(client, app_no: str, slot: int, attempt: int, customer_id: int, accept: bool = True):
    handle = client.get_workflow_handle(names.guarantor_workflow_id(app_no, slot, attempt))
    await until(lambda: handle.query(names.QUERY_STATE))
    await handle.execute_update(names.UPDATE_CONSENT, ConsentInput(customer_id=customer_id, accept=accept))
    return handle


async def _revision(handle, revision: int):
    state = await handle.query(names.QUERY_STATE)
    return state if state["stage"] == "awaiting_signatures" and state["contract_revision"] == revision else None


async def test_guarantors_answer_and_sign_again_and_a_refusal_is_replaced(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower = factories.customer(engine)
    first, second, third = (factories.customer(engine, name=n) for n in ("陈一", "陈二", "陈三"))
    row = factories.application(engine, borrower, amount="80000", guarantee_type="guaranteed")
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run,
                                             factories.loan_input(row, product, [first, second]),
                                             id=row.workflow_id, task_queue=queue)
        await until_stage(handle, "awaiting_guarantors")
        g1 = await consent(client, row.app_no, 1, 1, first.id)
        await consent(client, row.app_no, 2, 1, second.id)
        state = await until_stage(handle, "awaiting_signatures")
        old = {(d["kind"], d["guarantor_slot"]): d for d in state["documents"]}
        # The borrower and the first guarantor sign the old terms; the second has not yet.
        await handle.execute_update(names.UPDATE_SIGN, SignInput(
            document_id=old[("loan_contract", None)]["document_id"], signer_customer_id=borrower.id, otp_ref="o1"))
        await until(lambda: has_contract(g1))
        await g1.execute_update(names.UPDATE_GUARANTOR_SIGN, SignInput(
            document_id=old[("guarantee_contract", 1)]["document_id"], signer_customer_id=first.id, otp_ref="o2"))

        await handle.execute_update(names.UPDATE_AMEND_TERMS, amendment("60000", term_months=6))
        await until_stage(handle, "awaiting_guarantors")
        old_g2 = client.get_workflow_handle(names.guarantor_workflow_id(row.app_no, 2, 1))
        with pytest.raises(Exception):  # noqa: B017 - the guarantor waiting to sign the old terms is cancelled
            await old_g2.result()
        g1b = await consent(client, row.app_no, 1, 2, first.id)
        await consent(client, row.app_no, 2, 2, second.id, accept=False)  # refuses the new terms
        state = await until_stage(handle, "awaiting_guarantor_replacement")
        assert state["reason_codes"] == ["GUARANTOR_2_DECLINED"]
        await handle.execute_update(names.UPDATE_REPLACE_GUARANTOR, ReplaceGuarantorInput(
            slot=2, guarantor_customer_id=third.id, actor="customer"))
        g2c = await consent(client, row.app_no, 2, 3, third.id)

        state = await until(lambda: _revision(handle, 2))
        new = {(d["kind"], d["guarantor_slot"]): d for d in state["documents"]}
        base = old[("loan_contract", None)]["doc_no"]
        assert {d["doc_no"] for d in new.values()} == {f"{base}-R2", f"{base}-R2-G1", f"{base}-R2-G2"}
        await handle.execute_update(names.UPDATE_SIGN, SignInput(
            document_id=new[("loan_contract", None)]["document_id"], signer_customer_id=borrower.id, otp_ref="o3"))
        for child, guarantor, slot in ((g1b, first, 1), (g2c, third, 2)):
            await until(lambda child=child: has_contract(child))
            await child.execute_update(names.UPDATE_GUARANTOR_SIGN, SignInput(
                document_id=new[("guarantee_contract", slot)]["document_id"], signer_customer_id=guarantor.id,
                otp_ref=f"g{slot}"))
        result = await handle.result()
        await histories.record(client, "guaranteed_loan_amended", row.workflow_id)
    assert result.status == "active"

    ca, imaging = CaSimulator(engine), ImagingSimulator(engine)
    with Session(engine) as s:
        docs = {d.doc_no: d for d in s.exec(select(Document).where(Document.application_id == row.id))}
        guarantees = {(g.slot, g.attempt): g.status
                      for g in s.exec(select(Guarantee).where(Guarantee.application_id == row.id))}
        line = s.exec(select(CreditLine).where(col(CreditLine.line_no) == result.line_no)).one()

    def check_all() -> dict:  # pyhanko runs its own event loop: off this one
        with Session(engine) as s:
            return {no: verification(s, ca, imaging, no) for no in docs}

    checks = await asyncio.to_thread(check_all)
    assert guarantees == {(1, 1): "signed", (2, 1): "cancelled", (1, 2): "signed", (2, 2): "declined",
                          (2, 3): "signed"}
    for kind_slot, doc in old.items():
        voided = docs[doc["doc_no"]]
        assert (voided.status, voided.void_reason) == ("void", "AMENDED:CUSTOMER_REQUESTED")
        assert voided.superseded_by == new[kind_slot]["doc_no"]
        check = checks[doc["doc_no"]]
        assert check.superseded and check.superseded_by == new[kind_slot]["doc_no"] and "已作废" in check.notice
    # What was signed on the old terms still verifies as signed: it is void, not forged.
    assert checks[base].signature_valid and checks[base].status == "void"
    for doc in new.values():
        assert docs[doc["doc_no"]].status == "signed" and checks[doc["doc_no"]].signature_level == "B-LTA"
    assert line.amount == Decimal("60000.00") and line.max_term_months == 6
    text = text_of(imaging.get(docs[f"{base}-R2-G2"].sha256))
    assert "人民币陆万元整" in text and f"{base}-R2" in text


async def test_a_guarantor_refusing_new_terms_unreplaced_ends_the_application(ts_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower, guarantor = factories.customer(engine), factories.customer(engine)
    row = factories.application(engine, borrower, guarantee_type="guaranteed")
    client = ts_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run,
                                             factories.loan_input(row, product, [guarantor]),
                                             id=row.workflow_id, task_queue=queue)
        await until_stage(handle, "awaiting_guarantors")
        await consent(client, row.app_no, 1, 1, guarantor.id)
        await until_stage(handle, "awaiting_signatures")
        await handle.execute_update(names.UPDATE_AMEND_TERMS, amendment("30000"))
        await consent(client, row.app_no, 1, 2, guarantor.id, accept=False)
        result = await handle.result()  # nobody replaces them within the replacement deadline
    assert (result.status, result.reason_codes) == ("expired", ["GUARANTOR_NOT_REPLACED"])
    with Session(engine) as s:
        docs = s.exec(select(Document).where(Document.application_id == row.id)).all()
    assert docs and all(d.status == "void" and d.void_reason == "AMENDED:CUSTOMER_REQUESTED" for d in docs)
    assert all(d.superseded_by is None for d in docs)  # nothing replaced them


async def test_term_and_repayment_method_can_change_within_the_product_but_not_the_rate(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower = factories.customer(engine)
    row = factories.application(engine, borrower, amount="50000")
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        state = await until_stage(handle, "awaiting_signatures")
        rate = Decimal(state["annual_rate"])
        new_rate = rate - Decimal("0.0010")
        assert await refused(handle, amendment("50000")) == "NothingChanged"
        assert await refused(handle, amendment("50000", term_months=product.max_term_months + 1)) == "TermOutOfRange"
        # Drawdown notes are priced by the rules on their own date: an amended rate would never be charged.
        assert await refused(handle, amendment("50000", annual_rate=new_rate)) == "RateNotAmendable"
        assert await refused(handle, amendment("50000", repayment_method="bullet", term_months=24)) == "BulletTooLong"

        await handle.execute_update(names.UPDATE_AMEND_TERMS, amendment(
            "50000", term_months=24, repayment_method="equal_principal"))
        state = await until(lambda: _revision(handle, 2))
        [doc] = state["documents"]
        await handle.execute_update(names.UPDATE_SIGN, SignInput(
            document_id=doc["document_id"], signer_customer_id=borrower.id, otp_ref="o"))
        result = await handle.result()
    assert result.status == "active"
    with Session(engine) as s:
        line = s.exec(select(CreditLine).where(col(CreditLine.line_no) == result.line_no)).one()
        app = s.get(LoanApplication, row.id)
        signed = s.exec(select(Document).where(Document.doc_no == doc["doc_no"])).one()
    assert (line.max_term_months, line.annual_rate) == (24, rate)
    assert (app.term_months, app.repayment_method) == (24, "equal_principal")
    assert signed.data_snapshot["term_months"] == 24 and Decimal(signed.data_snapshot["annual_rate"]) == rate
    text = text_of(ImagingSimulator(engine).get(signed.sha256))
    assert "24个月" in text and "等额本金" in text and f"{rate * 100:.2f}%" in text
