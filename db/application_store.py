"""Queries the loan-application activities run: the read model the workflows keep current."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from db.models import ApplicationEvent, Customer, Guarantee, LoanApplication

OPEN_STATUSES = ("open", "approved")


def get_application(session: Session, application_id: int) -> LoanApplication:
    app = session.get(LoanApplication, application_id)
    if app is None:
        raise LookupError(f"application {application_id} not found")
    return app


def get_customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise LookupError(f"customer {customer_id} not found")
    return customer


def count_other_open(session: Session, app: LoanApplication) -> int:
    stmt = select(func.count()).select_from(LoanApplication).where(
        LoanApplication.customer_id == app.customer_id,
        LoanApplication.id != app.id,
        LoanApplication.status.in_(OPEN_STATUSES),  # type: ignore[attr-defined]
        LoanApplication.created_at <= app.created_at,
    )
    return session.exec(stmt).one()


def apply_stage(session: Session, app: LoanApplication, *, seq: int, stage: str, status: str, actor: str,
                reason_codes: list[str], assignee: str | None, sla_due_at: datetime | None, detail: dict,
                now: datetime) -> bool:
    """Move the read model to `stage` and append the event; False when this seq was already recorded."""
    exists = session.exec(select(ApplicationEvent.id).where(
        ApplicationEvent.application_id == app.id, ApplicationEvent.seq == seq)).first()
    if exists is not None:
        return False
    app.stage, app.status, app.assignee, app.sla_due_at, app.updated_at = stage, status, assignee, sla_due_at, now
    if reason_codes:
        app.reason_codes = list(reason_codes)
    session.add(app)
    session.add(ApplicationEvent(application_id=app.id, seq=seq, at=now, stage=stage, actor=actor,
                                 detail={**detail, "status": status, "reason_codes": reason_codes}))
    try:
        session.flush()
    except IntegrityError:
        # A concurrent retry of the same write won the race; the event is recorded once.
        session.rollback()
        return False
    return True


def upsert_guarantee(session: Session, *, application_id: int, slot: int, attempt: int, guarantor_customer_id: int,
                     workflow_id: str, status: str, now: datetime) -> None:
    row = session.exec(select(Guarantee).where(Guarantee.workflow_id == workflow_id)).first()
    if row is None:
        row = Guarantee(application_id=application_id, slot=slot, attempt=attempt, workflow_id=workflow_id,
                        guarantor_customer_id=guarantor_customer_id, status=status, updated_at=now)
    else:
        row.status, row.updated_at = status, now
    session.add(row)
