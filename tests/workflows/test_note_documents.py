"""Each drawdown issues its note (借款借据) and repayment schedule as PDFs before money moves."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from pypdf import PdfReader
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.core_banking.simulator import CoreBankingSimulator
from adapters.imaging.simulator import ImagingSimulator
from db.models import Document, LoanNote, ScheduleInstallment
from tests import factories
from tests.workflows import histories
from tests.workflows.support import running_worker
from tests.workflows.test_drawdowns import draw, open_line
from workflows import names
from workflows.messages import IssueNoteDocumentsInput, NoteDocuments


def text_of(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


async def test_a_drawdown_issues_its_note_and_schedule(dev_env, engine, settings):
    product = factories.ensure_reference_data(engine)
    client = dev_env.client
    async with running_worker(client, engine, settings) as (queue, _):
        line_no, customer_id = await open_line(client, queue, engine, product)
        line = client.get_workflow_handle(names.credit_line_workflow_id(line_no))
        accepted = await draw(line, "20000", term=6)
        outcome = await client.get_workflow_handle(accepted.workflow_id).result()
        assert outcome["status"] == "disbursed"
        # The new path of the "note-documents" patch; tests/histories/drawdown.json keeps the old one.
        await histories.record(client, "drawdown_note_documents", accepted.workflow_id)
    with Session(engine) as s:
        note = s.exec(select(LoanNote).where(LoanNote.note_no == accepted.note_no)).one()
        rows = s.exec(select(ScheduleInstallment).where(ScheduleInstallment.note_id == note.id)
                      .order_by(col(ScheduleInstallment.period))).all()
        docs = {d.kind: d for d in s.exec(select(Document).where(
            col(Document.doc_no).in_([accepted.note_no, f"{accepted.note_no}-S"]))).all()}
    assert set(docs) == {"drawdown_note", "repayment_schedule"}
    assert docs["drawdown_note"].template_version == "drawdown-note/2"
    assert docs["repayment_schedule"].template_version == "repayment-schedule/2"
    assert all(d.signer_customer_id == customer_id and d.status == "issued" for d in docs.values())
    assert docs["drawdown_note"].data_snapshot["note_no"] == accepted.note_no
    assert "borrower" not in docs["drawdown_note"].data_snapshot  # personal data stays in customer
    imaging = ImagingSimulator(engine)
    note_text = text_of(imaging.get(docs["drawdown_note"].sha256))
    assert accepted.note_no in note_text and "人民币贰万元整" in note_text and "¥20,000.00" in note_text
    schedule_text = text_of(imaging.get(docs["repayment_schedule"].sha256))
    interest = sum((r.interest for r in rows), Decimal("0"))
    assert f"合计¥20,000.00¥{interest:,.2f}¥{Decimal('20000') + interest:,.2f}" in schedule_text
    assert all(f"¥{r.principal:,.2f}¥{r.interest:,.2f}" in schedule_text for r in rows)


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
