"""Shared parts of the outside-system simulators (adapters/*/simulator.py): UTC columns, latency, faults."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

from adapters.errors import AdapterUnavailable, OutcomeUnknown, Refused
from db.engine import session_scope
from db.types import UtcDateTime  # also imported from here by the initial migration

FAULT_KIND = re.compile(r"^(unavailable|timeout_after_commit|refuse:[A-Z][A-Z0-9_]{0,47})$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_field(**kw: Any) -> Any:
    return Field(sa_type=UtcDateTime, **kw)


class FaultRow(SQLModel):
    """Columns of every <prefix>_fault table: a pending fault for one operation, used up `remaining` times."""

    id: int | None = Field(default=None, primary_key=True)
    operation: str = Field(max_length=32, index=True)
    kind: str = Field(max_length=64)
    remaining: int
    created_at: datetime = utc_field()


def insert_ignore(session: Session, table: type[SQLModel], **values: Any) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, inside the caller's transaction (PostgreSQL and SQLite)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise ValueError(f"simulators support PostgreSQL and SQLite, not {dialect}")
    session.exec(insert(table).values(**values).on_conflict_do_nothing())


class SimulatedLink:
    """The wire to one outside system: adds latency and fires faults stored in the database.

    Faults live in a table rather than in memory so a test or the API can inject them into a worker
    running in another process.
    """

    def __init__(
        self, engine: Engine, *, system: str, fault_table: type[FaultRow], operations: frozenset[str],
        latency_s: float = 0.0, answer_delay_s: float = 0.0, delayed_answers: frozenset[str] | None = None,
    ) -> None:
        if latency_s < 0 or answer_delay_s < 0:
            raise ValueError("latency_s and answer_delay_s must be >= 0")
        self._engine = engine
        self._system = system
        self._faults = fault_table
        self.operations = operations
        self.latency_s = latency_s
        # A slow answer after the work is committed: the window in which a caller may die or time out.
        self.answer_delay_s = answer_delay_s
        self.delayed_answers = operations if delayed_answers is None else delayed_answers

    def inject_fault(self, *, operation: str, kind: str, times: int = 1) -> None:
        if operation not in self.operations:
            raise ValueError(f"unknown {self._system} operation {operation!r}; one of {sorted(self.operations)}")
        if not FAULT_KIND.match(kind):
            raise ValueError(f"unknown fault kind {kind!r}: unavailable | timeout_after_commit | refuse:<CODE>")
        if times < 1:
            raise ValueError("times must be >= 1")
        with session_scope(self._engine) as session:
            session.add(self._faults(operation=operation, kind=kind, remaining=times, created_at=utcnow()))

    def clear_faults(self) -> None:
        with session_scope(self._engine) as session:
            session.exec(update(self._faults).values(remaining=0))

    def pending_faults(self, operation: str | None = None) -> int:
        with Session(self._engine) as session:
            query = select(self._faults.remaining).where(self._faults.remaining > 0)
            if operation is not None:
                query = query.where(self._faults.operation == operation)
            return sum(session.exec(query).all())

    def _take(self, operation: str) -> str | None:
        table = self._faults
        with session_scope(self._engine) as session:
            pending = session.exec(
                select(table.id, table.kind)
                .where(table.operation == operation, table.remaining > 0)
                .order_by(table.id)
            ).all()
            for fault_id, kind in pending:
                # The guarded decrement is the claim: of two workers racing for the last use, one wins.
                claimed = session.exec(
                    update(table).where(table.id == fault_id, table.remaining > 0)
                    .values(remaining=table.remaining - 1)
                ).rowcount
                if claimed:
                    return kind
        return None

    @contextmanager
    def call(self, operation: str) -> Iterator[None]:
        """Wrap one operation: sleep, then fire a pending fault before or after the operation's commit."""
        if self.latency_s:
            time.sleep(self.latency_s)
        kind = self._take(operation)
        if kind == "unavailable":
            raise AdapterUnavailable(f"{self._system} did not answer {operation} (injected fault)")
        if kind is not None and kind.startswith("refuse:"):
            raise Refused(kind.removeprefix("refuse:"), f"{self._system} refused {operation} (injected fault)")
        lose_answer = kind == "timeout_after_commit"
        try:
            yield
        except Refused as refusal:
            # The answer is lost whatever it was: the caller sees a timeout, not the refusal.
            if lose_answer:
                raise OutcomeUnknown(f"{self._system} timed out on {operation} (injected fault)") from refusal
            raise
        if self.answer_delay_s and operation in self.delayed_answers:
            time.sleep(self.answer_delay_s)
        if lose_answer:
            raise OutcomeUnknown(f"{self._system} timed out on {operation} after committing (injected fault)")
