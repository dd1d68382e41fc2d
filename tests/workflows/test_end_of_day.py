"""EndOfDayWorkflow on a database of its own: dates closed in order, notices delivered, the line frozen
at the configured days past due, a crashed chunk resumed without being done twice; the daily Schedule."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlmodel import Session, select
from temporalio import activity
from temporalio.client import ScheduleCalendarSpec

from activities.eod import EodActivities
from db.engine import make_engine, session_scope
from db.eod import set_closed_date
from db.metadata import metadata
from db.models import CreditLine, EodChunk, LoanNote, ServicingNotice
from db.servicing_store import installment_rows, to_state
from domain.servicing import project
from services.schedules import ensure_schedules
from tests import factories
from tests.conftest import scratch_database
from tests.workflows.support import running_worker, until
from workflows import names
from workflows.credit_line import CreditLineWorkflow
from workflows.messages import CreditLineInput, EodChunkInput, EodChunkResult, EodInput, EodProgress

START = date(2026, 1, 10)


@pytest.fixture
def own_pg():
    with scratch_database() as url:
        eng = make_engine(url)
        metadata.create_all(eng)
        # Workflow ids come from application numbers, and the session's other databases share this
        # Temporal server: number these well clear of theirs (as tests/e2e does).
        with eng.begin() as conn:
            conn.execute(text("ALTER SEQUENCE loan_application_id_seq RESTART WITH 700001"))
        yield eng
        eng.dispose()


def states(engine):
    with Session(engine) as s:
        return {n.note_no: to_state(n, installment_rows(s, n.id)) for n in s.exec(select(LoanNote))}


async def test_closing_six_weeks_reminds_warns_and_freezes_the_line(dev_env, own_pg, settings):
    engine = own_pg
    product = factories.ensure_reference_data(engine)
    notes = [factories.disbursed_note(engine, start=START) for _ in range(3)]
    expected = {no: project(s, date(2026, 2, 20)) for no, s in states(engine).items()}
    with session_scope(engine) as s:
        set_closed_date(s, START - timedelta(days=1))
        line = s.get(CreditLine, notes[0].line_id)
    eod_settings = settings.model_copy(update={"eod_chunk_size": 2, "database_url": str(engine.url)})
    async with running_worker(dev_env.client, engine, eod_settings) as (queue, adapters):
        line_handle = await dev_env.client.start_workflow(
            CreditLineWorkflow.run, CreditLineInput(line_id=line.id, line_no=line.line_no, customer_id=line.customer_id,
                                                    branch_code=line.branch_code, product=product, amount=line.amount,
                                                    revolving=True, expiry_date=line.expiry_date,
                                                    max_term_months=36, drawn_total=Decimal("12000"),
                                                    outstanding_principal=Decimal("12000")),
            id=line.workflow_id, task_queue=queue)
        handle = await dev_env.client.start_workflow(names.END_OF_DAY, EodInput(through=date(2026, 2, 20)),
                                                     id=names.END_OF_DAY_WORKFLOW_ID + "-t1", task_queue=queue,
                                                     result_type=EodProgress)
        progress = await handle.result()
        # the last 31 dates closed, in order, each over all three notes
        assert [d.business_date for d in progress.days_closed] == [date(2026, 2, 20) - timedelta(days=30 - k)
                                                                   for k in range(31)]
        assert {d.notes for d in progress.days_closed} == {3}
        assert states(engine) == expected
        def notices():
            with Session(engine) as s:
                return s.exec(select(ServicingNotice)).all()
        # Each date's notices go out in a child workflow of their own, after the date closed.
        await until(lambda: {n.status for n in notices()} == {"sent"}, timeout=60)
        assert {(n.kind, n.business_date) for n in notices()} == {
            ("due_soon", date(2026, 2, 7)), ("overdue", date(2026, 2, 10)), ("freeze", date(2026, 2, 17))}
        assert len(notices()) == 9
        templates = [m.template for m in adapters.sms.outbox(limit=100)]
        assert sorted(templates) == sorted(["repayment_due_soon", "repayment_overdue", "line_frozen_overdue"] * 3)
        await until(lambda: _line_status(line_handle, "frozen"))


async def _line_status(handle, status: str) -> bool:
    return (await handle.query(names.QUERY_STATE))["status"] == status


async def test_a_chunk_that_crashed_after_committing_is_not_closed_twice(dev_env, own_pg, settings):
    engine = own_pg
    factories.ensure_reference_data(engine)
    for _ in range(4):
        factories.disbursed_note(engine, start=START)
    expected = {no: project(s, date(2026, 2, 12)) for no, s in states(engine).items()}
    real = EodActivities(engine, None, chunk_size=2, parallel_chunks=2, reminder_days=3, freeze_dpd=8)
    crashes: list[int] = []

    @activity.defn(name="close_chunk")
    def crash_once(request: EodChunkInput) -> EodChunkResult:
        result = real.close_chunk(request)  # committed...
        if request.chunk_no == 1 and not crashes:
            crashes.append(request.chunk_no)
            raise RuntimeError("worker lost after the commit")  # ...but the answer never arrived
        return result

    eod_settings = settings.model_copy(update={"eod_chunk_size": 2})
    with session_scope(engine) as s:
        set_closed_date(s, START - timedelta(days=1))
    async with running_worker(dev_env.client, engine, eod_settings, replace={"close_chunk": crash_once}) as (queue, _):
        await dev_env.client.execute_workflow(names.END_OF_DAY, EodInput(through=date(2026, 2, 12)),
                                              id=names.END_OF_DAY_WORKFLOW_ID + "-t2", task_queue=queue)
    assert crashes == [1]
    assert states(engine) == expected
    with Session(engine) as s:
        assert len(s.exec(select(EodChunk)).all()) == 2 * 34  # two chunks a day, Jan 10 to Feb 12, once each


async def test_the_worker_keeps_one_daily_schedule_at_the_configured_beijing_time(dev_env, settings):
    configured = settings.model_copy(update={"eod_schedule_time": "00:10"})
    await ensure_schedules(dev_env.client, configured)
    await ensure_schedules(dev_env.client, configured.model_copy(update={"eod_schedule_time": "01:30"}))
    described = await dev_env.client.get_schedule_handle(names.END_OF_DAY_SCHEDULE_ID).describe()
    calendar: ScheduleCalendarSpec = described.schedule.spec.calendars[0]
    assert (calendar.hour[0].start, calendar.minute[0].start) == (17, 30)  # 01:30 Beijing = 17:30 UTC
    assert described.schedule.action.workflow == names.END_OF_DAY
    assert described.schedule.action.id == names.END_OF_DAY_WORKFLOW_ID
