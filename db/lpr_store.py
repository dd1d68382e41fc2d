"""The LPR table as data: rows per tenor and effective date; the code's published table while none exist.

A rate entered by staff is a draft until a second person approves it; only approved rates price loans."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from db.models import LprRate
from domain.pricing import LPR_TABLE, LprTable


class LprRefused(Exception):
    """A step of the maker-checker that is not allowed (approving one's own entry, deciding twice...)."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


def table(session: Session) -> LprTable:
    """The approved rates; the code's published table while the database holds none."""
    rows = session.exec(select(LprRate).where(LprRate.status == "approved")
                        .order_by(col(LprRate.effective_from))).all()
    if not rows:
        return LPR_TABLE
    out: dict[date, dict[str, Decimal]] = {}
    for row in rows:
        out.setdefault(row.effective_from, {})[row.tenor] = row.rate
    return sorted(out.items())


def rows(session: Session) -> list[LprRate]:
    return list(session.exec(select(LprRate).order_by(col(LprRate.effective_from).desc(), col(LprRate.tenor),
                                                      col(LprRate.id).desc())).all())


def get(session: Session, rate_id: int, *, lock: bool = False) -> LprRate | None:
    return session.get(LprRate, rate_id, with_for_update=lock)


def install_defaults(session: Session, now: datetime) -> int:
    """The published rates from code, approved, where the table is empty."""
    if session.exec(select(LprRate).limit(1)).first() is not None:
        return 0
    added = 0
    for day, rates in LPR_TABLE:
        for tenor, rate in rates.items():
            session.add(LprRate(tenor=tenor, effective_from=day, rate=rate, status="approved", created_by="system",
                                created_at=now, decided_by="system", decided_at=now))
            added += 1
    session.flush()
    return added


def exists(session: Session, tenor: str, effective_from: date) -> bool:
    """A draft or approved rate for this tenor and date (a rejected one leaves room for a new entry)."""
    return session.exec(select(LprRate).where(LprRate.tenor == tenor, LprRate.effective_from == effective_from,
                                              LprRate.status != "rejected")).first() is not None


def add(session: Session, *, tenor: str, effective_from: date, rate: Decimal, by: str, now: datetime) -> LprRate:
    """A draft: it prices nothing until a second person approves it."""
    if not session.exec(select(LprRate).limit(1)).first():
        install_defaults(session, now)  # the code's history stays in force for the dates it covers
    row = LprRate(tenor=tenor, effective_from=effective_from, rate=rate, status="draft", created_by=by,
                  created_at=now)
    session.add(row)
    session.flush()
    return row


def approve(session: Session, row: LprRate, *, by: str, now: datetime) -> LprRate:
    _check_decidable(row, by)
    row.status, row.decided_by, row.decided_at = "approved", by, now
    session.add(row)
    session.flush()
    return row


def reject(session: Session, row: LprRate, *, by: str, reason: str, now: datetime) -> LprRate:
    _check_decidable(row, by)
    row.status, row.decided_by, row.decided_at, row.reject_reason = "rejected", by, now, reason
    session.add(row)
    session.flush()
    return row


def _check_decidable(row: LprRate, by: str) -> None:
    if row.status != "draft":
        raise LprRefused("LPR_NOT_DRAFT", "该 LPR 已审核", "this LPR entry has already been approved or rejected")
    if row.created_by == by:
        raise LprRefused("MAKER_CHECKER", "LPR 须由录入人以外的人员审核",
                         "an LPR entry is approved or rejected by someone other than who entered it")
