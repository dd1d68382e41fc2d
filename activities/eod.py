"""End-of-day activities: which date to close next, plan it, close each chunk (db/eod.py), deliver the
chunk's notices (SMS, line freezes), finish the date."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import update
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

# Notices read, sent and marked together; at most this many are sent twice after a crash.
NOTICE_BATCH = 200
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
    def notice_chunks(self, day: date) -> list[int]:
        """The chunks of `day` with notices still to deliver."""
        with Session(self._engine) as session:
            return sorted(session.exec(select(ServicingNotice.chunk_no).distinct().where(
                ServicingNotice.business_date == day, ServicingNotice.status == "pending")).all())

    @activity.defn
    async def deliver_notices(self, request: EodChunkInput) -> int:
        """Send a chunk's pending notices (chunk -1: the whole date's) in batches: one read for the batch,
        the texts, the line freezes, then one write marking the batch. A crash re-sends at most one batch,
        which the SMS gateway's idempotency key (`eod:<date>:<note id>:<kind>`) absorbs."""
        client = activity.client()
        delivered = 0
        while True:
            batch = await asyncio.to_thread(self._pending_batch, request)
            if not batch:
                return delivered
            outcomes = await asyncio.to_thread(self._send_batch, request.business_date, batch)
            for notice in batch:
                if notice.kind == "freeze":
                    try:
                        await client.get_workflow_handle(notice.line_workflow_id).signal(
                            names.SIGNAL_FREEZE, FreezeSignal(reason_code="OVERDUE", actor="end-of-day"))
                    except Exception as err:  # noqa: BLE001 - an expired line has nothing left to freeze
                        activity.logger.info("line %s not frozen: %s", notice.line_workflow_id, type(err).__name__)
            await asyncio.to_thread(self._mark, outcomes)
            delivered += len(batch)
            activity.heartbeat(delivered)

    @activity.defn
    def finish_day(self, day: date) -> EodDayResult:
        run = eod.finish(self._engine, day)
        with Session(self._engine) as session:
            newly, notices = eod.day_counts(session, day)
        return EodDayResult(business_date=day, chunks=run.chunks_done, notes=run.notes_processed,
                            newly_overdue=newly, notices=notices)

    # ---- internals ----

    def _pending_batch(self, request: EodChunkInput) -> list[_Notice]:
        """Up to NOTICE_BATCH pending notices with all their texts need, in two reads."""
        with Session(self._engine) as session:
            query = (select(ServicingNotice.id, ServicingNotice.kind, LoanNote, Customer.mobile,
                            Customer.settlement_account, CreditLine.line_no, CreditLine.workflow_id)
                     .join(LoanNote, LoanNote.id == ServicingNotice.note_id)
                     .join(Customer, Customer.id == LoanNote.customer_id)
                     .join(CreditLine, CreditLine.id == LoanNote.line_id)
                     .where(ServicingNotice.business_date == request.business_date,
                            ServicingNotice.status == "pending"))
            if request.chunk_no >= 0:
                query = query.where(ServicingNotice.chunk_no == request.chunk_no)
            rows = session.exec(query.order_by(ServicingNotice.id).limit(NOTICE_BATCH)).all()
            due_on = request.business_date + timedelta(days=self._reminder_days)
            note_ids = [note.id for _, kind, note, *_ in rows if kind == "due_soon"]
            due = {i.note_id: i for i in session.exec(select(ScheduleInstallment).where(
                ScheduleInstallment.note_id.in_(note_ids), ScheduleInstallment.due_date == due_on,  # type: ignore[union-attr]
                ScheduleInstallment.status == "pending"))} if note_ids else {}
        return [_Notice(notice_id=notice_id, kind=kind, note_id=note.id, mobile=mobile,
                        template=NOTICE_TEMPLATES[kind], line_workflow_id=workflow_id,
                        params=_params(kind, note, line_no, account or "", due.get(note.id)))
                for notice_id, kind, note, mobile, account, line_no, workflow_id in rows]

    def _send_batch(self, day: date, batch: list[_Notice]) -> dict[str, list[int]]:
        outcomes: dict[str, list[int]] = {"sent": [], "failed": [], "skipped": []}
        for notice in batch:
            if notice.params is None:
                outcomes["skipped"].append(notice.notice_id)
                continue
            try:
                self._sms.send(idempotency_key=f"eod:{day}:{notice.note_id}:{notice.kind}", mobile=notice.mobile,
                               template=notice.template, body=render_sms(notice.template, notice.params))
                outcomes["sent"].append(notice.notice_id)
            except Refused as refused:
                # A number the gateway will never take: the notice is recorded as failed, the day goes on.
                activity.logger.warning("notice %s refused: %s", notice.notice_id, refused.code)
                outcomes["failed"].append(notice.notice_id)
        return outcomes

    def _mark(self, outcomes: dict[str, list[int]]) -> None:
        with session_scope(self._engine) as session:
            for status, ids in outcomes.items():
                if ids:
                    session.exec(update(ServicingNotice).where(ServicingNotice.id.in_(ids))  # type: ignore[union-attr]
                                 .values(status=status, sent_at=eod.utcnow()))


@dataclass(frozen=True)
class _Notice:
    notice_id: int
    kind: str
    note_id: int
    mobile: str
    template: str
    line_workflow_id: str
    params: dict[str, str] | None  # None: nothing left to say (the installment was repaid meanwhile)


def _params(kind: str, note: LoanNote, line_no: str, account: str,
            due: ScheduleInstallment | None) -> dict[str, str] | None:
    if kind == "freeze":
        return {"note_no": note.note_no, "line_no": line_no}
    if kind == "overdue":
        return {"note_no": note.note_no, "amount": f"{note.overdue_principal + note.overdue_interest:,.2f}"}
    if due is None:  # repaid since end of day raised the reminder
        return None
    return {"note_no": note.note_no, "due_date": f"{due.due_date:%Y-%m-%d}",
            "amount": f"{due.principal + due.interest - due.paid_principal - due.paid_interest:,.2f}",
            "account_tail": account[-4:]}
