"""Queries for credit lines and loan notes (借据) run by the credit-line and drawdown activities."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from db.models import CreditLine, Document, LoanNote


def line_for_application(session: Session, application_id: int) -> CreditLine | None:
    return session.exec(select(CreditLine).where(CreditLine.application_id == application_id)).first()


def get_line(session: Session, line_id: int) -> CreditLine:
    line = session.get(CreditLine, line_id)
    if line is None:
        raise LookupError(f"credit line {line_id} not found")
    return line


def note_by_no(session: Session, note_no: str) -> LoanNote | None:
    return session.exec(select(LoanNote).where(LoanNote.note_no == note_no)).first()


def signed_line_expiry(session: Session, application_id: int) -> date | None:
    """The line expiry printed in the application's signed loan contract, if there is one."""
    snapshot = session.exec(select(Document.data_snapshot).where(
        Document.application_id == application_id, Document.kind == "loan_contract",
        Document.status == "signed")).first()
    return date.fromisoformat(snapshot["line_expiry"]) if snapshot and snapshot.get("line_expiry") else None
