"""End of day in SQL (db/eod.py) against the domain's close_day, note for note, on PostgreSQL and SQLite."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from db import eod
from db.engine import make_engine, session_scope
from db.metadata import metadata
from db.models import LoanNote, ServicingNotice
from db.servicing_store import installment_rows, note_for_update, save_state, to_state
from domain.servicing import allocate, apply, close_day, dues
from tests.conftest import scratch_database
from tests.factories import disbursed_note

START = date(2026, 1, 10)


def close(engine, day: date, chunk_size: int = 2) -> None:
    plan = eod.plan(engine, day, chunk_size)
    for chunk in range(plan.chunks_total):
        eod.close_chunk(engine, day, chunk, reminder_days=3, freeze_dpd=8)
    eod.finish(engine, day)


def states(engine) -> dict[str, object]:
    with Session(engine) as s:
        return {n.note_no: to_state(n, installment_rows(s, n.id)) for n in s.exec(select(LoanNote))}


def test_sql_end_of_day_equals_the_domain_close_day_note_for_note(own_engine):
    notes = [disbursed_note(own_engine, method=m, start=START + timedelta(days=k), months=3 + k)
             for k, m in enumerate(["equal_installment", "equal_principal", "interest_monthly",
                                    "interest_quarterly", "bullet"])]
    expected = states(own_engine)
    day = START
    while day <= date(2026, 6, 30):
        close(own_engine, day)
        expected = {no: close_day(s, day) for no, s in expected.items()}
        if day == date(2026, 3, 20):  # a partial repayment on one note, booked between two days
            with session_scope(own_engine) as s:
                note = note_for_update(s, notes[1].note_no)
                rows = installment_rows(s, note.id)
                state = to_state(note, rows)
                after = apply(state, allocate(state, Decimal("700.00"), state.value_date(day)))
                save_state(s, note, rows, after)
            expected[notes[1].note_no] = after
        assert states(own_engine) == expected, day
        day += timedelta(days=1)
    worst = max(expected.values(), key=lambda s: s.dpd)
    assert worst.dpd > 90 and worst.classification == "substandard"
    bullet = next(s for s in expected.values() if s.method == "bullet")  # matures in August
    assert bullet.dpd == 0 and bullet.accrued_interest > 0
    assert all(s.penalty_base + s.compound_base > 0 for s in expected.values() if s is not bullet)


def test_a_chunk_closed_twice_changes_nothing_the_second_time(own_engine):
    disbursed_note(own_engine, start=START)
    eod.plan(own_engine, START, 10)
    first = eod.close_chunk(own_engine, START, 0, reminder_days=3, freeze_dpd=8)
    before = states(own_engine)
    again = eod.close_chunk(own_engine, START, 0, reminder_days=3, freeze_dpd=8)
    assert (first.notes, again.already_done, again.notes) == (1, True, 1)
    assert states(own_engine) == before


def test_dates_close_in_order_and_a_run_finishes_only_when_every_chunk_is_closed(own_engine):
    for _ in range(3):
        disbursed_note(own_engine, start=START)
    plan = eod.plan(own_engine, START, 2)
    assert plan.chunks_total == 2
    eod.close_chunk(own_engine, START, 0, reminder_days=3, freeze_dpd=8)
    with pytest.raises(RuntimeError, match="1 of 2"):
        eod.finish(own_engine, START)
    eod.close_chunk(own_engine, START, 1, reminder_days=3, freeze_dpd=8)
    assert eod.finish(own_engine, START).notes_processed == 3
    with pytest.raises(ValueError, match="2026-01-11"):
        eod.plan(own_engine, START + timedelta(days=2), 2)
    with Session(own_engine) as s:
        assert eod.open_date(s, date(2030, 1, 1)) == START + timedelta(days=1)


def test_notices_before_the_due_date_on_the_first_overdue_day_and_at_the_freeze(own_engine):
    note = disbursed_note(own_engine, start=START)  # first due date 2026-02-10
    day = START
    while day <= date(2026, 2, 17):
        close(own_engine, day)
        day += timedelta(days=1)
    with Session(own_engine) as s:
        notices = {(n.kind, n.business_date) for n in s.exec(select(ServicingNotice))}
        frozen = s.get(LoanNote, note.id).line_frozen_for_overdue
    assert notices == {("due_soon", date(2026, 2, 7)), ("overdue", date(2026, 2, 10)), ("freeze", date(2026, 2, 17))}
    assert frozen


def test_a_note_repaid_in_full_stops_accruing(own_engine):
    disbursed_note(own_engine, start=START)
    close(own_engine, START)
    with session_scope(own_engine) as s:
        note = s.exec(select(LoanNote)).one()
        rows = installment_rows(s, note.id)
        state = to_state(note, rows)
        payoff = dues(state, state.value_date(START)).payoff
        save_state(s, note, rows, apply(state, allocate(state, payoff, state.value_date(START))))
    close(own_engine, START + timedelta(days=1))
    with Session(own_engine) as s:
        note = s.exec(select(LoanNote)).one()
        assert (note.status, note.last_eod_date, note.settled_on) == ("settled", START, START + timedelta(days=1))


def test_the_first_run_ever_starts_on_the_earliest_disbursement(own_engine):
    with Session(own_engine) as s:
        assert eod.first_date_to_close(s, date(2026, 3, 1)) == date(2026, 3, 1)  # no notes: just `through`
    disbursed_note(own_engine, start=START + timedelta(days=5))
    disbursed_note(own_engine, start=START)
    with Session(own_engine) as s:
        assert eod.first_date_to_close(s, date(2026, 3, 1)) == START
        assert eod.first_date_to_close(s, START - timedelta(days=3)) == START - timedelta(days=3)
    close(own_engine, START)
    with Session(own_engine) as s:
        assert eod.first_date_to_close(s, date(2026, 3, 1)) == START + timedelta(days=1)


def test_a_repayment_committing_while_a_chunk_waits_for_its_note_is_seen_by_the_chunk():
    """PostgreSQL, READ COMMITTED: end of day must not read the installments from before a repayment it
    waited for, or it books a paid installment as overdue."""
    with scratch_database() as url:
        engine = make_engine(url)
        metadata.create_all(engine)
        note = disbursed_note(engine, start=START)
        day = START
        while day < date(2026, 2, 10):
            close(engine, day, chunk_size=10)
            day += timedelta(days=1)
        eod.plan(engine, day, 10)
        booking = Session(engine, expire_on_commit=False)
        row = note_for_update(booking, note.note_no)
        rows = installment_rows(booking, row.id)
        state = to_state(row, rows)
        paid = apply(state, allocate(state, Decimal("1048.00"), state.value_date(day)))
        save_state(booking, row, rows, paid)
        booking.flush()  # the note stays locked until the commit below
        chunk = threading.Thread(target=eod.close_chunk, args=(engine, day, 0),
                                 kwargs={"reminder_days": 3, "freeze_dpd": 8})
        chunk.start()
        time.sleep(1.0)
        booking.commit()
        booking.close()
        chunk.join(30)
        eod.finish(engine, day)
        assert states(engine)[note.note_no] == close_day(paid, day)
        engine.dispose()


def test_a_run_not_finished_shows_as_running_whoever_started_it(own_engine):
    disbursed_note(own_engine, start=START)
    disbursed_note(own_engine, start=START)
    with Session(own_engine) as s:
        assert eod.running(s) is None
    eod.plan(own_engine, START, 1)
    eod.close_chunk(own_engine, START, 0, reminder_days=3, freeze_dpd=8)
    with Session(own_engine) as s:
        assert eod.running(s) == (START, 1, 2, 1)
    eod.close_chunk(own_engine, START, 1, reminder_days=3, freeze_dpd=8)
    eod.finish(own_engine, START)
    with Session(own_engine) as s:
        assert eod.running(s) is None
