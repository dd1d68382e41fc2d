"""Signing in the loan workflow: the contract comes back with the borrower's and the seal's PAdES
signatures; a CA refusal fails only that attempt, and the borrower can sign again before the deadline."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from adapters.ca.simulator import CaSimulator
from adapters.imaging.simulator import ImagingSimulator
from db.models import Document
from tests import factories
from tests.workflows.support import running_worker, until_stage
from workflows import names
from workflows.loan_application import LoanApplicationWorkflow
from workflows.messages import SignInput


async def test_a_refused_signature_can_be_retried_and_the_signed_pdf_verifies(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    borrower = factories.customer(engine)
    row = factories.application(engine, borrower, amount="50000")
    client = dev_env.client
    ca = CaSimulator(engine)
    async with running_worker(client, engine, settings) as (queue, _):
        handle = await client.start_workflow(LoanApplicationWorkflow.run, factories.loan_input(row, product),
                                             id=row.workflow_id, task_queue=queue)
        state = await until_stage(handle, "awaiting_signatures")
        contract = state["documents"][0]
        sign = SignInput(document_id=contract["document_id"], signer_customer_id=borrower.id, otp_ref="otp-1")
        ca.inject_fault(operation="sign", kind="refuse:CERTIFICATE_REVOKED")
        try:
            with pytest.raises(WorkflowUpdateFailedError) as failed:
                await handle.execute_update(names.UPDATE_SIGN, sign)
        finally:
            ca.clear_faults()
        cause = failed.value.cause
        while cause is not None and not isinstance(cause, ApplicationError):
            cause = cause.__cause__
        assert cause is not None and cause.type == "SignatureRefused"
        assert (await handle.query(names.QUERY_STATE))["stage"] == "awaiting_signatures"
        with Session(engine) as s:
            assert s.get(Document, contract["document_id"]).status == "issued"

        await handle.execute_update(names.UPDATE_SIGN, sign.model_copy(update={"otp_ref": "otp-2"}))
        result = await handle.result()
        assert result.status == "active"

    with Session(engine) as s:
        doc = s.exec(select(Document).where(Document.application_id == row.id)).one()
    pdf = ImagingSimulator(engine).get(doc.signed_sha256)
    assert pdf.startswith(ImagingSimulator(engine).get(doc.sha256))
    check = await asyncio.to_thread(ca.verify_pdf, pdf)  # pyhanko runs its own event loop
    assert check.valid and [(s.field_name, s.signer_kind) for s in check.signatures] == [
        ("borrower", "person"), ("lender_seal", "seal")]
    assert check.signatures[0].signer_name == borrower.name and check.signatures[0].signer_ref == borrower.customer_no
    [first, seal] = ca.evidence_log(doc.doc_no)
    assert first.signature_id == doc.signature_id and first.evidence["otp_ref"] == "otp-2"
    assert first.document_sha256 == doc.sha256 and seal.signed_sha256 == doc.signed_sha256
