"""Queries for credit lines and loan notes (借据) run by the credit-line and drawdown activities."""

from __future__ import annotations

from sqlmodel import Session, select

from db.models import CreditLine, LoanNote


def line_for_application(session: Session, application_id: int) -> CreditLine | None:
    return session.exec(select(CreditLine).where(CreditLine.application_id == application_id)).first()


def get_line(session: Session, line_id: int) -> CreditLine:
    line = session.get(CreditLine, line_id)
    if line is None:
        raise LookupError(f"credit line {line_id} not found")
    return line


def note_by_no(session: Session, note_no: str) -> LoanNote | None:
    return session.exec(select(LoanNote).where(LoanNote.note_no == note_no)).first()
