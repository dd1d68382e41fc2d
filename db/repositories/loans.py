"""Loan notes (借据) as their borrower or staff see them, with their installments and repayments.

A note has no branch of its own: staff scope comes from its credit line's branch, a customer's from the
note's borrower.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, func, select

from db.models import CreditLine, LoanNote, Repayment, RepaymentLine, ScheduleInstallment
from db.repositories.scope import Scope

# Repayments that still have work to do: a second one for the same note waits for them.
IN_PROGRESS = ("requested", "prepared", "reversing")


def _scoped(stmt, scope: Scope):  # noqa: ANN001, ANN202 - a select of LoanNote or of a count
    if scope.customer_id is not None:
        stmt = stmt.where(LoanNote.customer_id == scope.customer_id)
    if scope.branch_code is not None:
        stmt = stmt.join(CreditLine, col(CreditLine.id) == col(LoanNote.line_id)).where(
            CreditLine.branch_code == scope.branch_code)
    return stmt


def visible(session: Session, scope: Scope, note_no: str) -> LoanNote | None:
    return session.exec(_scoped(select(LoanNote), scope).where(LoanNote.note_no == note_no)).first()


def visible_for_update(session: Session, scope: Scope, note_no: str) -> LoanNote | None:
    """The note, locked until the transaction ends (repayments and end of day take turns on it)."""
    stmt = _scoped(select(LoanNote), scope).where(LoanNote.note_no == note_no)
    return session.exec(stmt.with_for_update(of=LoanNote)).first()


def search(session: Session, scope: Scope, *, status: str | None, limit: int,
           offset: int) -> tuple[Sequence[LoanNote], int]:
    where = [LoanNote.status == status] if status is not None else []
    total = session.exec(_scoped(select(func.count()).select_from(LoanNote), scope).where(*where)).one()
    rows = session.exec(_scoped(select(LoanNote), scope).where(*where).order_by(col(LoanNote.id).desc())
                        .offset(offset).limit(limit)).all()
    return rows, total


def line(session: Session, line_id: int) -> CreditLine | None:
    return session.get(CreditLine, line_id)


def installments(session: Session, note_id: int) -> list[ScheduleInstallment]:
    return list(session.exec(select(ScheduleInstallment).where(ScheduleInstallment.note_id == note_id)
                             .order_by(col(ScheduleInstallment.period))))


def repayments(session: Session, note_id: int) -> Sequence[Repayment]:
    return session.exec(select(Repayment).where(Repayment.note_id == note_id).order_by(col(Repayment.id))).all()


def repayment(session: Session, note_id: int, repayment_no: str) -> Repayment | None:
    return session.exec(select(Repayment).where(Repayment.note_id == note_id,
                                                Repayment.repayment_no == repayment_no)).first()


def repayment_by_key(session: Session, note_id: int, request_key: str) -> Repayment | None:
    return session.exec(select(Repayment).where(Repayment.note_id == note_id,
                                                Repayment.request_key == request_key)).first()


def in_progress(session: Session, note_id: int) -> Repayment | None:
    return session.exec(select(Repayment).where(Repayment.note_id == note_id,
                                                col(Repayment.status).in_(IN_PROGRESS))
                        .order_by(col(Repayment.id))).first()


def latest_posted(session: Session, note_id: int) -> Repayment | None:
    """The repayment a reversal may take back (the same order activities.servicing checks)."""
    return session.exec(select(Repayment).where(Repayment.note_id == note_id, Repayment.status == "posted")
                        .order_by(col(Repayment.posted_at).desc(), col(Repayment.id).desc())).first()


def count_repayments(session: Session, note_id: int) -> int:
    return session.exec(select(func.count()).select_from(Repayment).where(Repayment.note_id == note_id)).one()


def insert_repayment(session: Session, row: Repayment) -> Repayment:
    session.add(row)
    session.flush()
    return row


def lines(session: Session, repayment_id: int) -> Sequence[RepaymentLine]:
    return session.exec(select(RepaymentLine).where(RepaymentLine.repayment_id == repayment_id)
                        .order_by(col(RepaymentLine.id))).all()
