"""End of day (日终) in SQL: domain.servicing.close_day for a chunk of notes at once, plus the business
calendar and the run's bookkeeping.

A chunk is a range of note ids closed in one short transaction: a few set-based statements over the
chunk, the notices it raises into the servicing_notice outbox, and its eod_chunk row. The row and the
per-note guard `last_eod_date < day` make a retried chunk a no-op, so a crash anywhere loses nothing and
repeats nothing. Money columns are whole fen (db.types.FenAmount), so the arithmetic is exact on
PostgreSQL and SQLite alike. tests/db/test_eod.py holds this equal to close_day note for note.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import and_, case, exists, func, insert, literal, or_, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from db.engine import session_scope
from db.models import BusinessCalendar, EodChunk, EodRun, LoanNote, ScheduleInstallment, ServicingNotice
from domain.servicing import CLASS_THRESHOLDS


class EodPlan(BaseModel):
    business_date: date
    first_note_id: int
    chunk_size: int
    chunks_total: int
    chunks_done: list[int]


class ChunkResult(BaseModel):
    chunk_no: int
    notes: int
    newly_overdue: int
    already_done: bool = False


def utcnow() -> datetime:
    return datetime.now(UTC)


# ---- the business calendar ----

def closed_date(session: Session) -> date | None:
    row = session.get(BusinessCalendar, "main")
    return row.closed_date if row else None


def open_date(session: Session, today: date) -> date:
    """The business date being traded: the day after the last one closed (today before any close)."""
    closed = closed_date(session)
    return closed + timedelta(days=1) if closed else today


def trading_date(session: Session, today: date) -> date:
    """The business date repayments take effect on: today, or the open date if the calendar is ahead
    (a test system moved it forward). End of day may not have closed yesterday yet (it runs after
    midnight): a repayment then brings its note up to date itself (NoteState.as_of)."""
    return max(open_date(session, today), today)


def first_date_to_close(session: Session, through: date) -> date:
    """The next date end of day must close. Before the first run ever, that is the day the earliest note
    being repaid started (so nothing it owes is skipped), or `through` when there is none."""
    closed = closed_date(session)
    if closed is not None:
        return closed + timedelta(days=1)
    earliest = session.exec(select(func.min(LoanNote.start_date)).where(  # type: ignore[call-overload]
        LoanNote.status == "disbursed")).one()[0]
    return min(earliest, through) if earliest else through


def set_closed_date(session: Session, day: date) -> None:
    row = session.get(BusinessCalendar, "main") or BusinessCalendar(closed_date=day)
    row.closed_date, row.updated_at = day, utcnow()
    session.add(row)


# ---- a run ----

def plan(engine: Engine, day: date, chunk_size: int) -> EodPlan:
    """The run for `day`, created on first call: the id range of notes being repaid, cut into chunks."""
    with session_scope(engine) as session:
        closed = closed_date(session)
        if closed is not None and day != closed + timedelta(days=1):
            raise ValueError(f"end of day must close {closed + timedelta(days=1)} next, not {day}")
        run = session.get(EodRun, day)
        if run is None:
            first, last = session.exec(select(func.min(LoanNote.id), func.max(LoanNote.id))  # type: ignore[call-overload]
                                       .where(LoanNote.status == "disbursed")).one()
            first, last = (first or 0), (last or -1)
            total = math.ceil((last - first + 1) / chunk_size) if last >= first else 0
            run = EodRun(business_date=day, first_note_id=first, last_note_id=max(last, 0), chunk_size=chunk_size,
                         chunks_total=total, started_at=utcnow())
            session.add(run)
            session.flush()
        done = list(session.exec(select(EodChunk.chunk_no).where(EodChunk.business_date == day)).scalars())  # type: ignore[call-overload]
        return EodPlan(business_date=day, first_note_id=run.first_note_id, chunk_size=run.chunk_size,
                       chunks_total=run.chunks_total, chunks_done=sorted(done))


def close_chunk(engine: Engine, day: date, chunk_no: int, *, reminder_days: int, freeze_dpd: int) -> ChunkResult:
    with session_scope(engine) as session:
        run = session.get(EodRun, day)
        if run is None:
            raise LookupError(f"no end-of-day run for {day}")
        done = session.get(EodChunk, (day, chunk_no))
        if done is not None:
            return ChunkResult(chunk_no=chunk_no, notes=done.notes, newly_overdue=done.newly_overdue, already_done=True)
        lo = run.first_note_id + chunk_no * run.chunk_size
        hi = lo + run.chunk_size - 1
        if session.get_bind().dialect.name == "postgresql":
            # These statements are short; JIT compiling them cost more than running them (bench/README.md).
            session.exec(text("SET LOCAL jit = off"))  # type: ignore[call-overload]
        newly_overdue, notes = _close(session, day, lo, hi)
        _raise_notices(session, day, chunk_no, lo, hi, reminder_days, freeze_dpd)
        session.add(EodChunk(business_date=day, chunk_no=chunk_no, notes=notes, newly_overdue=newly_overdue,
                             done_at=utcnow()))
        return ChunkResult(chunk_no=chunk_no, notes=notes, newly_overdue=newly_overdue)


def finish(engine: Engine, day: date) -> EodRun:
    with session_scope(engine) as session:
        run = session.get(EodRun, day)
        if run is None:
            raise LookupError(f"no end-of-day run for {day}")
        chunks, notes = session.exec(select(func.count(), func.coalesce(func.sum(EodChunk.notes), 0))  # type: ignore[call-overload]
                                     .where(EodChunk.business_date == day)).one()
        if chunks != run.chunks_total:
            raise RuntimeError(f"end of day {day}: {chunks} of {run.chunks_total} chunks closed")
        if run.status != "completed":
            run.status, run.finished_at, run.chunks_done, run.notes_processed = "completed", utcnow(), chunks, notes
            session.add(run)
            set_closed_date(session, day)
        session.flush()
        session.expunge(run)
        return run


def progress(session: Session, day: date) -> tuple[int, int, int]:
    """(chunks done, chunks in all, notes closed) of the run for `day`."""
    run = session.get(EodRun, day)
    if run is None:
        return 0, 0, 0
    chunks, notes = session.exec(select(func.count(), func.coalesce(func.sum(EodChunk.notes), 0))  # type: ignore[call-overload]
                                 .where(EodChunk.business_date == day)).one()
    return chunks, run.chunks_total, notes


def running(session: Session) -> tuple[date, int, int, int] | None:
    """(date, chunks done, chunks in all, notes closed) of a run not finished yet, whoever started it:
    the daily Schedule gives its runs ids of their own, so ops cannot rely on the workflow id alone."""
    run = session.exec(select(EodRun).where(EodRun.status == "running")  # type: ignore[call-overload]
                       .order_by(EodRun.business_date.desc())).scalars().first()
    if run is None:
        return None
    done, total, notes = progress(session, run.business_date)
    return run.business_date, done, total, notes


def day_counts(session: Session, day: date) -> tuple[int, int]:
    """(installments' notes newly overdue, notices raised) on `day`."""
    newly = session.exec(select(func.coalesce(func.sum(EodChunk.newly_overdue), 0))  # type: ignore[call-overload]
                         .where(EodChunk.business_date == day)).one()[0]
    notices = session.exec(select(func.count()).select_from(ServicingNotice)  # type: ignore[call-overload]
                           .where(ServicingNotice.business_date == day)).one()[0]
    return newly, notices


# ---- the statements ----

def _open_notes(day: date, lo: int, hi: int):  # noqa: ANN202 - a SQL condition
    """Notes in the chunk that are being repaid, have started, and are not yet closed for `day`."""
    return and_(LoanNote.id.between(lo, hi), LoanNote.status == "disbursed",  # type: ignore[union-attr]
                LoanNote.start_date <= day,
                or_(LoanNote.last_eod_date.is_(None), LoanNote.last_eod_date < day))  # type: ignore[union-attr]


def _falling_due(day: date):  # noqa: ANN202
    return and_(ScheduleInstallment.note_id == LoanNote.id, ScheduleInstallment.status == "pending",
                ScheduleInstallment.due_date <= day)


def _close(session: Session, day: date, lo: int, hi: int) -> tuple[int, int]:
    si = ScheduleInstallment
    # Lock the chunk's notes first, in id order. A repayment booking one of them commits before this
    # returns, and each statement below then reads the installments as that booking left them: under
    # READ COMMITTED an UPDATE waiting on a row lock re-reads the row but not its subqueries.
    session.exec(select(LoanNote.id).where(_open_notes(day, lo, hi)).order_by(LoanNote.id)  # type: ignore[call-overload]
                 .with_for_update()).all()
    unpaid = lambda paid, owed: (select(func.coalesce(func.sum(owed - paid), 0))  # noqa: E731
                                 .where(_falling_due(day)).scalar_subquery())
    # 1. Installments falling due move their unpaid amounts into the overdue buckets; a period ended.
    newly = session.exec(update(LoanNote).where(_open_notes(day, lo, hi), exists().where(_falling_due(day)))  # type: ignore[call-overload]
                         .values(overdue_principal=LoanNote.overdue_principal + unpaid(si.paid_principal, si.principal),
                                 overdue_interest=LoanNote.overdue_interest + unpaid(si.paid_interest, si.interest),
                                 accrual_base=0)).rowcount
    # The note_id range keeps this on the note_id index whatever the planner guesses of the due dates.
    session.exec(update(si).where(si.status == "pending", si.due_date <= day, si.note_id.between(lo, hi),  # type: ignore[call-overload]
                                  si.note_id.in_(select(LoanNote.id).where(_open_notes(day, lo, hi))))
                 .values(status="overdue"))
    # 2. One day of 积数, days past due and the class, for every open note in the chunk. SET expressions
    #    all see the row as it was, so the class is computed from the new dpd expression, not the column.
    overdue = LoanNote.overdue_principal + LoanNote.overdue_interest > 0
    dpd = case((overdue, LoanNote.dpd + 1), else_=0)
    restructured = and_(LoanNote.restructured_until.is_not(None), LoanNote.restructured_until >= day)  # type: ignore[union-attr]
    classification = case(*((dpd > above, literal(cls)) for above, cls in CLASS_THRESHOLDS),
                          (restructured, literal("special_mention")), else_=literal("normal"))
    notes = session.exec(update(LoanNote).where(_open_notes(day, lo, hi))  # type: ignore[call-overload]
                         .values(penalty_base=LoanNote.penalty_base + LoanNote.overdue_principal,
                                 compound_base=LoanNote.compound_base + LoanNote.overdue_interest,
                                 accrual_base=LoanNote.accrual_base + LoanNote.outstanding_principal
                                 - LoanNote.overdue_principal,
                                 dpd=dpd, classification=classification, last_eod_date=day)).rowcount
    return newly, notes


def _raise_notices(session: Session, day: date, chunk_no: int, lo: int, hi: int, reminder_days: int,
                   freeze_dpd: int) -> None:
    in_chunk = and_(LoanNote.id.between(lo, hi), LoanNote.status == "disbursed", LoanNote.last_eod_date == day)  # type: ignore[union-attr]
    picks = [select(LoanNote.id, literal("overdue")).where(in_chunk, LoanNote.dpd == 1),
             select(LoanNote.id, literal("freeze")).where(in_chunk, LoanNote.dpd >= freeze_dpd,
                                                           col(LoanNote.line_frozen_for_overdue).is_(False))]
    if reminder_days:
        si = ScheduleInstallment
        picks.append(select(LoanNote.id, literal("due_soon")).where(
            in_chunk, exists().where(si.note_id == LoanNote.id, si.status == "pending",
                                     si.due_date == day + timedelta(days=reminder_days))))
    for pick in picks:
        chosen = pick.subquery()
        session.exec(insert(ServicingNotice).from_select(  # type: ignore[call-overload]
            ["note_id", "kind", "business_date", "chunk_no", "status"],
            select(chosen.c[0], chosen.c[1], literal(day), literal(chunk_no), literal("pending"))))
    # Marked now, in the same transaction, so the line is asked to freeze once per overdue episode.
    session.exec(update(LoanNote).where(in_chunk, LoanNote.dpd >= freeze_dpd,  # type: ignore[call-overload]
                                        col(LoanNote.line_frozen_for_overdue).is_(False))
                 .values(line_frozen_for_overdue=True))
