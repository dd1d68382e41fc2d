"""Staff users: look-ups for login and for decisions that need the approver's authority."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, func, select

from db.models import StaffUser


def by_username(session: Session, username: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(StaffUser.username == username)).first()


def get(session: Session, staff_id: int) -> StaffUser | None:
    return session.get(StaffUser, staff_id)


def highest_authority(session: Session, branch_code: str) -> Decimal | None:
    """The largest amount any active approver of the branch may approve; None when it has none."""
    return session.exec(select(func.max(StaffUser.authority_limit)).where(
        StaffUser.branch_code == branch_code, StaffUser.role == "approver", StaffUser.active)).one()
