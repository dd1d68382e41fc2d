"""Loan notes after disbursement (贷后): servicing state, schedule, statement, payoff quotes, repayments and
their reversal.

Reads come from the read model (loan_note, schedule_installment, repayment) through domain.servicing, so
the figures here are the ones the workflows post. A repayment is checked against the note as it stands
(domain.servicing.allocate, the same checks the workflow's prepare step runs), recorded as a `requested`
Repayment row and only then handed to RepaymentWorkflow: nothing is posted by the API itself, and a
refusal writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError

from db import eod
from db.models import LoanNote, Repayment
from db.repositories import loans
from db.servicing_store import to_state
from domain.money import ZERO
from domain.servicing import CLASSIFICATION_ZH, NoteState, ServicingRefused, allocate, parse_order, quote
from services.blocking import in_thread
from services.clock import business_date, utcnow
from services.errors import ProblemError, not_found
from services.gateway import TemporalUnavailable, WorkflowGateway
from services.idempotency import HEADER
from services.principal import Principal
from services.schemas.common import Page
from services.schemas.loans import (
    BUCKET_ZH,
    INSTALLMENT_STATUS_ZH,
    NOTE_STATUS_ZH,
    REPAYMENT_STATUS_ZH,
    Link,
    LoanNoteDetail,
    LoanNoteSummary,
    PayoffQuote,
    RepaymentAccepted,
    RepaymentIn,
    RepaymentLineView,
    RepaymentView,
    ReversalAccepted,
    ScheduleRow,
    ScheduleView,
    ServicingView,
    StatementEntry,
    StatementView,
)
from workflows import names
from workflows import search_attributes as sa
from workflows.messages import RepaymentInput, ReversalInput

log = logging.getLogger(__name__)

# A quote projects end of day one date at a time; a year ahead is as far as a quote means anything.
QUOTE_HORIZON = timedelta(days=366)
# Refusals of a note's state, not of the amount asked.
_CONFLICTS = frozenset({"NOTE_CLOSED"})


def _note_path(note_no: str) -> str:
    return f"/v1/loans/{note_no}"


def _repayment_path(note_no: str, repayment_no: str) -> str:
    return f"/v1/loans/{note_no}/repayments/{repayment_no}"


# ---- reading ----

def visible(session: Session, principal: Principal, note_no: str) -> LoanNote:
    row = loans.visible(session, principal.scope(), note_no)
    if row is None:
        raise not_found("LOAN_NOTE", "未找到该借据", "loan note not found", "note_no")
    return row


def _state(session: Session, note: LoanNote) -> NoteState:
    assert note.id is not None
    return to_state(note, loans.installments(session, note.id))


def _open_date(session: Session) -> date:
    return eod.trading_date(session, business_date(utcnow()))


def _summary_fields(note: LoanNote, line_no: str | None) -> dict:
    return {"note_no": note.note_no, "line_no": line_no, "amount": note.amount, "term_months": note.term_months,
            "repayment_method": note.repayment_method, "annual_rate": note.annual_rate, "status": note.status,
            "status_zh": NOTE_STATUS_ZH.get(note.status, note.status), "start_date": note.start_date,
            "maturity_date": note.maturity_date, "outstanding_principal": note.outstanding_principal,
            "dpd": note.dpd, "classification": note.classification,
            "classification_zh": CLASSIFICATION_ZH.get(note.classification, note.classification)}


def search(session: Session, principal: Principal, *, status: str | None, limit: int,
           offset: int) -> Page[LoanNoteSummary]:
    rows, total = loans.search(session, principal.scope(), status=status, limit=limit, offset=offset)
    line_nos: dict[int, str | None] = {}
    for row in rows:
        if row.line_id not in line_nos:
            line = loans.line(session, row.line_id)
            line_nos[row.line_id] = line.line_no if line else None
    return Page(items=[LoanNoteSummary(**_summary_fields(r, line_nos[r.line_id])) for r in rows], total=total,
                limit=limit, offset=offset)


def get(session: Session, principal: Principal, note_no: str) -> LoanNoteDetail:
    note = visible(session, principal, note_no)
    state = _state(session, note)
    line = loans.line(session, note.line_id)
    servicing = ServicingView(
        outstanding_principal=state.outstanding_principal, overdue_principal=state.overdue_principal,
        overdue_interest=state.overdue_interest, penalty_owed=state.penalty_owed, compound_owed=state.compound_owed,
        accrued_interest=state.accrued_interest, penalty_rate=state.penalty_rate, dpd=state.dpd,
        classification=state.classification,
        classification_zh=CLASSIFICATION_ZH.get(state.classification, state.classification),
        restructured_until=state.restructured_until, last_closed_date=state.last_eod_date,
        value_date=state.value_date(_open_date(session)), settled_on=state.settled_on)
    path = _note_path(note.note_no)
    links = [Link(rel="schedule", href=f"{path}/schedule"), Link(rel="statement", href=f"{path}/statement"),
             Link(rel="payoff-quote", href=f"{path}/payoff-quote")]
    if note.status == "disbursed":
        links.append(Link(rel="repay", href=f"{path}/repayments", method="POST"))
    return LoanNoteDetail(
        **_summary_fields(note, line.line_no if line else None), line_workflow_id=line.workflow_id if line else None,
        failure_code=note.failure_code, payment_mode=note.payment_mode, disbursement_ref=note.disbursement_ref,
        disbursed_at=note.disbursed_at, allocation_order=parse_order(note.allocation_order), servicing=servicing,
        links=links)


def schedule(session: Session, principal: Principal, note_no: str) -> ScheduleView:
    note = visible(session, principal, note_no)
    assert note.id is not None
    rows = [ScheduleRow(period=r.period, due_date=r.due_date, principal=r.principal, interest=r.interest,
                        total=r.principal + r.interest, paid_principal=r.paid_principal, paid_interest=r.paid_interest,
                        unpaid=r.principal + r.interest - r.paid_principal - r.paid_interest, status=r.status,
                        status_zh=INSTALLMENT_STATUS_ZH.get(r.status, r.status), paid_on=r.paid_on,
                        accrual_start=r.accrual_start, accrual_end=r.accrual_end, accrual_days=r.accrual_days,
                        annual_rate=r.annual_rate)
            for r in loans.installments(session, note.id)]
    return ScheduleView(note_no=note.note_no, status=note.status, rows=rows)


def _day(at: datetime | None, fallback: date) -> date:
    return business_date(at) if at is not None else fallback


def statement(session: Session, principal: Principal, note_no: str) -> StatementView:
    """The disbursement, then every repayment on its value date (and its reversal, if any), oldest first.
    Only posted money moves the running outstanding principal; requested or failed repayments are listed
    with their status and change nothing."""
    note = visible(session, principal, note_no)
    assert note.id is not None
    # (date, rank, repayment id, entry): on one date the disbursement comes first, then each repayment
    # followed by its reversal.
    events: list[tuple[date, int, int, StatementEntry]] = []
    if note.disbursement_ref or note.status in ("disbursed", "settled"):
        events.append((note.start_date, 0, 0, StatementEntry(
            date=note.start_date, kind="disbursement", kind_zh="放款", amount=note.amount, principal=note.amount,
            interest=ZERO, penalty=ZERO, compound=ZERO, status="posted", status_zh="已入账",
            posting_id=note.disbursement_ref, outstanding_principal=ZERO)))
    for rp in loans.repayments(session, note.id):
        assert rp.id is not None
        on = rp.value_date or _day(rp.created_at, note.start_date)
        events.append((on, 1, 2 * rp.id, StatementEntry(
            date=on, kind="repayment", kind_zh="还款", repayment_no=rp.repayment_no, repayment_kind=rp.kind,
            amount=rp.amount, principal=rp.principal, interest=rp.interest, penalty=rp.penalty, compound=rp.compound,
            status=rp.status, status_zh=REPAYMENT_STATUS_ZH.get(rp.status, rp.status), posting_id=rp.posting_id,
            outstanding_principal=ZERO)))
        if rp.status == "reversed":
            back = max(_day(rp.reversed_at, on), on)
            events.append((back, 1, 2 * rp.id + 1, StatementEntry(
                date=back, kind="reversal", kind_zh="还款冲正", repayment_no=rp.repayment_no, repayment_kind=rp.kind,
                amount=-rp.amount, principal=-rp.principal, interest=-rp.interest, penalty=-rp.penalty,
                compound=-rp.compound, status="posted", status_zh="已入账", posting_id=rp.reversal_posting_id,
                outstanding_principal=ZERO)))
    entries: list[StatementEntry] = []
    outstanding = ZERO
    for *_, entry in sorted(events, key=lambda e: e[:3]):
        if entry.kind == "disbursement":
            outstanding += entry.principal
        elif entry.kind == "reversal" or entry.status in ("posted", "reversed"):
            # A reversed repayment was posted once; its reversal entry puts the principal back.
            outstanding -= entry.principal
        entries.append(entry.model_copy(update={"outstanding_principal": outstanding}))
    return StatementView(note_no=note.note_no, amount=note.amount, outstanding_principal=note.outstanding_principal,
                         entries=entries)


def _refused(exc: ServicingRefused, field: str) -> ProblemError:
    status = 409 if exc.code in _CONFLICTS else 422
    return ProblemError(status, exc.code, exc.message_zh, exc.message_en, field if status == 422 else "note_no")


def payoff_quote(session: Session, principal: Principal, note_no: str, on: date | None) -> PayoffQuote:
    note = visible(session, principal, note_no)
    state = _state(session, note)
    if state.status != "disbursed":
        raise ProblemError(409, "NOTE_CLOSED", f"该借据{NOTE_STATUS_ZH.get(note.status, note.status)},无需试算",
                           f"the note is {note.status}, not being repaid", "note_no")
    first = state.value_date(_open_date(session))
    on = on or first
    if on > first + QUOTE_HORIZON:
        latest = first + QUOTE_HORIZON
        raise ProblemError(422, "QUOTE_DATE_TOO_FAR", f"试算日期不得晚于{latest:%Y-%m-%d}",
                           f"the quote date must be on or before {latest}", "date")
    if on < first:
        # domain.servicing.quote only knows the note's own closed dates; the calendar's count too.
        raise ProblemError(422, "DATE_CLOSED", f"试算日期不得早于{first:%Y-%m-%d}(已日终)",
                           f"the quote date must be on or after {first}: earlier dates are closed", "date")
    try:
        dues = quote(state, on)
    except ServicingRefused as exc:
        raise _refused(exc, "date") from exc
    return PayoffQuote(note_no=note.note_no, date=on, **dues.model_dump(exclude={"value_date"}),
                       total_due=dues.total_due, payoff=dues.payoff)


def repayment(session: Session, principal: Principal, note_no: str, repayment_no: str) -> RepaymentView:
    note = visible(session, principal, note_no)
    assert note.id is not None
    row = loans.repayment(session, note.id, repayment_no)
    if row is None:
        raise not_found("REPAYMENT", "未找到该笔还款", "repayment not found", "repayment_no")
    return _repayment_view(session, note, row)


def _repayment_view(session: Session, note: LoanNote, row: Repayment) -> RepaymentView:
    assert row.id is not None
    lines = [RepaymentLineView(period=ln.period, bucket=ln.bucket, bucket_zh=BUCKET_ZH.get(ln.bucket, ln.bucket),
                               amount=ln.amount, was_overdue=ln.was_overdue)
             for ln in loans.lines(session, row.id)]
    return RepaymentView(
        repayment_no=row.repayment_no, note_no=note.note_no, amount=row.amount, status=row.status,
        status_zh=REPAYMENT_STATUS_ZH.get(row.status, row.status), kind=row.kind, value_date=row.value_date,
        principal=row.principal, interest=row.interest, penalty=row.penalty, compound=row.compound,
        failure_code=row.failure_code, posting_id=row.posting_id, reversal_posting_id=row.reversal_posting_id,
        requested_by=row.requested_by, created_at=row.created_at, posted_at=row.posted_at,
        reversed_at=row.reversed_at, lines=lines)


# ---- repaying ----

@dataclass(frozen=True)
class _Start:
    row: Repayment
    note_no: str
    value_date: date
    workflow_input: RepaymentInput
    branch_code: str
    needs_start: bool
    # Set when another repayment of the note blocks this one: the answer is 409, but if that one was
    # recorded and its workflow never started (a 503 nobody retried), it is started now, so the note is
    # never stuck behind it.
    blocked_by: ProblemError | None = None


def _key_reused() -> ProblemError:
    return ProblemError(422, "IDEMPOTENCY_KEY_REUSED", "该幂等键已用于本借据的另一笔还款",
                        "this Idempotency-Key was used for another repayment of this note", HEADER)


def _in_progress(other: Repayment) -> ProblemError:
    return ProblemError(409, "REPAYMENT_IN_PROGRESS",
                        f"该借据的还款{other.repayment_no}仍在处理中,请待其完成后再还款",
                        f"repayment {other.repayment_no} of this note is still being processed; repay after it ends",
                        "note_no", extra={"repayment_no": other.repayment_no})


def _record(session: Session, principal: Principal, note_no: str, amount: Decimal, request_key: str) -> _Start:
    """Check the repayment against the note as it stands and record it, under the note's row lock (held
    only for this transaction: every path commits or rolls back before the workflow is started)."""
    try:
        return _record_locked(session, principal, note_no, amount, request_key)
    finally:
        session.rollback()  # a no-op after the commit; releases the lock after a refusal


def _record_locked(session: Session, principal: Principal, note_no: str, amount: Decimal,
                   request_key: str) -> _Start:
    note = loans.visible_for_update(session, principal.scope(), note_no)
    if note is None:
        raise not_found("LOAN_NOTE", "未找到该借据", "loan note not found", "note_no")
    assert note.id is not None
    line = loans.line(session, note.line_id)
    assert line is not None
    state = _state(session, note)
    value_date = state.value_date(_open_date(session))
    row = loans.repayment_by_key(session, note.id, request_key)
    if row is not None:
        # The same key from another of the caller's sessions, or a retry after a failed start.
        if row.amount != amount:
            raise _key_reused()
    else:
        if note.status != "disbursed":
            raise ProblemError(409, "NOTE_CLOSED", f"该借据{NOTE_STATUS_ZH.get(note.status, note.status)},不能还款",
                               f"the note is {note.status}: it takes no repayment", "note_no")
        other = loans.in_progress(session, note.id)
        if other is not None and other.status != "requested":
            raise _in_progress(other)
        if other is not None:
            assert other.id is not None
            return _Start(row=other, note_no=note.note_no, value_date=value_date, branch_code=line.branch_code,
                          needs_start=True, blocked_by=_in_progress(other),
                          workflow_input=RepaymentInput(repayment_id=other.id, repayment_no=other.repayment_no,
                                                        note_no=note.note_no, customer_id=note.customer_id,
                                                        line_workflow_id=line.workflow_id))
        try:
            allocate(state.as_of(value_date), amount, value_date, note.allocation_order)
        except ServicingRefused as exc:
            raise _refused(exc, "amount") from exc
        seq = loans.count_repayments(session, note.id) + 1
        row = Repayment(repayment_no=f"RP{note.note_no}-{seq:03d}", note_id=note.id, customer_id=note.customer_id,
                        request_key=request_key, amount=amount, requested_by=principal.subject, status="requested",
                        created_at=utcnow())
        try:
            loans.insert_repayment(session, row)
        except IntegrityError as exc:
            # Only without row locks (SQLite): another request for this note won the race.
            raise ProblemError(409, "REPAYMENT_IN_PROGRESS", "该借据另有还款正在受理,请稍后重试",
                               "another repayment of this note is being recorded; try again", "note_no") from exc
    assert row.id is not None
    start = _Start(row=row, note_no=note.note_no, value_date=row.value_date or value_date,
                   workflow_input=RepaymentInput(repayment_id=row.id, repayment_no=row.repayment_no,
                                                 note_no=note.note_no, customer_id=note.customer_id,
                                                 line_workflow_id=line.workflow_id),
                   branch_code=line.branch_code, needs_start=row.status == "requested")
    session.commit()
    return start


async def repay(session: Session, workflows: WorkflowGateway, principal: Principal, note_no: str, body: RepaymentIn,
                *, request_key: str) -> RepaymentAccepted:
    """Record the repayment and start its workflow. A retry with the same key (after a failed start, or
    from another of the borrower's devices) finds the same row and starts nothing twice: the workflow id
    is the repayment number."""
    plan = await in_thread(_record, session, principal, note_no, body.amount, request_key)
    row = plan.row
    workflow_id = names.repayment_workflow_id(row.repayment_no)
    if plan.needs_start:
        attributes = TypedSearchAttributes([SearchAttributePair(sa.BRANCH, plan.branch_code)])
        try:
            await workflows.start(names.REPAYMENT, plan.workflow_input, id=workflow_id, search_attributes=attributes)
        except (TemporalUnavailable, RPCError) as exc:
            log.warning("start of %s failed: %s", workflow_id, type(exc).__name__)
            raise ProblemError(503, "WORKFLOW_START_FAILED", "还款已登记,但处理流程暂未启动;请使用相同的幂等键重试",
                               "the repayment was recorded but its workflow did not start; retry with the same "
                               "Idempotency-Key", headers={"Retry-After": "5"},
                               extra={"repayment_no": row.repayment_no}) from exc
    if plan.blocked_by is not None:
        raise plan.blocked_by
    path = _repayment_path(plan.note_no, row.repayment_no)
    return RepaymentAccepted(repayment_no=row.repayment_no, note_no=plan.note_no, amount=row.amount,
                             status=row.status, workflow_id=workflow_id, value_date=plan.value_date,
                             links=[Link(rel="self", href=path), Link(rel="note", href=_note_path(plan.note_no))])


# ---- reversing ----

@dataclass(frozen=True)
class _Reversal:
    row: Repayment
    note_no: str
    workflow_input: ReversalInput
    branch_code: str


def _check_reversal(session: Session, principal: Principal, note_no: str, repayment_no: str) -> _Reversal:
    note = visible(session, principal, note_no)
    assert note.id is not None
    row = loans.repayment(session, note.id, repayment_no)
    if row is None:
        raise not_found("REPAYMENT", "未找到该笔还款", "repayment not found", "repayment_no")
    if row.status != "posted":
        zh = REPAYMENT_STATUS_ZH.get(row.status, row.status)
        raise ProblemError(409, "REPAYMENT_NOT_POSTED", f"该笔还款{zh},只有已入账的还款可以冲正",
                           f"the repayment is {row.status}: only a posted repayment can be reversed", "repayment_no")
    other = loans.in_progress(session, note.id)
    if other is not None:
        raise _in_progress(other)
    latest = loans.latest_posted(session, note.id)
    if latest is not None and latest.id != row.id:
        raise ProblemError(409, "NOT_LATEST_REPAYMENT",
                           f"只能冲正该借据最近一笔已入账的还款({latest.repayment_no}),请按时间倒序冲正",
                           f"only the note's latest posted repayment ({latest.repayment_no}) can be reversed; "
                           "reverse later ones first", "repayment_no", extra={"latest": latest.repayment_no})
    line = loans.line(session, note.line_id)
    assert line is not None
    return _Reversal(row=row, note_no=note.note_no, branch_code=line.branch_code, workflow_input=ReversalInput(
        repayment_no=row.repayment_no, note_no=note.note_no, customer_id=note.customer_id,
        line_workflow_id=line.workflow_id, requested_by=principal.subject))


async def reverse(session: Session, workflows: WorkflowGateway, principal: Principal, note_no: str,
                  repayment_no: str) -> ReversalAccepted:
    """Start the reversal of the note's latest posted repayment. Asking twice attaches to the same workflow
    (its id is the repayment number)."""
    plan = await in_thread(_check_reversal, session, principal, note_no, repayment_no)
    workflow_id = names.reversal_workflow_id(plan.row.repayment_no)
    attributes = TypedSearchAttributes([SearchAttributePair(sa.BRANCH, plan.branch_code)])
    await workflows.start(names.REPAYMENT_REVERSAL, plan.workflow_input, id=workflow_id, search_attributes=attributes)
    path = _repayment_path(plan.note_no, plan.row.repayment_no)
    return ReversalAccepted(repayment_no=plan.row.repayment_no, note_no=plan.note_no, status=plan.row.status,
                            workflow_id=workflow_id,
                            links=[Link(rel="repayment", href=path), Link(rel="note", href=_note_path(plan.note_no))])
