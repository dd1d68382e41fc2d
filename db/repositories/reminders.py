"""The manager's task list: self-set reminders, and the reads behind the marketing, care and approval reminders."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlalchemy import exists, or_, update
from sqlmodel import Session, col, select

from db.models import CreditLine, CustomerRating, HouseholdMember, LoanApplication, StaffReminder

OPEN_LINE = ("active", "frozen")
OPEN_APPLICATION = ("open", "approved")


def insert(session: Session, **fields: object) -> StaffReminder:
    row = StaffReminder(**fields)
    session.add(row)
    session.flush()
    return row


def open_for(session: Session, staff_id: int, *, due_by: date) -> Sequence[StaffReminder]:
    return session.exec(select(StaffReminder).where(StaffReminder.staff_id == staff_id,
                                                    col(StaffReminder.done_at).is_(None),
                                                    StaffReminder.due_date <= due_by)
                        .order_by(col(StaffReminder.due_date), col(StaffReminder.id))).all()


def mark_done(session: Session, staff_id: int, reminder_id: int, at: datetime) -> bool:
    result = session.execute(update(StaffReminder).where(col(StaffReminder.id) == reminder_id,
                                                         col(StaffReminder.staff_id) == staff_id,
                                                         col(StaffReminder.done_at).is_(None)).values(done_at=at))
    return result.rowcount == 1  # type: ignore[attr-defined]


def get(session: Session, reminder_id: int) -> StaffReminder | None:
    return session.get(StaffReminder, reminder_id)


def well_rated_without_credit(session: Session, customer_ids: Collection[int],
                              grades: Collection[str]) -> Sequence[tuple[int, str]]:
    """(customer id, grade) of those rated within `grades` who hold no open credit line and have no open
    application: the marketing model's candidates."""
    if not customer_ids:
        return []
    has_line = exists().where(CreditLine.customer_id == CustomerRating.customer_id,
                              col(CreditLine.status).in_(OPEN_LINE))
    has_application = exists().where(LoanApplication.customer_id == CustomerRating.customer_id,
                                     col(LoanApplication.status).in_(OPEN_APPLICATION))
    return session.exec(select(CustomerRating.customer_id, CustomerRating.grade).where(
        col(CustomerRating.customer_id).in_(list(customer_ids)), col(CustomerRating.grade).in_(list(grades)),
        ~has_line, ~has_application).order_by(col(CustomerRating.customer_id))).all()


def member_birthdays(session: Session, household_ids: Collection[int]) -> Sequence[tuple[int, str, date]]:
    if not household_ids:
        return []
    return session.exec(select(HouseholdMember.household_id, HouseholdMember.name, HouseholdMember.birth_date).where(
        col(HouseholdMember.household_id).in_(list(household_ids)),
        col(HouseholdMember.birth_date).is_not(None))).all()  # type: ignore[return-value]


def applications_waiting(session: Session, staff_id: int, customer_ids: Collection[int],
                         stages: Collection[str]) -> Sequence[LoanApplication]:
    """Applications the manager started, or of customers they manage, in a stage that waits on someone."""
    mine = LoanApplication.initiator_staff_id == staff_id
    theirs = col(LoanApplication.customer_id).in_(list(customer_ids)) if customer_ids else None
    return session.exec(select(LoanApplication).where(col(LoanApplication.stage).in_(list(stages)),
                                                      or_(mine, theirs) if theirs is not None else mine)
                        .order_by(col(LoanApplication.id))).all()
