"""Moving a request row from one status to the next only from the status it was read in."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import Session, SQLModel, col


def set_status(session: Session, model: type[SQLModel], row_id: int, *, expected: str, status: str,
               **values: Any) -> bool:
    """A compare-and-set on `status`: two people acting at once (two approvers, an approval and a cancel)
    cannot both win. Returns whether this one did; expires the session's objects either way."""
    result = session.execute(update(model).where(col(model.id) == row_id,  # type: ignore[attr-defined]
                                                 col(model.status) == expected)  # type: ignore[attr-defined]
                             .values(status=status, **values))
    session.expire_all()
    return result.rowcount == 1  # type: ignore[attr-defined]
