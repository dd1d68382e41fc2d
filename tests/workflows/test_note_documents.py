"""Each drawdown issues its note (借款借据) and repayment schedule as PDFs before money moves."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from adapters.ca.simulator import CaSimulator
from adapters.core_banking.simulator import CoreBankingSimulator
from adapters.imaging.simulator import ImagingSimulator
from db.models import Document, LoanNote, ScheduleInstallment
from tests import factories
from tests.workflows import histories
from tests.workflows.support import running_worker, sign_note, until
from tests.workflows.test_drawdowns import draw, open_line
from workflows import names
from workflows.messages import IssueNoteDocumentsInput, NoteDocuments, SignInput


def _verify(engine, sha256: str):
    return CaSimulator(engine).verify_pdf(ImagingSimulator(engine).get(sha256))


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


async def test_a_drawdown_issues_its_note_and_schedule(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        line_no, customer_id = await open_line(client, queue, engine, product)
        line = client.get_workflow_handle(names.credit_line_workflow_id(line_no))
        accepted = await draw(line, "20000", term=6)
        bank = CoreBankingSimulator(engine)
        signed = await sign_note(client, accepted)
        assert signed["signed"] and signed["stage"] in ("awaiting_signature", "closing_signature")
        outcome = await client.get_workflow_handle(accepted.workflow_id).result()
        assert outcome["status"] == "disbursed"
        assert bank.count_postings(kind="disbursement", reference=accepted.note_no) == 1
        # The path of the "note-signature" patch; drawdown_note_documents.json keeps the one before it
        # (documents, no signature) and drawdown.json the one before that.
        await histories.record(client, "drawdown_note_signed", accepted.workflow_id)
    with Session(engine) as s:
        note = s.exec(select(LoanNote).where(LoanNote.note_no == accepted.note_no)).one()
        rows = s.exec(select(ScheduleInstallment).where(ScheduleInstallment.note_id == note.id)
                      .order_by(col(ScheduleInstallment.period))).all()
        docs = {d.kind: d for d in s.exec(select(Document).where(
            col(Document.doc_no).in_([accepted.note_no, f"{accepted.note_no}-S"]))).all()}
    # One document: the note with its whole schedule, so the signature covers the schedule too.
    assert set(docs) == {"drawdown_note"}
    assert docs["drawdown_note"].template_version == "drawdown-note/4"
    assert all(d.signer_customer_id == customer_id for d in docs.values())
    # The borrower signed the note and the cooperative sealed it before the money moved.
    assert docs["drawdown_note"].status == "signed"
    assert note.disbursed_at is not None and docs["drawdown_note"].signed_at < note.disbursed_at
    check = await asyncio.to_thread(_verify, engine, docs["drawdown_note"].signed_sha256)
    assert check.valid and check.level == "B-LTA"
    assert [s.field_name for s in check.signatures] == ["borrower", "lender_seal"]
    assert docs["drawdown_note"].data_snapshot["note_no"] == accepted.note_no
    assert "borrower" not in docs["drawdown_note"].data_snapshot  # personal data stays in customer
    imaging = ImagingSimulator(engine)
    note_text = text_of(imaging.get(docs["drawdown_note"].sha256))
    assert accepted.note_no in note_text and "人民币贰万元整" in note_text and "¥20,000.00" in note_text
    # the spread as priced on the drawdown date, term by term, adding up to the spread printed
    snapshot = docs["drawdown_note"].data_snapshot
    terms = snapshot["spread_terms"]
    assert terms[0]["label"] == "信用贷款基础加点" and sum(t["bp"] for t in terms) == snapshot["spread_bp"]
    printed = "加点幅度由以下各项构成：" + "；".join(f"{t['label']}{t['bp']:+d}个基点" for t in terms)
    assert re.sub(r"\s+", "", printed) in note_text
    # The schedule as booked, installment by installment, in what the borrower signed.
    signed_text = text_of(imaging.get(docs["drawdown_note"].signed_sha256))
    interest = sum((r.interest for r in rows), Decimal("0"))
    assert f"合计¥20,000.00¥{interest:,.2f}¥{Decimal('20000') + interest:,.2f}" in signed_text
    assert all(f"¥{r.principal:,.2f}¥{r.interest:,.2f}" in signed_text for r in rows)


async def test_documents_that_cannot_be_issued_refuse_the_drawdown_before_money_moves(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client
    bank = CoreBankingSimulator(engine)

    @activity.defn(name="issue_note_documents")
    def issue_broken(request: IssueNoteDocumentsInput) -> NoteDocuments:
        raise ApplicationError("template broken", type="Unexpected", non_retryable=True)

    async with running_worker(client, engine, settings, replace={"issue_note_documents": issue_broken}) as (
            queue, _):
        line_no, _ = await open_line(client, queue, engine, product)
        line = client.get_workflow_handle(names.credit_line_workflow_id(line_no))
        accepted = await draw(line, "10000")
        outcome = await client.get_workflow_handle(accepted.workflow_id).result()
    assert (outcome["status"], outcome["failure_code"]) == ("failed", "NOTE_DOCUMENTS_FAILED")
    assert bank.count_postings(reference=accepted.note_no) == 0
    with Session(engine) as s:
        assert s.exec(select(LoanNote.status).where(LoanNote.note_no == accepted.note_no)).one() == "failed"


async def _cancelled_cleanly(client, engine, line, accepted, code: str) -> None:
    outcome = await client.get_workflow_handle(accepted.workflow_id).result()
    assert (outcome["status"], outcome["failure_code"]) == ("failed", code)
    assert CoreBankingSimulator(engine).count_postings(reference=accepted.note_no) == 0  # no money moved
    with Session(engine) as s:
        assert s.exec(select(LoanNote.status).where(LoanNote.note_no == accepted.note_no)).one() == "failed"
        docs = s.exec(select(Document).where(
            col(Document.doc_no).in_([accepted.note_no, f"{accepted.note_no}-S"]))).all()
    assert len(docs) == 1 and all((d.status, d.void_reason) == ("void", "DRAWDOWN_CANCELLED") for d in docs)

    async def restored():
        state = await line.query(names.QUERY_STATE)
        return Decimal(state["available"]) == Decimal("50000.00") and Decimal(state["pending"]) == 0
    await until(restored)


async def test_an_unsigned_note_cancels_the_drawdown_at_its_deadline(ts_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = ts_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        # No skipping while the line opens: awaiting the application's result lets the test server skip
        # time, and once it completes the only timer left is the line's expiry, three years on.
        with ts_env.auto_time_skipping_disabled():
            line_no, _ = await open_line(client, queue, engine, product)
            line = client.get_workflow_handle(names.credit_line_workflow_id(line_no))
            accepted = await draw(line, "15000")
            await until(lambda: _awaiting(client.get_workflow_handle(accepted.workflow_id)))
        # Nobody signs: 24 hours later the drawdown is cancelled. (A child's handle does not skip time itself.)
        await ts_env.sleep(timedelta(hours=product.note_signing_deadline_hours, minutes=1))
        await _cancelled_cleanly(client, engine, line, accepted, "NOTE_NOT_SIGNED")


async def test_a_signature_the_ca_refuses_cancels_the_drawdown(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client
    ca = CaSimulator(engine)
    async with running_worker(client, engine, settings) as (queue, _):
        line_no, _ = await open_line(client, queue, engine, product)
        line = client.get_workflow_handle(names.credit_line_workflow_id(line_no))
        accepted = await draw(line, "15000")
        handle = client.get_workflow_handle(accepted.workflow_id)
        state = await until(lambda: _awaiting(handle))
        with pytest.raises(WorkflowUpdateFailedError) as err:  # someone else's document, or not the note
            await handle.execute_update(names.UPDATE_SIGN_NOTE, SignInput(
                document_id=state["note_document_id"], signer_customer_id=state["borrower_customer_id"] + 1,
                otp_ref="x"))
        assert err.value.cause.type == "NotAuthorised"
        ca.inject_fault(operation="sign", kind="refuse:CERTIFICATE_REVOKED")
        try:
            with pytest.raises(WorkflowUpdateFailedError) as err:
                await sign_note(client, accepted)
            assert err.value.cause.type == "SigningFailed"
        finally:
            ca.clear_faults()
        await _cancelled_cleanly(client, engine, line, accepted, "NOTE_SIGNING_FAILED")


async def _awaiting(handle):
    state = await handle.query(names.QUERY_STATE)
    return state if state["stage"] == "awaiting_signature" else None
