"""Credit lines, their loan notes and repayment schedules (the read model CreditLineWorkflow keeps)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, func, select

from db.models import CreditLine, LoanNote, ScheduleInstallment
from db.repositories.scope import Scope


def _scope_clause(scope: Scope) -> list:
    where = []
    if scope.customer_id is not None:
        where.append(CreditLine.customer_id == scope.customer_id)
    if scope.branch_code is not None:
        where.append(CreditLine.branch_code == scope.branch_code)
    return where


def visible(session: Session, scope: Scope, line_no: str) -> CreditLine | None:
    return session.exec(select(CreditLine).where(CreditLine.line_no == line_no, *_scope_clause(scope))).first()


def search(session: Session, scope: Scope, *, status: str | None, limit: int,
           offset: int) -> tuple[Sequence[CreditLine], int]:
    where = _scope_clause(scope)
    if status is not None:
        where.append(CreditLine.status == status)
    total = session.exec(select(func.count()).select_from(CreditLine).where(*where)).one()
    rows = session.exec(select(CreditLine).where(*where).order_by(col(CreditLine.id).desc())
                        .offset(offset).limit(limit)).all()
    return rows, total


def notes(session: Session, line_id: int) -> Sequence[LoanNote]:
    return session.exec(select(LoanNote).where(LoanNote.line_id == line_id).order_by(col(LoanNote.id))).all()


def installments(session: Session, note_ids: Sequence[int]) -> Sequence[ScheduleInstallment]:
    if not note_ids:
        return []
    stmt = (select(ScheduleInstallment).where(col(ScheduleInstallment.note_id).in_(note_ids))
            .order_by(col(ScheduleInstallment.note_id), col(ScheduleInstallment.period)))
    return session.exec(stmt).all()
