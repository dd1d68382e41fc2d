"""Credit lines with their available amount, drawdown requests, loan notes and schedules."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from db.models import CreditLine, LoanNote, ScheduleInstallment
from domain.products import RepaymentMethod
from services.fields import Amount
from services.schemas.common import RequestModel


class CreditLineView(BaseModel):
    line_no: str
    customer_id: int
    branch_code: str
    product_code: str
    amount: Decimal
    available: Decimal
    revolving: bool
    annual_rate: Decimal
    start_date: date
    expiry_date: date
    max_term_months: int
    status: str
    drawn_total: Decimal
    outstanding_principal: Decimal
    created_at: datetime

    @classmethod
    def of(cls, row: CreditLine) -> CreditLineView:
        # Revolving lines free up as principal is repaid; others only ever count what was drawn.
        used = row.outstanding_principal if row.revolving else row.drawn_total
        return cls.model_validate({**row.model_dump(), "available": max(row.amount - used, Decimal("0.00"))})


class DrawdownIn(RequestModel):
    amount: Amount
    term_months: int = Field(ge=1, le=360)
    repayment_method: RepaymentMethod
    payment_mode: Literal["self", "entrusted"] = Field(default="self", description="自主支付 or 受托支付")
    payee_ref: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$",
                                  description="the registered payee's code, for entrusted payment")


class InstallmentView(BaseModel):
    period: int
    due_date: date
    principal: Decimal
    interest: Decimal
    total: Decimal

    @classmethod
    def of(cls, row: ScheduleInstallment) -> InstallmentView:
        return cls(period=row.period, due_date=row.due_date, principal=row.principal, interest=row.interest,
                   total=row.principal + row.interest)


class LoanNoteView(BaseModel):
    note_no: str
    amount: Decimal
    term_months: int
    repayment_method: str
    annual_rate: Decimal
    status: str
    failure_code: str | None
    start_date: date
    maturity_date: date
    created_at: datetime
    disbursed_at: datetime | None
    installments: list[InstallmentView]

    @classmethod
    def of(cls, row: LoanNote, installments: list[InstallmentView]) -> LoanNoteView:
        return cls.model_validate({**row.model_dump(), "installments": installments})
