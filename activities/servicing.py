"""Repayments (还款) and their reversal: fix the allocation, post it to core banking, book it on the note.

The three steps of a repayment are separate activities so that each is idempotent on its own: the
allocation is fixed once (the repayment row moves requested -> prepared under the note's lock), the
posting carries the business key `{repayment_no}:repay`, and booking applies the fixed allocation once
(prepared -> posted). A reversal mirrors it: the posting is reversed with `{repayment_no}:reverse`,
then the allocation is taken off the note."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.clock import business_today, utcnow
from adapters.core_banking.port import CoreBanking, Posting
from adapters.errors import Refused
from db import eod
from db.application_store import get_customer
from db.engine import session_scope
from db.models import CreditLine, LoanNote, Repayment
from db.servicing_store import (
    allocation_of,
    installment_rows,
    note_for_update,
    record_allocation,
    repayment_for_update,
    save_state,
    to_state,
)
from domain.servicing import ServicingRefused, allocate, apply, project, unapply
from workflows.messages import (
    PostingRef,
    RepaymentBooked,
    RepaymentInput,
    RepaymentOutcome,
    RepaymentPrepared,
    ReversalInput,
)


def _refused(code: str, message: str, error_type: str = "RepaymentRefused") -> ApplicationError:
    return ApplicationError(message, {"code": code}, type=error_type, non_retryable=True)


def _prepared(rep: Repayment, note_no: str) -> RepaymentPrepared:
    assert rep.kind is not None and rep.value_date is not None
    return RepaymentPrepared(repayment_no=rep.repayment_no, note_no=note_no, customer_id=rep.customer_id,
                             kind=rep.kind, value_date=rep.value_date, principal=rep.principal, interest=rep.interest,
                             penalty=rep.penalty, compound=rep.compound)


def _ref(posting: Posting) -> PostingRef:
    return PostingRef(posting_id=posting.posting_id, idempotency_key=posting.idempotency_key, amount=posting.amount)


def repay_key(repayment_no: str) -> str:
    return f"{repayment_no}:repay"


def _frozen_for_overdue_elsewhere(session: Session, note: LoanNote) -> bool:
    return session.exec(select(LoanNote.id).where(LoanNote.line_id == note.line_id, LoanNote.id != note.id,
                                                  LoanNote.line_frozen_for_overdue.is_(True))).first() is not None  # type: ignore[union-attr]


class ServicingActivities:
    def __init__(self, engine: Engine, core_banking: CoreBanking) -> None:
        self._engine = engine
        self._cb = core_banking

    @activity.defn
    def prepare_repayment(self, request: RepaymentInput) -> RepaymentPrepared:
        refusal: ServicingRefused | None = None
        with session_scope(self._engine) as session:
            rep = repayment_for_update(session, request.repayment_id)
            account = get_customer(session, request.customer_id).settlement_account or ""
            if rep.status in ("prepared", "posted"):
                return _prepared(rep, request.note_no)
            if rep.status != "requested":
                raise _refused(rep.failure_code or "REPAYMENT_CLOSED", f"repayment is {rep.status}")
            if not account:
                refusal = ServicingRefused("NO_SETTLEMENT_ACCOUNT", "未开立还款账户", "no settlement account")
            else:
                note = note_for_update(session, request.note_no)
                if note is None:
                    raise LookupError(f"note {request.note_no} not found")
                rows = installment_rows(session, note.id)
                state = to_state(note, rows)
                value_date = state.value_date(eod.trading_date(session, business_today()))
                state = state.as_of(value_date)
                try:
                    allocation = allocate(state, rep.amount, value_date, note.allocation_order)
                except ServicingRefused as refused:
                    refusal = refused
                else:
                    record_allocation(session, rep, allocation, state)
                    session.flush()
                    return _prepared(rep, request.note_no)
        self.fail(RepaymentOutcome(repayment_no=request.repayment_no, status="failed", failure_code=refusal.code))
        raise _refused(refusal.code, refusal.message_en)

    @activity.defn
    def post_repayment(self, prepared: RepaymentPrepared) -> PostingRef:
        key = repay_key(prepared.repayment_no)
        if activity.info().attempt > 1:
            earlier = self._cb.find_posting(key)
            if earlier is not None:
                return _ref(earlier)
        with session_scope(self._engine) as session:
            account = get_customer(session, prepared.customer_id).settlement_account or ""
        try:
            posting = self._cb.repay(idempotency_key=key, note_no=prepared.note_no, from_account=account,
                                     principal=prepared.principal, interest=prepared.interest,
                                     penalty=prepared.penalty, compound=prepared.compound)
        except Refused as refused:
            raise _refused(refused.code, refused.message, "PostingRefused") from refused
        return _ref(posting)

    @activity.defn
    def book_repayment(self, request: RepaymentInput, posting: PostingRef) -> RepaymentBooked:
        with session_scope(self._engine) as session:
            rep = repayment_for_update(session, request.repayment_id)
            note = note_for_update(session, request.note_no)
            assert note is not None
            if rep.status == "posted":
                return RepaymentBooked(repayment_no=rep.repayment_no, principal=rep.principal,
                                       note_settled=note.status == "settled", cured=False)
            if rep.status != "prepared":
                raise _refused("REPAYMENT_STATE", f"repayment is {rep.status}", "RepaymentStateConflict")
            rows = installment_rows(session, note.id)
            allocation, _ = allocation_of(session, rep)
            # Brought up to the value date first, as prepare did, if end of day has not closed it yet.
            after = apply(to_state(note, rows).as_of(allocation.value_date), allocation)
            save_state(session, note, rows, after)
            cured = note.line_frozen_for_overdue and after.dpd == 0
            if cured:
                # The line's row lock makes two notes cured at once agree on who thaws the line.
                session.exec(select(CreditLine).where(CreditLine.id == note.line_id).with_for_update()).one()
                note.line_frozen_for_overdue = False
                cured = not _frozen_for_overdue_elsewhere(session, note)
            rep.status, rep.posting_id, rep.posted_at = "posted", posting.posting_id, utcnow()
            session.add_all([rep, note])
            return RepaymentBooked(repayment_no=rep.repayment_no, principal=rep.principal,
                                   note_settled=after.status == "settled", cured=cured)

    @activity.defn
    def fail(self, outcome: RepaymentOutcome) -> None:
        """Close a repayment that did not happen (refused, or posted and then reversed by compensation)."""
        with session_scope(self._engine) as session:
            rep = session.exec(select(Repayment).where(Repayment.repayment_no == outcome.repayment_no)
                               .with_for_update()).one()
            if rep.status in ("requested", "prepared"):
                rep.status, rep.failure_code = "failed", outcome.failure_code
                session.add(rep)

    @activity.defn
    def begin_reversal(self, request: ReversalInput) -> None:
        """posted -> reversing under the note's lock: from here no repayment of the note is taken (they
        check for one in progress under the same lock) until the reversal is done or abandoned."""
        with session_scope(self._engine) as session:
            note = note_for_update(session, request.note_no)
            assert note is not None
            rep = session.exec(select(Repayment).where(Repayment.repayment_no == request.repayment_no)
                               .with_for_update()).one()
            if rep.status == "reversing":
                return
            if rep.status != "posted":
                raise _refused("NOT_POSTED", f"repayment is {rep.status}", "ReversalRefused")
            busy = session.exec(select(Repayment.repayment_no).where(
                Repayment.note_id == rep.note_id, Repayment.status.in_(("requested", "prepared")))).first()  # type: ignore[attr-defined]
            if busy is not None:
                raise _refused("REPAYMENT_IN_PROGRESS", f"repayment {busy} is in progress", "ReversalRefused")
            latest = session.exec(select(Repayment.repayment_no).where(
                Repayment.note_id == rep.note_id, Repayment.status == "posted")
                .order_by(Repayment.posted_at.desc(), Repayment.id.desc())).first()  # type: ignore[union-attr]
            if latest != rep.repayment_no:
                raise _refused("NOT_LATEST", "only the note's latest repayment can be reversed", "ReversalRefused")
            rep.status = "reversing"
            session.add(rep)

    @activity.defn
    def abandon_reversal(self, request: ReversalInput) -> None:
        """Core banking refused the reversal: the repayment stands, as posted."""
        with session_scope(self._engine) as session:
            rep = session.exec(select(Repayment).where(Repayment.repayment_no == request.repayment_no)
                               .with_for_update()).one()
            if rep.status == "reversing":
                rep.status = "posted"
                session.add(rep)

    @activity.defn
    def reverse_repayment_posting(self, request: ReversalInput) -> PostingRef:
        with Session(self._engine) as session:
            status = session.exec(select(Repayment.status).where(Repayment.repayment_no == request.repayment_no)).one()
        if status not in ("reversing", "reversed"):
            raise _refused("NOT_REVERSING", f"repayment is {status}", "ReversalRefused")
        return self._reverse(request.repayment_no)

    @activity.defn
    def compensate_posting(self, request: RepaymentInput) -> PostingRef | None:
        """Booking failed after the money moved. An attempt that timed out may still have committed, so
        look first: booked means keep the money (None); otherwise mark the repayment failed, which also
        stops any late booking attempt, and only then take the money back."""
        with session_scope(self._engine) as session:
            rep = repayment_for_update(session, request.repayment_id)
            if rep.status == "posted":
                return None
            if rep.status in ("requested", "prepared"):
                rep.status, rep.failure_code = "failed", "BOOKING_FAILED_REVERSED"
                session.add(rep)
        return self._reverse(request.repayment_no)

    def _reverse(self, repayment_no: str) -> PostingRef:
        try:
            posting = self._cb.reverse(idempotency_key=f"{repayment_no}:reverse", original_key=repay_key(repayment_no))
        except Refused as refused:
            raise _refused(refused.code, refused.message, "ReversalRefused") from refused
        return _ref(posting)

    @activity.defn
    def unbook_repayment(self, request: ReversalInput, posting: PostingRef) -> Decimal:
        """Take a reversed repayment off the note; returns the principal that is owed again."""
        with session_scope(self._engine) as session:
            rep = session.exec(select(Repayment).where(Repayment.repayment_no == request.repayment_no)
                               .with_for_update()).one()
            if rep.status == "reversed":
                return rep.principal
            if rep.status != "reversing":
                raise _refused("NOT_REVERSING", f"repayment is {rep.status}", "ReversalRefused")
            note = note_for_update(session, request.note_no)
            assert note is not None
            rows = installment_rows(session, note.id)
            allocation, before = allocation_of(session, rep)
            after = unapply(to_state(note, rows), allocation, before)
            # A note the repayment had settled was skipped by end of day since: catch it up.
            closed = eod.closed_date(session)
            save_state(session, note, rows, project(after, closed) if closed else after)
            rep.status, rep.reversal_posting_id, rep.reversed_at = "reversed", posting.posting_id, utcnow()
            session.add(rep)
            return rep.principal

    @activity.defn
    def receipt_params(self, request: RepaymentInput) -> dict[str, str]:
        """What the receipt SMS says: amounts only, read after booking."""
        with session_scope(self._engine) as session:
            rep = session.get(Repayment, request.repayment_id)
            note = session.get(LoanNote, rep.note_id)  # type: ignore[union-attr]
            line = session.get(CreditLine, note.line_id)  # type: ignore[union-attr]
            return {"note_no": note.note_no, "amount": f"{rep.amount:,.2f}",  # type: ignore[union-attr]
                    "outstanding": f"{note.outstanding_principal:,.2f}", "line_no": line.line_no}  # type: ignore[union-attr]
