"""Idempotency records: one row per (principal, Idempotency-Key), claimed before the work and completed after."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from db.models import IdempotencyRecord


def claim(session: Session, *, principal: str, key: str, method: str, path: str, request_hash: str,
          now: datetime) -> tuple[IdempotencyRecord, bool]:
    """Insert the in-flight row unless one exists; return the row and whether this call created it."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(IdempotencyRecord).values(principal=principal, key=key, method=method, path=path,
                                            request_hash=request_hash, created_at=now).on_conflict_do_nothing()
    # RETURNING yields a row only when this statement inserted it (ORM inserts report no rowcount).
    created = session.exec(stmt.returning(col(IdempotencyRecord.key))).first() is not None
    row = session.get(IdempotencyRecord, (principal, key), populate_existing=True)
    assert row is not None
    return row, created


def retake(session: Session, *, principal: str, key: str, status_code: int | None, created_at: datetime,
           now: datetime) -> bool:
    """Compare-and-set the row back to in flight, so only one of two racing retries re-runs the work."""
    stmt = (update(IdempotencyRecord)
            .where(col(IdempotencyRecord.principal) == principal, col(IdempotencyRecord.key) == key,
                   col(IdempotencyRecord.created_at) == created_at,
                   col(IdempotencyRecord.status_code).is_(None) if status_code is None
                   else col(IdempotencyRecord.status_code) == status_code)
            .values(status_code=None, created_at=now))
    return session.exec(stmt).rowcount == 1


def complete(session: Session, *, principal: str, key: str, status_code: int, response: dict) -> None:
    stmt = (update(IdempotencyRecord)
            .where(col(IdempotencyRecord.principal) == principal, col(IdempotencyRecord.key) == key)
            .values(status_code=status_code, response=response))
    session.exec(stmt)


def release(session: Session, *, principal: str, key: str) -> None:
    stmt = delete(IdempotencyRecord).where(col(IdempotencyRecord.principal) == principal,
                                           col(IdempotencyRecord.key) == key)
    session.exec(stmt)
