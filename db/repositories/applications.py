"""Loan applications: the read model the workflows keep current, plus the row the API inserts at submission."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, func, select

from db.models import ApplicationEvent, CreditLine, Customer, Document, Guarantee, LoanApplication
from db.repositories.scope import Scope


@dataclass(frozen=True)
class ApplicationFilter:
    stage: str | None = None
    status: str | None = None
    channel: str | None = None
    branch_code: str | None = None
    product_code: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None


def _scope_clause(scope: Scope) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if scope.customer_id is not None:
        where.append(LoanApplication.customer_id == scope.customer_id)
    if scope.branch_code is not None:
        mine = LoanApplication.branch_code == scope.branch_code
        where.append(or_(mine, LoanApplication.assignee == scope.assignee) if scope.assignee else mine)
    return where


def visible(session: Session, scope: Scope, app_no: str) -> LoanApplication | None:
    stmt = select(LoanApplication).where(LoanApplication.app_no == app_no, *_scope_clause(scope))
    return session.exec(stmt).first()


def by_id(session: Session, application_id: int) -> LoanApplication | None:
    return session.get(LoanApplication, application_id)


def insert(session: Session, *, business_date: date, workflow_id_for: Callable[[str], str],
           **fields: Any) -> LoanApplication:
    """Add the row and number it LA<yyyymmdd><id:06d> from its id (flushes, does not commit)."""
    placeholder = uuid.uuid4().hex
    row = LoanApplication(app_no=f"tmp{placeholder[:21]}", workflow_id=f"tmp-{placeholder}", **fields)
    session.add(row)
    session.flush()
    row.app_no = f"LA{business_date:%Y%m%d}{row.id:06d}"
    row.workflow_id = workflow_id_for(row.app_no)
    session.add(row)
    session.flush()
    return row


def search(session: Session, scope: Scope, flt: ApplicationFilter, *, limit: int,
           offset: int) -> tuple[Sequence[tuple[LoanApplication, str]], int]:
    """Newest first, each with the borrower's name (the caller masks it)."""
    where = _scope_clause(scope)
    for column, value in ((LoanApplication.stage, flt.stage), (LoanApplication.status, flt.status),
                          (LoanApplication.channel, flt.channel), (LoanApplication.branch_code, flt.branch_code),
                          (LoanApplication.product_code, flt.product_code)):
        if value is not None:
            where.append(column == value)
    if flt.created_from is not None:
        where.append(col(LoanApplication.created_at) >= flt.created_from)
    if flt.created_before is not None:
        where.append(col(LoanApplication.created_at) < flt.created_before)
    total = session.exec(select(func.count()).select_from(LoanApplication).where(*where)).one()
    stmt = (select(LoanApplication, Customer.name).join(Customer, col(Customer.id) == LoanApplication.customer_id)
            .where(*where).order_by(col(LoanApplication.id).desc()).offset(offset).limit(limit))
    return session.exec(stmt).all(), total


def approval_queue(session: Session, assignee: str, *, limit: int,
                   offset: int) -> tuple[Sequence[tuple[LoanApplication, str]], int]:
    """Applications waiting for a human decision in one queue, the oldest SLA first."""
    where = [LoanApplication.stage == "awaiting_approval", LoanApplication.assignee == assignee]
    total = session.exec(select(func.count()).select_from(LoanApplication).where(*where)).one()
    stmt = (select(LoanApplication, Customer.name).join(Customer, col(Customer.id) == LoanApplication.customer_id)
            .where(*where).order_by(col(LoanApplication.sla_due_at).asc().nulls_last(), col(LoanApplication.id))
            .offset(offset).limit(limit))
    return session.exec(stmt).all(), total


def events(session: Session, application_id: int) -> Sequence[ApplicationEvent]:
    stmt = (select(ApplicationEvent).where(ApplicationEvent.application_id == application_id)
            .order_by(col(ApplicationEvent.seq), col(ApplicationEvent.id)))
    return session.exec(stmt).all()


def documents(session: Session, application_id: int) -> Sequence[Document]:
    stmt = select(Document).where(Document.application_id == application_id).order_by(col(Document.id))
    return session.exec(stmt).all()


def guarantees(session: Session, application_id: int) -> Sequence[tuple[Guarantee, str]]:
    """Every guarantee attempt with the guarantor's name (the caller masks it)."""
    stmt = (select(Guarantee, Customer.name).join(Customer, col(Customer.id) == Guarantee.guarantor_customer_id)
            .where(Guarantee.application_id == application_id)
            .order_by(col(Guarantee.slot), col(Guarantee.attempt)))
    return session.exec(stmt).all()


def line_no_of(session: Session, application_id: int) -> str | None:
    """The credit line an application opened, once it has."""
    return session.exec(select(CreditLine.line_no).where(CreditLine.application_id == application_id)).first()
