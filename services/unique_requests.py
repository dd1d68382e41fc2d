"""Check-then-insert for requests the database also holds unique (a partial unique index): the check gives
the friendly 409 on the usual path; when two requests pass it at once, the index lets one in and the other
gets the same 409 from the check run again after its rollback."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from services.errors import ProblemError

T = TypeVar("T")


def insert_unless(session: Session, conflict: Callable[[], ProblemError | None], insert: Callable[[], T]) -> T:
    """`insert()` unless `conflict()` finds the request already made; the caller commits. An IntegrityError
    that the check does not explain (another constraint) is raised as it is."""
    found = conflict()
    if found is not None:
        raise found
    try:
        return insert()
    except IntegrityError as exc:
        session.rollback()
        found = conflict()
        if found is None:
            raise
        raise found from exc
