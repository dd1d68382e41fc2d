"""A change of terms while the contracts await signatures: the old contracts are voided and new ones issued."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlmodel import Session, col, select
from temporalio.client import WorkflowUpdateFailedError

from adapters.imaging.simulator import ImagingSimulator
from db.models import CreditLine, Document, LoanApplication
from tests import factories
from tests.workflows import histories
from tests.workflows.support import running_worker, until, until_stage
from workflows import names
from workflows.loan_application import LoanApplicationWorkflow
from workflows.messages import AmendTermsInput, SignInput


def amendment(amount: str, **kw) -> AmendTermsInput:
    fields = dict(approver_id=999_001, approver_role="approver", authority_limit=Decimal("100000"),
                  approver_branch="350322101", approved_amount=Decimal(amount), reason_code="CUSTOMER_REQUESTED")
    return AmendTermsInput(**(fields | kw))


async def _reissued(handle):
    state = await handle.query(names.QUERY_STATE)
    return state if state["stage"] == "awaiting_signatures" and state["contract_revision"] == 2 else None


async def refused(handle, request: AmendTermsInput) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(names.UPDATE_AMEND_TERMS, request)
    return err.value.cause.type


async def test_amended_terms_void_the_old_contract_and_issue_a_new_one(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower = factories.customer(engine)
    row = factories.application(engine, borrower, amount="50000")
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        state = await until_stage(handle, "awaiting_signatures")
        old = state["documents"][0]
        assert await refused(handle, amendment("60000")) == "AmountInvalid"
        assert await refused(handle, amendment("40000", approver_role="customer_manager")) == "NotAuthorised"
        assert await refused(handle, amendment("40000", authority_limit=Decimal("30000"))) == "AuthorityExceeded"

        await handle.execute_update(names.UPDATE_AMEND_TERMS, amendment("40000"))
        state = await until(lambda: _reissued(handle))
        [new] = state["documents"]
        assert new["doc_no"] == old["doc_no"] + "-R2" and new["document_id"] != old["document_id"]
        assert Decimal(state["approved_amount"]) == Decimal("40000")
        with pytest.raises(WorkflowUpdateFailedError):  # the old contract can no longer be signed
            await handle.execute_update(names.UPDATE_SIGN, SignInput(
                document_id=old["document_id"], signer_customer_id=borrower.id, otp_ref="otp-old"))
        await handle.execute_update(names.UPDATE_SIGN, SignInput(
            document_id=new["document_id"], signer_customer_id=borrower.id, otp_ref="otp-new"))
        result = await handle.result()
        assert result.status == "active"
        await histories.record(client, "credit_loan_amended", row.workflow_id)

    with Session(engine) as s:
        docs = {d.doc_no: d for d in s.exec(select(Document).where(Document.application_id == row.id))}
        line = s.exec(select(CreditLine).where(col(CreditLine.line_no) == result.line_no)).one()
        app = s.get(LoanApplication, row.id)
    assert (docs[old["doc_no"]].status, docs[new["doc_no"]].status) == ("void", "signed")
    assert line.amount == Decimal("40000.00") and app.approved_amount == Decimal("40000.00")
    pdf = ImagingSimulator(engine).get(docs[new["doc_no"]].sha256)
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    assert "人民币肆万元整" in text and new["doc_no"] in text
