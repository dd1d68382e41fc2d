"""Staff users: look-ups for login and for decisions that need the approver's authority."""

from __future__ import annotations

from sqlmodel import Session, select

from db.models import StaffUser


def by_username(session: Session, username: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(StaffUser.username == username)).first()


def get(session: Session, staff_id: int) -> StaffUser | None:
    return session.get(StaffUser, staff_id)
