"""Transfers and shares of archives between customer managers, and the decisions on them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from db.models import ArchiveTransfer
from db.repositories import state

OPEN = "pending"


def insert(session: Session, **fields: Any) -> ArchiveTransfer:
    row = ArchiveTransfer(**fields)
    session.add(row)
    session.flush()
    return row


def get(session: Session, transfer_id: int) -> ArchiveTransfer | None:
    return session.get(ArchiveTransfer, transfer_id)


def open_request(session: Session, household_id: int) -> ArchiveTransfer | None:
    """The archive's pending transfer, if any: one at a time keeps who manages it unambiguous."""
    return session.exec(select(ArchiveTransfer).where(ArchiveTransfer.household_id == household_id,
                                                      ArchiveTransfer.kind == "transfer",
                                                      ArchiveTransfer.status == OPEN)).first()


def share_in_force_or_pending(session: Session, household_id: int, staff_id: int) -> ArchiveTransfer | None:
    return session.exec(select(ArchiveTransfer).where(
        ArchiveTransfer.household_id == household_id, ArchiveTransfer.kind == "share",
        ArchiveTransfer.to_staff_id == staff_id, col(ArchiveTransfer.status).in_([OPEN, "approved"]))).first()


def set_status(session: Session, transfer_id: int, *, expected: str, status: str, **values: Any) -> bool:
    """Move the request on only from the state it was read in, so two people acting at once cannot both win."""
    return state.set_status(session, ArchiveTransfer, transfer_id, expected=expected, status=status, **values)


def for_household(session: Session, household_id: int) -> Sequence[ArchiveTransfer]:
    return session.exec(select(ArchiveTransfer).where(ArchiveTransfer.household_id == household_id)
                        .order_by(col(ArchiveTransfer.id).desc())).all()


def listing(session: Session, *, branch_code: str | None, involving_staff_id: int | None, status: str | None,
            limit: int, offset: int) -> Sequence[ArchiveTransfer]:
    stmt = select(ArchiveTransfer)
    if branch_code is not None:
        stmt = stmt.where(ArchiveTransfer.branch_code == branch_code)
    if involving_staff_id is not None:
        stmt = stmt.where(or_(ArchiveTransfer.from_staff_id == involving_staff_id,
                              ArchiveTransfer.to_staff_id == involving_staff_id,
                              ArchiveTransfer.requested_by == involving_staff_id))
    if status is not None:
        stmt = stmt.where(ArchiveTransfer.status == status)
    return session.exec(stmt.order_by(col(ArchiveTransfer.id).desc()).offset(offset).limit(limit)).all()
