"""The platform's own tables (SQLModel). Outside-system simulators keep theirs in adapters/*/tables.py.

Personal data (resident ID, name, mobile) lives only in `customer`; every other table and every
workflow payload refers to customers by their numeric id.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.types import MoneyType, RateType, UtcDateTime


def money(**kw: Any) -> Any:
    return Field(sa_type=MoneyType, **kw)


def timestamp(**kw: Any) -> Any:
    return Field(sa_type=UtcDateTime, **kw)


def json_field(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


class Branch(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=16)
    name: str = Field(max_length=64)
    region_code: str = Field(max_length=6, description="administrative region (first 6 ID digits) served")
    address: str = Field(default="", max_length=200)
    parent_code: str | None = Field(default=None, max_length=16, description="county branch that escalations go to")


class Product(SQLModel, table=True):
    """A loan product. `terms` holds domain.products.ProductTerms as JSON so it can change without a migration."""

    code: str = Field(primary_key=True, max_length=32)
    version: int = 1
    name: str = Field(max_length=64)
    terms: dict = json_field()
    active: bool = True


class StaffUser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    display_name: str = Field(max_length=64)
    role: str = Field(max_length=32, description="customer_manager | approver | ops | admin")
    branch_code: str = Field(foreign_key="branch.code", max_length=16)
    password_hash: str = Field(max_length=256)
    authority_limit: Decimal = money(default=Decimal("0"))
    active: bool = True


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    customer_no: str = Field(unique=True, max_length=20, description="ECIF-like customer number")
    resident_id: str = Field(unique=True, max_length=18)
    name: str = Field(max_length=64)
    mobile: str = Field(index=True, max_length=11)
    birth_date: date
    region_code: str = Field(max_length=6, description="residence region code")
    address: str = Field(default="", max_length=200, description="residence and service address (送达地址)")
    branch_code: str = Field(foreign_key="branch.code", max_length=16)
    customer_type: str = Field(default="farmer", max_length=32, description="farmer | individual_business | salaried")
    annual_income: Decimal = money(default=Decimal("0"))
    total_assets: Decimal = money(default=Decimal("0"))
    total_liabilities: Decimal = money(default=Decimal("0"))
    blacklisted: bool = False
    currently_overdue: bool = False
    settlement_account: str | None = Field(default=None, max_length=32, description="core-banking deposit account")
    created_at: datetime = timestamp()


class LoanApplication(SQLModel, table=True):
    __tablename__ = "loan_application"

    id: int | None = Field(default=None, primary_key=True)
    app_no: str = Field(unique=True, max_length=24)
    workflow_id: str = Field(unique=True, max_length=64)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    product_code: str = Field(foreign_key="product.code", max_length=32)
    product_version: int
    amount: Decimal = money()
    term_months: int
    repayment_method: str = Field(max_length=32)
    guarantee_type: str = Field(max_length=16, description="credit | guaranteed")
    purpose: str = Field(max_length=32)
    channel: str = Field(max_length=16, description="self_service | staff_proxy | whitelist")
    branch_code: str = Field(foreign_key="branch.code", max_length=16, index=True)
    initiator_staff_id: int | None = Field(default=None, foreign_key="staffuser.id")
    assignee: str | None = Field(default=None, max_length=64)
    stage: str = Field(default="submitted", max_length=32, index=True)
    status: str = Field(default="open", max_length=16, index=True, description="open | approved | active | closed outcomes")
    reason_codes: list = json_field(list)
    score: int | None = None
    grade: str | None = Field(default=None, max_length=8)
    credit_limit: Decimal | None = money(default=None, nullable=True)
    approved_amount: Decimal | None = money(default=None, nullable=True)
    annual_rate: Decimal | None = Field(default=None, sa_type=RateType, nullable=True)
    decided_by: int | None = Field(default=None, foreign_key="staffuser.id")
    sla_due_at: datetime | None = timestamp(default=None, nullable=True)
    start_error: str | None = Field(default=None, max_length=256)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class Guarantee(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("application_id", "slot", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="loan_application.id", index=True)
    slot: int = Field(description="1 or 2")
    attempt: int = Field(default=1, description="increments when a guarantor is replaced")
    guarantor_customer_id: int = Field(foreign_key="customer.id", index=True)
    workflow_id: str = Field(unique=True, max_length=80)
    status: str = Field(default="invited", max_length=16, description="invited|consented|declined|expired|signed|replaced")
    updated_at: datetime = timestamp()


class ApplicationEvent(SQLModel, table=True):
    """The loan's business history as staff read it; Temporal keeps the technical history."""

    __tablename__ = "application_event"
    __table_args__ = (UniqueConstraint("application_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="loan_application.id", index=True)
    seq: int = Field(description="workflow event counter; makes a retried write idempotent")
    at: datetime = timestamp()
    stage: str = Field(max_length=32)
    actor: str = Field(default="system", max_length=64)
    detail: dict = json_field()


class RatingRecord(SQLModel, table=True):
    __tablename__ = "rating_record"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    application_id: int | None = Field(default=None, foreign_key="loan_application.id")
    model_version: str = Field(max_length=32)
    score: int
    grade: str = Field(max_length=8)
    credit_limit: Decimal = money()
    reasons: list = json_field(list)
    inputs: dict = json_field()
    rated_at: datetime = timestamp()


class Document(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    doc_no: str = Field(unique=True, max_length=40)
    application_id: int = Field(foreign_key="loan_application.id", index=True)
    kind: str = Field(max_length=32, description="loan_contract | guarantee_contract")
    signer_customer_id: int = Field(foreign_key="customer.id")
    template_version: str = Field(max_length=32)
    sha256: str = Field(max_length=64, description="hash of the issued, unsigned PDF (its imaging key)")
    signed_sha256: str | None = Field(default=None, max_length=64, description="set when signing produces a new PDF")
    signature_id: str | None = Field(default=None, max_length=64, description="the CA's signature record")
    status: str = Field(default="issued", max_length=16, description="issued | signed | void")
    data_snapshot: dict = json_field()
    created_at: datetime = timestamp()
    signed_at: datetime | None = timestamp(default=None, nullable=True)


class CreditLine(SQLModel, table=True):
    __tablename__ = "credit_line"

    id: int | None = Field(default=None, primary_key=True)
    line_no: str = Field(unique=True, max_length=24)
    workflow_id: str = Field(unique=True, max_length=64)
    application_id: int = Field(foreign_key="loan_application.id", unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    branch_code: str = Field(foreign_key="branch.code", max_length=16)
    product_code: str = Field(max_length=32)
    amount: Decimal = money()
    revolving: bool = True
    annual_rate: Decimal = Field(sa_type=RateType)
    start_date: date
    expiry_date: date
    max_term_months: int
    status: str = Field(default="active", max_length=16, description="active | frozen | expired | closed")
    drawn_total: Decimal = money(default=Decimal("0"))
    outstanding_principal: Decimal = money(default=Decimal("0"))
    created_at: datetime = timestamp()


class LoanNote(SQLModel, table=True):
    """借据: one drawdown's loan, with its own amount, term, rate and schedule."""

    __tablename__ = "loan_note"

    id: int | None = Field(default=None, primary_key=True)
    note_no: str = Field(unique=True, max_length=32)
    line_id: int = Field(foreign_key="credit_line.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    amount: Decimal = money()
    term_months: int
    repayment_method: str = Field(max_length=32)
    annual_rate: Decimal = Field(sa_type=RateType)
    status: str = Field(default="pending", max_length=16, description="pending | disbursed | failed | reversed")
    failure_code: str | None = Field(default=None, max_length=48)
    disbursement_ref: str | None = Field(default=None, max_length=64)
    start_date: date
    maturity_date: date
    created_at: datetime = timestamp()
    disbursed_at: datetime | None = timestamp(default=None, nullable=True)


class ScheduleInstallment(SQLModel, table=True):
    __tablename__ = "schedule_installment"
    __table_args__ = (UniqueConstraint("note_id", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="loan_note.id", index=True)
    period: int
    due_date: date
    principal: Decimal = money()
    interest: Decimal = money()


class OneTimeCode(SQLModel, table=True):
    """SMS one-time codes (login, proxy confirmation, signing). Only a hash of the code is kept."""

    __tablename__ = "one_time_code"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(unique=True, max_length=40, description="opaque reference kept as signing evidence")
    customer_id: int = Field(foreign_key="customer.id", index=True)
    purpose: str = Field(max_length=64, description="login | confirm:<app_no> | sign:<doc_no>")
    code_hash: str = Field(max_length=128)
    expires_at: datetime = timestamp()
    attempts: int = 0
    consumed_at: datetime | None = timestamp(default=None, nullable=True)
    created_at: datetime = timestamp()


class IdempotencyRecord(SQLModel, table=True):
    """A POST that starts work, remembered by (principal, Idempotency-Key) so a retry returns the first answer."""

    __tablename__ = "idempotency_record"

    principal: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=128)
    method: str = Field(max_length=8)
    path: str = Field(max_length=256)
    request_hash: str = Field(max_length=64)
    status_code: int | None = None
    response: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = timestamp()
