"""Loan notes after disbursement: servicing state, schedule, statement, payoff quotes and repayments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from services.fields import Amount
from services.schemas.common import RequestModel
from workflows.messages import EodProgress

NOTE_STATUS_ZH = {"pending": "放款中", "disbursed": "还款中", "settled": "已结清", "failed": "放款失败",
                  "reversed": "已冲正"}
INSTALLMENT_STATUS_ZH = {"pending": "未到期", "overdue": "逾期", "paid": "已还清"}
REPAYMENT_STATUS_ZH = {"requested": "已受理", "prepared": "处理中", "posted": "已入账", "failed": "失败",
                       "reversed": "已冲正"}
REPAYMENT_KIND_ZH = {"due": "正常还款", "partial": "部分还款", "prepayment": "提前部分还款", "payoff": "提前结清"}
BUCKET_ZH = {"penalty": "罚息", "compound": "复利", "interest": "利息", "principal": "本金", "prepayment": "提前还本"}


class Link(BaseModel):
    rel: str
    href: str
    method: str = "GET"


class LoanNoteSummary(BaseModel):
    note_no: str
    line_no: str | None
    amount: Decimal
    term_months: int
    repayment_method: str
    annual_rate: Decimal
    status: str
    status_zh: str
    start_date: date
    maturity_date: date
    outstanding_principal: Decimal
    dpd: int
    classification: str
    classification_zh: str


class ServicingView(BaseModel):
    """What the note owes after the last closed business date (end of day keeps these current)."""

    outstanding_principal: Decimal
    overdue_principal: Decimal
    overdue_interest: Decimal
    penalty_owed: Decimal = Field(description="罚息 owed: on overdue principal, by 积数")
    compound_owed: Decimal = Field(description="复利 owed: on overdue interest, by 积数")
    accrued_interest: Decimal = Field(description="应计利息: earned in the current period, not yet due")
    penalty_rate: Decimal
    dpd: int
    classification: str
    classification_zh: str
    restructured_until: date | None
    last_closed_date: date | None = Field(description="the last business date end of day closed for this note")
    value_date: date = Field(description="the date a repayment made now takes effect")
    settled_on: date | None


class LoanNoteDetail(LoanNoteSummary):
    line_workflow_id: str | None
    failure_code: str | None
    payment_mode: str
    disbursement_ref: str | None
    disbursed_at: datetime | None
    allocation_order: list[str]
    servicing: ServicingView
    links: list[Link]


class ScheduleRow(BaseModel):
    period: int
    due_date: date
    principal: Decimal
    interest: Decimal
    total: Decimal
    paid_principal: Decimal
    paid_interest: Decimal
    unpaid: Decimal
    status: str
    status_zh: str
    paid_on: date | None
    accrual_start: date | None
    accrual_end: date | None
    accrual_days: int
    annual_rate: Decimal | None


class ScheduleView(BaseModel):
    note_no: str
    status: str
    rows: list[ScheduleRow]


class StatementEntry(BaseModel):
    date: date
    kind: str = Field(description="disbursement | repayment | reversal")
    kind_zh: str
    repayment_no: str | None = None
    repayment_kind: str | None = Field(default=None, description="due | partial | prepayment | payoff")
    amount: Decimal
    principal: Decimal
    interest: Decimal
    penalty: Decimal
    compound: Decimal
    status: str
    status_zh: str
    posting_id: str | None
    outstanding_principal: Decimal = Field(description="after this entry (entries not posted change nothing)")


class StatementView(BaseModel):
    note_no: str
    amount: Decimal
    outstanding_principal: Decimal
    entries: list[StatementEntry]


class PayoffQuote(BaseModel):
    """提前结清试算: what a repayment on `date` would meet, projected through end of day of the day before."""

    note_no: str
    date: date
    penalty: Decimal
    compound: Decimal
    overdue_interest: Decimal
    overdue_principal: Decimal
    due_today_interest: Decimal
    due_today_principal: Decimal
    principal_not_due: Decimal
    interest_to_date: Decimal
    total_due: Decimal = Field(description="everything due on the date: repaying this keeps the loan current")
    payoff: Decimal = Field(description="settles the loan on the date")


class RepaymentIn(RequestModel):
    amount: Amount


class RepaymentLineView(BaseModel):
    period: int | None
    bucket: str
    bucket_zh: str
    amount: Decimal
    was_overdue: bool


class RepaymentView(BaseModel):
    repayment_no: str
    note_no: str
    amount: Decimal
    status: str
    status_zh: str
    kind: str | None
    value_date: date | None
    principal: Decimal
    interest: Decimal
    penalty: Decimal
    compound: Decimal
    failure_code: str | None
    posting_id: str | None
    reversal_posting_id: str | None
    requested_by: str
    created_at: datetime
    posted_at: datetime | None
    reversed_at: datetime | None
    lines: list[RepaymentLineView]


class RepaymentAccepted(BaseModel):
    repayment_no: str
    note_no: str
    amount: Decimal
    status: str
    workflow_id: str
    value_date: date = Field(description="the value date the amount was checked against")
    links: list[Link]


class ReversalAccepted(BaseModel):
    repayment_no: str
    note_no: str
    status: str = Field(description="the repayment's status now; `reversed` once the reversal has posted")
    workflow_id: str
    links: list[Link]


# ---- the business date (ops): what value dates follow from ----

class EndOfDayIn(RequestModel):
    through: date | None = Field(default=None, description="close every business date up to this one; "
                                                            "default yesterday (Beijing)")


class BusinessDateView(BaseModel):
    today: date = Field(description="the Beijing calendar date now")
    closed_date: date | None = Field(description="the last business date end of day completed")
    open_date: date = Field(description="the business date being traded: repayments take effect on it")
    end_of_day_running: bool
    end_of_day: EodProgress | None = Field(description="the end-of-day workflow's progress, when it "
                                                                "answers (null if it never ran or Temporal is away)")


class EndOfDayAccepted(BaseModel):
    workflow_id: str
    through: date
    closed_date: date | None
    end_of_day: EodProgress | None
