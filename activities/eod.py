"""End-of-day activities: which date to close next, plan it, close each chunk (db/eod.py), deliver the
chunk's notices (SMS, line freezes), finish the date."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.errors import Refused
from adapters.sms.port import SmsGateway
from adapters.sms.texts import render_sms
from db import eod
from db.engine import session_scope
from db.models import CreditLine, Customer, LoanNote, ScheduleInstallment, ServicingNotice
from workflows import names
from workflows.messages import EodChunkInput, EodChunkResult, EodDayPlan, EodDayResult, FreezeSignal

NOTICE_TEMPLATES = {"due_soon": "repayment_due_soon", "overdue": "repayment_overdue", "freeze": "line_frozen_overdue"}


class EodActivities:
    def __init__(self, engine: Engine, sms: SmsGateway, *, chunk_size: int, parallel_chunks: int,
                 reminder_days: int, freeze_dpd: int) -> None:
        self._engine = engine
        self._sms = sms
        self._chunk_size = chunk_size
        # SQLite has one writer: chunks in parallel would only queue on its lock.
        self._parallel = 1 if engine.dialect.name == "sqlite" else parallel_chunks
        self._reminder_days = reminder_days
        self._freeze_dpd = freeze_dpd

    @activity.defn
    def next_business_date(self, through: date) -> date | None:
        """The next date to close, if it is not after `through`."""
        with Session(self._engine) as session:
            day = eod.first_date_to_close(session, through)
        return day if day <= through else None

    @activity.defn
    def plan_day(self, day: date) -> EodDayPlan:
        try:
            plan = eod.plan(self._engine, day, self._chunk_size)
        except ValueError as err:
            raise ApplicationError(str(err), type="EodOutOfOrder", non_retryable=True) from err
        return EodDayPlan(business_date=day, chunks_total=plan.chunks_total, chunks_done=plan.chunks_done,
                          parallel=self._parallel)

    @activity.defn
    def close_chunk(self, request: EodChunkInput) -> EodChunkResult:
        result = eod.close_chunk(self._engine, request.business_date, request.chunk_no,
                                 reminder_days=self._reminder_days, freeze_dpd=self._freeze_dpd)
        return EodChunkResult(chunk_no=result.chunk_no, notes=result.notes, newly_overdue=result.newly_overdue)

    @activity.defn
    async def deliver_notices(self, request: EodChunkInput) -> int:
        """Send the chunk's pending notices; each is marked sent as it goes, so a retry resumes where this
        attempt stopped, and the SMS gateway's idempotency key covers the one in flight at a crash."""
        pending = await asyncio.to_thread(self._pending_notices, request)
        client = activity.client()
        for n, (notice_id, kind, note_id) in enumerate(pending):
            line_workflow_id, status = await asyncio.to_thread(self._send, request.business_date, kind, note_id)
            if kind == "freeze" and line_workflow_id:
                try:
                    await client.get_workflow_handle(line_workflow_id).signal(
                        names.SIGNAL_FREEZE, FreezeSignal(reason_code="OVERDUE", actor="end-of-day"))
                except Exception as err:  # noqa: BLE001 - an expired line has nothing left to freeze
                    activity.logger.info("line %s not frozen: %s", line_workflow_id, type(err).__name__)
            await asyncio.to_thread(self._mark, notice_id, status)
            activity.heartbeat(n + 1)
        return len(pending)

    @activity.defn
    def finish_day(self, day: date) -> EodDayResult:
        run = eod.finish(self._engine, day)
        with Session(self._engine) as session:
            newly, notices = eod.day_counts(session, day)
        return EodDayResult(business_date=day, chunks=run.chunks_done, notes=run.notes_processed,
                            newly_overdue=newly, notices=notices)

    # ---- internals ----

    def _pending_notices(self, request: EodChunkInput) -> list[tuple[int, str, int]]:
        with Session(self._engine) as session:
            query = select(ServicingNotice.id, ServicingNotice.kind, ServicingNotice.note_id).where(
                ServicingNotice.business_date == request.business_date, ServicingNotice.status == "pending")
            if request.chunk_no >= 0:
                query = query.where(ServicingNotice.chunk_no == request.chunk_no)
            rows = session.exec(query.order_by(ServicingNotice.id)).all()
        return [(i, k, n) for i, k, n in rows]  # type: ignore[misc]

    def _send(self, day: date, kind: str, note_id: int) -> tuple[str | None, str]:
        """SMS one notice; returns the line's workflow id for a freeze, and the notice's new status."""
        with Session(self._engine) as session:
            note = session.get(LoanNote, note_id)
            assert note is not None
            customer = session.get(Customer, note.customer_id)
            line = session.get(CreditLine, note.line_id)
            assert customer is not None and line is not None
            params = self._params(session, kind, note, line, customer, day)
        status = "sent"
        try:
            self._sms.send(idempotency_key=f"eod:{day}:{note_id}:{kind}", mobile=customer.mobile,
                           template=NOTICE_TEMPLATES[kind], body=render_sms(NOTICE_TEMPLATES[kind], params))
        except Refused as refused:
            # A number the gateway will never take: the notice is recorded as failed, the day goes on.
            activity.logger.warning("notice %s for note %s refused: %s", kind, note_id, refused.code)
            status = "failed"
        return (line.workflow_id if kind == "freeze" else None), status

    def _params(self, session: Session, kind: str, note: LoanNote, line: CreditLine, customer: Customer,
                day: date) -> dict[str, str]:
        if kind == "freeze":
            return {"note_no": note.note_no, "line_no": line.line_no}
        if kind == "overdue":
            return {"note_no": note.note_no, "amount": f"{note.overdue_principal + note.overdue_interest:,.2f}"}
        due = session.exec(select(ScheduleInstallment).where(
            ScheduleInstallment.note_id == note.id, ScheduleInstallment.status == "pending",
            ScheduleInstallment.due_date == day + timedelta(days=self._reminder_days))).first()
        assert due is not None
        return {"note_no": note.note_no, "due_date": f"{due.due_date:%Y-%m-%d}",
                "amount": f"{due.principal + due.interest - due.paid_principal - due.paid_interest:,.2f}",
                "account_tail": (customer.settlement_account or "")[-4:]}

    def _mark(self, notice_id: int, status: str) -> None:
        with session_scope(self._engine) as session:
            notice = session.get(ServicingNotice, notice_id)
            assert notice is not None
            notice.status, notice.sent_at = status, eod.utcnow()
            session.add(notice)
