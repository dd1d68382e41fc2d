"""Ops views: the SMS outbox and the core-banking ledger (simulators), the business date and end of day."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from sqlmodel import Session
from temporalio.client import RPCTimeoutOrCancelledError, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.common import TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from adapters.errors import AdapterUnavailable, Refused
from db import eod
from domain.identity import mask_mobile
from services.blocking import in_thread
from services.clock import business_date, utcnow
from services.errors import ProblemError, not_found
from services.gateway import TemporalUnavailable, WorkflowGateway
from services.schemas.loans import BusinessDateView, EndOfDayAccepted, EndOfDayIn
from services.schemas.ops import AccountView, EntryView, PostingView, SmsView, TrialBalance
from workflows import names
from workflows.messages import EodInput, EodProgress

log = logging.getLogger(__name__)

_CODE = re.compile(r"(?<![0-9A-Za-z])\d{6}(?![0-9])")


class Outbox(Protocol):
    def outbox(self, limit: int = 50, offset: int = 0, mobile: str | None = None) -> Sequence[Any]: ...


class Ledger(Protocol):
    def postings(self, reference: str | None = None, limit: int = 50, offset: int = 0) -> Sequence[Any]: ...

    def entries(self, account_no: str | None = None, posting_id: str | None = None, limit: int = 50,
                offset: int = 0) -> Sequence[Any]: ...

    def balance(self, account_no: str) -> Decimal: ...

    def trial_balance(self) -> Decimal: ...


def sms_outbox(outbox: Outbox, *, limit: int, offset: int) -> list[SmsView]:
    # Ops read the outbox to chase delivery, not to learn codes that would let them act as the customer.
    return [SmsView(id=m.id, template=m.template, mobile=mask_mobile(m.mobile),
                    body=_CODE.sub("******", m.body) if m.template.startswith("otp_") else m.body,
                    status=m.status, created_at=m.created_at)
            for m in outbox.outbox(limit=limit, offset=offset)]


def postings(ledger: Ledger, *, reference: str | None, limit: int, offset: int) -> list[PostingView]:
    return [PostingView.model_validate(p, from_attributes=True)
            for p in ledger.postings(reference=reference, limit=limit, offset=offset)]


def account(ledger: Ledger, account_no: str, *, limit: int, offset: int) -> AccountView:
    try:
        balance = ledger.balance(account_no)
    except Refused as exc:
        if exc.code == "ACCOUNT_NOT_FOUND":
            raise not_found("ACCOUNT", "账户不存在", "account not found", "account_no") from exc
        raise ProblemError(422, exc.code, exc.message, f"core banking refused: {exc.code}", "account_no") from exc
    except AdapterUnavailable as exc:
        raise ProblemError(503, "CORE_BANKING_UNAVAILABLE", "核心系统暂时不可用,请稍后重试",
                           "core banking is unavailable", headers={"Retry-After": "5"}) from exc
    entries = [EntryView.model_validate(e, from_attributes=True)
               for e in ledger.entries(account_no=account_no, limit=limit, offset=offset)]
    return AccountView(account_no=account_no, balance=balance, entries=entries)


def trial_balance(ledger: Ledger) -> TrialBalance:
    diff = ledger.trial_balance()
    return TrialBalance(debit_minus_credit=diff, balanced=diff == 0)


# ---- the business date and end of day (日终) ----

def _progress_running(progress: EodProgress | None, closed: date | None) -> bool:
    """The workflow is closing a date now, or has not yet closed through the date it was started for."""
    if progress is None:
        return False
    if progress.business_date is not None:
        return True
    return progress.through is not None and (closed is None or closed < progress.through)


async def _eod_progress(workflows: WorkflowGateway) -> EodProgress | None:
    """The end-of-day workflow's progress query, or None when there is none (or Temporal does not answer:
    the calendar in the database still stands)."""
    try:
        return await workflows.query(names.END_OF_DAY_WORKFLOW_ID, names.QUERY_PROGRESS, result_type=EodProgress)
    except (TemporalUnavailable, RPCError, RPCTimeoutOrCancelledError, WorkflowQueryFailedError,
            WorkflowQueryRejectedError) as exc:
        if not (isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND):
            log.info("end-of-day progress not available: %s", type(exc).__name__)
        return None


def _calendar(session: Session, today: date) -> tuple[date | None, date]:
    return eod.closed_date(session), eod.open_date(session, today)


def _progress_in_database(session: Session) -> EodProgress | None:
    found = eod.running(session)
    if found is None:
        return None
    day, done, total, notes = found
    return EodProgress(business_date=day, through=None, chunks_done=done, chunks_total=total, notes_closed=notes,
                       days_closed=[])


async def business_date_view(session: Session, workflows: WorkflowGateway) -> BusinessDateView:
    today = business_date(utcnow())
    closed, open_ = await in_thread(_calendar, session, today)
    # The ops-started run answers its progress query; a run the daily Schedule started has an id of its
    # own, and shows through its rows.
    progress = await _eod_progress(workflows) or await in_thread(_progress_in_database, session)
    return BusinessDateView(today=today, closed_date=closed, open_date=open_, end_of_day=progress,
                            end_of_day_running=_progress_running(progress, closed))


async def start_end_of_day(session: Session, workflows: WorkflowGateway, body: EndOfDayIn, *,
                           future_dates: bool = False) -> EndOfDayAccepted:
    """Close every business date up to `through` (default yesterday in Beijing) as EndOfDayWorkflow.

    One runs at a time under one workflow id. The start attaches to a run already going; if that run
    closes through another date, the answer is 409 and nothing new was started. Dates already closed
    are refused (closing twice would do nothing), and so is a date that has not ended yet unless
    `future_dates` (test systems move the business date forward; production never does)."""
    today = business_date(utcnow())
    through = body.through or today - timedelta(days=1)
    closed, _ = await in_thread(_calendar, session, today)
    if through >= today and not future_dates:
        raise ProblemError(422, "DATE_NOT_ENDED", f"{through:%Y-%m-%d}尚未结束,最多日终至{today - timedelta(days=1):%Y-%m-%d}",
                           f"{through} has not ended yet: end of day closes through {today - timedelta(days=1)} "
                           "at most", "through")
    if closed is not None and through <= closed:
        raise ProblemError(422, "ALREADY_CLOSED",
                           f"{closed:%Y-%m-%d}及以前的营业日均已日终,无需重复执行;下一个待日终日为"
                           f"{closed + timedelta(days=1):%Y-%m-%d}",
                           f"every business date through {closed} is closed already, so there is nothing to do; "
                           f"the next date to close is {closed + timedelta(days=1)}", "through",
                           extra={"closed_date": closed.isoformat()})
    await workflows.start(names.END_OF_DAY, EodInput(through=through), id=names.END_OF_DAY_WORKFLOW_ID,
                          search_attributes=TypedSearchAttributes.empty)
    progress = await _eod_progress(workflows)
    if progress is not None and progress.through is not None and progress.through != through:
        raise ProblemError(409, "END_OF_DAY_RUNNING",
                           f"日终正在执行(至{progress.through:%Y-%m-%d}),请待其完成后再发起",
                           f"end of day is already running (through {progress.through}); start another once "
                           "it has finished", "through", extra={"running_through": progress.through.isoformat()})
    return EndOfDayAccepted(workflow_id=names.END_OF_DAY_WORKFLOW_ID, through=through, closed_date=closed,
                            end_of_day=progress)
