"""Loan notes as domain.servicing.NoteState and back: what repayments, quotes and reversals read and write."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, col, select

from db.models import LoanNote, Repayment, RepaymentLine, ScheduleInstallment
from domain.servicing import Allocation, InstallmentState, Line, NoteState, penalty_rate_for

NOTE_FIELDS = ("status", "outstanding_principal", "overdue_principal", "overdue_interest", "accrual_base",
               "penalty_base", "compound_base", "penalty_paid", "compound_paid", "dpd", "classification",
               "restructured_until", "last_eod_date", "settled_on")
INSTALLMENT_FIELDS = tuple(InstallmentState.model_fields)
# A note's penalty rate is fixed when it is created; rows from before that default to the 50% markup.
DEFAULT_PENALTY_MARKUP = Decimal("0.5")


def note_for_update(session: Session, note_no: str) -> LoanNote | None:
    """The note, locked until the transaction ends, so repayments and end of day take turns on it."""
    return session.exec(select(LoanNote).where(LoanNote.note_no == note_no).with_for_update()).first()


def installment_rows(session: Session, note_id: int) -> list[ScheduleInstallment]:
    return list(session.exec(select(ScheduleInstallment).where(ScheduleInstallment.note_id == note_id)
                             .order_by(col(ScheduleInstallment.period))))


def to_state(note: LoanNote, rows: list[ScheduleInstallment]) -> NoteState:
    penalty_rate = note.penalty_rate or penalty_rate_for(note.annual_rate, DEFAULT_PENALTY_MARKUP)
    return NoteState(method=note.repayment_method, annual_rate=note.annual_rate, penalty_rate=penalty_rate,
                     start_date=note.start_date, **{f: getattr(note, f) for f in NOTE_FIELDS},
                     installments=[InstallmentState(**{f: getattr(r, f) for f in INSTALLMENT_FIELDS})
                                   for r in rows])


def save_state(session: Session, note: LoanNote, rows: list[ScheduleInstallment], state: NoteState) -> None:
    """Write a NoteState back over the rows it was read from (same periods, same order)."""
    for field in NOTE_FIELDS:
        setattr(note, field, getattr(state, field))
    session.add(note)
    if [r.period for r in rows] != [i.period for i in state.installments]:
        raise ValueError("a note's periods never change")
    for row, inst in zip(rows, state.installments, strict=True):
        for field in INSTALLMENT_FIELDS:
            setattr(row, field, getattr(inst, field))
        session.add(row)


def repayment_for_update(session: Session, repayment_id: int) -> Repayment:
    row = session.exec(select(Repayment).where(Repayment.id == repayment_id).with_for_update()).first()
    if row is None:
        raise LookupError(f"repayment {repayment_id} not found")
    return row


def record_allocation(session: Session, repayment: Repayment, allocation: Allocation, state: NoteState) -> None:
    """Fix the allocation on the repayment: its buckets, its lines, and the rows it will rewrite."""
    repayment.kind, repayment.value_date = allocation.kind, allocation.value_date
    repayment.principal = allocation.total("principal", "prepayment")
    repayment.interest = allocation.total("interest")
    repayment.penalty = allocation.total("penalty")
    repayment.compound = allocation.total("compound")
    if allocation.rewrite_from is not None:
        repayment.schedule_before = [i.model_dump(mode="json") for i in state.installments
                                     if i.period >= allocation.rewrite_from]
        repayment.schedule_after = [i.model_dump(mode="json") for i in allocation.rewritten]
    repayment.status = "prepared"
    session.add(repayment)
    overdue = {i.period for i in state.installments if i.status == "overdue"}
    session.add_all(RepaymentLine(repayment_id=repayment.id, period=line.period, bucket=line.bucket,
                                  amount=line.amount, was_overdue=line.period in overdue)
                    for line in allocation.lines)


def allocation_of(session: Session, repayment: Repayment) -> tuple[Allocation, list[InstallmentState]]:
    """The allocation a prepared repayment fixed, and the rows as they were before it (for a reversal)."""
    lines = session.exec(select(RepaymentLine).where(RepaymentLine.repayment_id == repayment.id)
                         .order_by(col(RepaymentLine.id))).all()
    before = [InstallmentState.model_validate(r) for r in repayment.schedule_before or []]
    after = [InstallmentState.model_validate(r) for r in repayment.schedule_after or []]
    assert repayment.kind is not None and repayment.value_date is not None
    allocation = Allocation(kind=repayment.kind, value_date=repayment.value_date,
                            lines=[Line(period=r.period, bucket=r.bucket, amount=r.amount) for r in lines],
                            rewrite_from=after[0].period if after else None, rewritten=after)
    return allocation, before
