"""Drawdowns whose documents were issued before drawdown-note/4 have the schedule as a document of its
own (`<note_no>-S`): a retried issue reports both, and cancelling the drawdown voids both."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from activities.contracts import ContractActivities
from db.engine import session_scope
from db.models import Document
from documents.renderer import InProcessRenderer
from tests import factories
from workflows.messages import IssueNoteDocumentsInput


def _issued(engine, app, customer, doc_no: str, kind: str, version: str) -> None:
    with session_scope(engine) as s:
        s.add(Document(doc_no=doc_no, application_id=app.id, kind=kind, signer_customer_id=customer.id,
                       template_version=version, sha256="0" * 64, data_snapshot={}, created_at=datetime.now(UTC)))


def test_a_note_issued_with_its_schedule_apart_is_reported_and_voided_whole(own_engine):
    factories.ensure_reference_data(own_engine)
    borrower = factories.customer(own_engine)
    app = factories.application(own_engine, borrower)
    note_no = "CL2026112900001-001"
    _issued(own_engine, app, borrower, note_no, "drawdown_note", "drawdown-note/3")
    _issued(own_engine, app, borrower, f"{note_no}-S", "repayment_schedule", "repayment-schedule/2")
    # Only what a retry or a cancellation reads is needed: no renderer, imaging or core banking is touched.
    activities = ContractActivities(own_engine, imaging=None, core_banking=None, renderer=InProcessRenderer(),
                                    public_base_url="https://nongedai.example.cn")

    again = activities.issue_note_documents(IssueNoteDocumentsInput(note_no=note_no))
    assert again.doc_nos == [note_no, f"{note_no}-S"]
    assert activities.void_note_documents(IssueNoteDocumentsInput(note_no=note_no)) == 2
    with Session(own_engine) as s:
        docs = s.exec(select(Document).where(Document.application_id == app.id)).all()
    assert {(d.doc_no, d.status, d.void_reason) for d in docs} == {
        (note_no, "void", "DRAWDOWN_CANCELLED"), (f"{note_no}-S", "void", "DRAWDOWN_CANCELLED")}
