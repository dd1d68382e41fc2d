"""Changes of a customer's mobile number and the decisions on them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from db.models import MobileChange
from db.repositories import state

OPEN = ("awaiting_code", "awaiting_approval")


def insert(session: Session, **fields: Any) -> MobileChange:
    row = MobileChange(**fields)
    session.add(row)
    session.flush()
    return row


def get(session: Session, change_id: int) -> MobileChange | None:
    return session.get(MobileChange, change_id)


def open_for(session: Session, customer_id: int) -> MobileChange | None:
    return session.exec(select(MobileChange).where(MobileChange.customer_id == customer_id,
                                                   col(MobileChange.status).in_(OPEN))).first()


def for_customer(session: Session, customer_id: int) -> Sequence[MobileChange]:
    return session.exec(select(MobileChange).where(MobileChange.customer_id == customer_id)
                        .order_by(col(MobileChange.id).desc())).all()


def set_status(session: Session, change_id: int, *, expected: str, status: str, **values: Any) -> bool:
    """Move the request on only from the state it was read in, so two people acting at once cannot both win."""
    return state.set_status(session, MobileChange, change_id, expected=expected, status=status, **values)


def mark_old_notified(session: Session, change_id: int) -> None:
    """The notice of the change reached the old number."""
    session.execute(update(MobileChange).where(col(MobileChange.id) == change_id).values(old_mobile_notified=True))
