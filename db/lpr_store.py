"""The LPR table as data: rows per tenor and effective date; the code's published table while none exist."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from db.models import LprRate
from domain.pricing import LPR_TABLE, LprTable


def table(session: Session) -> LprTable:
    rows = session.exec(select(LprRate).order_by(col(LprRate.effective_from))).all()
    if not rows:
        return LPR_TABLE
    out: dict[date, dict[str, Decimal]] = {}
    for row in rows:
        out.setdefault(row.effective_from, {})[row.tenor] = row.rate
    return sorted(out.items())


def rows(session: Session) -> list[LprRate]:
    return list(session.exec(select(LprRate).order_by(col(LprRate.effective_from).desc(), col(LprRate.tenor))).all())


def install_defaults(session: Session, now: datetime) -> int:
    """The published rates from code, where the table is empty."""
    if session.exec(select(LprRate).limit(1)).first() is not None:
        return 0
    added = 0
    for day, rates in LPR_TABLE:
        for tenor, rate in rates.items():
            session.add(LprRate(tenor=tenor, effective_from=day, rate=rate, created_by="system", created_at=now))
            added += 1
    session.flush()
    return added


def exists(session: Session, tenor: str, effective_from: date) -> bool:
    return session.exec(select(LprRate).where(LprRate.tenor == tenor,
                                              LprRate.effective_from == effective_from)).first() is not None


def add(session: Session, *, tenor: str, effective_from: date, rate: Decimal, by: str, now: datetime) -> LprRate:
    if not session.exec(select(LprRate).limit(1)).first():
        install_defaults(session, now)  # the code's history stays in force for the dates it covers
    row = LprRate(tenor=tenor, effective_from=effective_from, rate=rate, created_by=by, created_at=now)
    session.add(row)
    session.flush()
    return row
