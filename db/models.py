"""The platform's own tables (SQLModel). Outside-system simulators keep theirs in adapters/*/tables.py.

Personal data (resident ID, name, mobile) lives only in `customer` (and, as collected, in `whitelist_row`
and `household_member`); every other table and every workflow payload refers to customers by their id.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from db.types import FenAmount, MoneyType, RateType, UtcDateTime


def money(**kw: Any) -> Any:
    return Field(sa_type=MoneyType, **kw)


def fen(**kw: Any) -> Any:
    return Field(sa_type=FenAmount, **kw)


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
    court_dishonest: bool = Field(default=False, description="on the court's list of dishonest judgment debtors (失信被执行人)")
    bad_history: bool = Field(default=False, description="a non-performing loan in the credit history (不良记录)")
    settlement_account: str | None = Field(default=None, max_length=32, description="core-banking deposit account")
    created_at: datetime = timestamp()
    # Sign-in tokens issued before this no longer work: the mobile they were issued to changed.
    credentials_changed_at: datetime | None = timestamp(default=None, nullable=True)


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
    stars: int | None = Field(default=None, description="contribution stars: 0 (none) or 3..7")
    source: str = Field(default="realtime", max_length=16, description="realtime | batch | override")
    batch_run_id: int | None = Field(default=None, index=True, description="the quarterly run that wrote it")
    # The real-time engines' full outcome (models, items, contribution indicators, limit breakdown, policy
    # tags, override): nullable so the batch's set-based insert may leave it out.
    detail: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    request_key: str | None = Field(default=None, max_length=160, unique=True,
                                    description="the caller's idempotency key: a retried request gets this record back")


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
    # Signature field -> [page, x1, y1, x2, y2] (PDF points) of its box on the signature page, where the CA
    # draws the visible signature. Empty for documents issued before the boxes existed: signed invisibly.
    signature_boxes: dict = json_field()
    # A voided document says why, and which document replaced it when its terms were amended.
    void_reason: str | None = Field(default=None, max_length=48)
    superseded_by: str | None = Field(default=None, max_length=40, description="doc_no of the replacement")
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
    """借据: one drawdown's loan, with its own amount, term, rate and schedule, and its servicing state.

    The servicing columns are what end of day (db/eod.py) updates in SQL and what domain.servicing
    reads as a NoteState; *_base are 积数 (balance x days, in yuan-days) from which interest is
    round(base x rate / 360)."""

    __tablename__ = "loan_note"

    id: int | None = Field(default=None, primary_key=True)
    note_no: str = Field(unique=True, max_length=32)
    line_id: int = Field(foreign_key="credit_line.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    amount: Decimal = money()
    term_months: int
    repayment_method: str = Field(max_length=32)
    annual_rate: Decimal = Field(sa_type=RateType)
    status: str = Field(default="pending", max_length=16,
                        description="pending | disbursed (being repaid) | settled | failed | reversed")
    failure_code: str | None = Field(default=None, max_length=48)
    disbursement_ref: str | None = Field(default=None, max_length=64)
    payment_mode: str = Field(default="self", max_length=16, description="self (自主支付) | entrusted (受托支付)")
    payee_account: str | None = Field(default=None, max_length=40, description="the counterparty's account, if entrusted")
    start_date: date
    maturity_date: date
    created_at: datetime = timestamp()
    disbursed_at: datetime | None = timestamp(default=None, nullable=True)
    # ---- servicing ----
    penalty_rate: Decimal | None = Field(default=None, sa_type=RateType, nullable=True,
                                         description="罚息 rate on overdue principal, also the 复利 rate")
    allocation_order: str = Field(default="penalty,compound,interest,principal", max_length=64)
    outstanding_principal: Decimal = fen(default=Decimal("0"))
    overdue_principal: Decimal = fen(default=Decimal("0"))
    overdue_interest: Decimal = fen(default=Decimal("0"))
    accrual_base: Decimal = fen(default=Decimal("0"))
    penalty_base: Decimal = fen(default=Decimal("0"))
    compound_base: Decimal = fen(default=Decimal("0"))
    penalty_paid: Decimal = fen(default=Decimal("0"))
    compound_paid: Decimal = fen(default=Decimal("0"))
    dpd: int = Field(default=0, description="days past due after the last end of day")
    classification: str = Field(default="normal", max_length=16,
                                description="normal | special_mention | substandard | doubtful | loss")
    restructured_until: date | None = None
    last_eod_date: date | None = Field(default=None, description="the last business date closed for this note")
    settled_on: date | None = None
    line_frozen_for_overdue: bool = False


class ScheduleInstallment(SQLModel, table=True):
    __tablename__ = "schedule_installment"
    __table_args__ = (
        UniqueConstraint("note_id", "period"),
        # End of day finds the installments falling due: pending ones with due_date <= the date closed.
        Index("ix_schedule_installment_status_due", "status", "due_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="loan_note.id", index=True)
    period: int
    due_date: date
    principal: Decimal = fen()
    interest: Decimal = fen()
    paid_principal: Decimal = fen(default=Decimal("0"))
    paid_interest: Decimal = fen(default=Decimal("0"))
    status: str = Field(default="pending", max_length=8, description="pending | overdue | paid")
    paid_on: date | None = None
    accrual_start: date | None = None
    accrual_end: date | None = None
    accrual_months: int = 0
    accrual_days: int = 0
    annual_rate: Decimal | None = Field(default=None, sa_type=RateType, nullable=True)
    prepaid_interest: Decimal = fen(default=Decimal("0"))


class Repayment(SQLModel, table=True):
    """One repayment (还款) of a note: its allocation, its posting in core banking, and its reversal."""

    __tablename__ = "repayment"
    __table_args__ = (UniqueConstraint("note_id", "request_key", name="uq_repayment_note_key"),)

    id: int | None = Field(default=None, primary_key=True)
    repayment_no: str = Field(unique=True, max_length=40)
    note_id: int = Field(foreign_key="loan_note.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    request_key: str = Field(max_length=128, description="the caller's Idempotency-Key: one repayment per key")
    amount: Decimal = fen()
    requested_by: str = Field(max_length=64)
    status: str = Field(default="requested", max_length=12,
                        description="requested | prepared | posted | failed | reversing | reversed")
    kind: str | None = Field(default=None, max_length=12, description="due | partial | prepayment | payoff")
    value_date: date | None = None
    principal: Decimal = fen(default=Decimal("0"))
    interest: Decimal = fen(default=Decimal("0"))
    penalty: Decimal = fen(default=Decimal("0"))
    compound: Decimal = fen(default=Decimal("0"))
    failure_code: str | None = Field(default=None, max_length=48)
    posting_id: str | None = Field(default=None, max_length=64)
    reversal_posting_id: str | None = Field(default=None, max_length=64)
    # The schedule rows a prepayment or payoff rewrote, as they were: a reversal puts them back.
    schedule_before: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # ... and as the repayment leaves them, fixed when it is prepared, so booking applies exactly that.
    schedule_after: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = timestamp()
    posted_at: datetime | None = timestamp(default=None, nullable=True)
    reversed_at: datetime | None = timestamp(default=None, nullable=True)


class RepaymentLine(SQLModel, table=True):
    """Where a repayment's money went: one bucket of one installment (or of the note, for penalty)."""

    __tablename__ = "repayment_line"

    id: int | None = Field(default=None, primary_key=True)
    repayment_id: int = Field(foreign_key="repayment.id", index=True)
    period: int | None = Field(default=None, description="the installment paid; None for penalty and compound")
    bucket: str = Field(max_length=12, description="penalty | compound | interest | principal")
    amount: Decimal = fen()
    was_overdue: bool = Field(default=False, description="past due on the value date: stopped penalty accruing")


class BusinessCalendar(SQLModel, table=True):
    """The business date: `closed_date` is the last date end of day completed; the open date is the next."""

    __tablename__ = "business_calendar"

    id: str = Field(default="main", primary_key=True, max_length=8)
    closed_date: date
    updated_at: datetime = timestamp()


class EodRun(SQLModel, table=True):
    """End of day for one business date: its chunks and progress."""

    __tablename__ = "eod_run"

    business_date: date = Field(primary_key=True)
    status: str = Field(default="running", max_length=12, description="running | completed")
    first_note_id: int = 0
    last_note_id: int = 0
    chunk_size: int
    chunks_total: int
    chunks_done: int = 0
    notes_processed: int = 0
    started_at: datetime = timestamp()
    finished_at: datetime | None = timestamp(default=None, nullable=True)


class EodChunk(SQLModel, table=True):
    """A chunk of notes closed for a date, written in the same transaction as its updates: its row
    existing is what makes a retried chunk a no-op."""

    __tablename__ = "eod_chunk"

    business_date: date = Field(primary_key=True, foreign_key="eod_run.business_date")
    chunk_no: int = Field(primary_key=True)
    notes: int
    newly_overdue: int = 0
    done_at: datetime = timestamp()


class ServicingNotice(SQLModel, table=True):
    """Outbox of what end of day decided to tell or do (reminders, overdue notices, line freezes), written
    in the chunk's transaction and delivered after it, so a crash loses none and sends none twice."""

    __tablename__ = "servicing_notice"
    __table_args__ = (UniqueConstraint("business_date", "note_id", "kind", name="uq_servicing_notice"),)

    id: int | None = Field(default=None, primary_key=True)
    business_date: date = Field(index=True)
    chunk_no: int
    note_id: int = Field(foreign_key="loan_note.id", index=True)
    kind: str = Field(max_length=16, description="due_soon | overdue | freeze")
    status: str = Field(default="pending", max_length=8, description="pending | sent | failed | skipped")
    sent_at: datetime | None = timestamp(default=None, nullable=True)


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


# ---- Rules management (issue 3): rule sets as versioned data and every decision they made ----------------------


class RuleSet(SQLModel, table=True):
    """One version of a product's rule set for one scenario: a JDM decision model and its shipped test cases.

    draft (uploaded and validated) -> active (a second staff member activated it) -> rolled_back (a rollback
    to an earlier version set it aside). The version in force on a date is the highest active one whose
    `effective_from` has come.
    """

    __tablename__ = "rule_set"
    __table_args__ = (UniqueConstraint("product_code", "scenario", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    product_code: str = Field(max_length=32, index=True)
    scenario: str = Field(max_length=16, description="admission | acceptance | approval | drawdown | pricing")
    version: int
    status: str = Field(default="draft", max_length=16, description="draft | active | rolled_back")
    effective_from: date
    content: dict = json_field()
    tests: list = json_field(list)
    checksum: str = Field(max_length=64, description="SHA-256 of the canonical JDM content")
    note: str = Field(default="", max_length=200)
    created_by: str = Field(max_length=64, description="staff:<id>, or system for the shipped defaults")
    created_at: datetime = timestamp()
    activated_by: str | None = Field(default=None, max_length=64)
    activated_at: datetime | None = timestamp(default=None, nullable=True)
    rolled_back_by: str | None = Field(default=None, max_length=64)
    rolled_back_at: datetime | None = timestamp(default=None, nullable=True)


class DecisionRecord(SQLModel, table=True):
    """One evaluation of a rule set: which version, the facts it read, what it decided and the engine's trace."""

    __tablename__ = "decision_record"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int | None = Field(default=None, foreign_key="loan_application.id", index=True)
    product_code: str = Field(max_length=32)
    scenario: str = Field(max_length=16, index=True)
    rule_set_id: int | None = Field(default=None, foreign_key="rule_set.id")
    rule_set_version: str = Field(max_length=64, description="<product>/<scenario>@v<n>")
    outcome: str = Field(max_length=16, description="approve | manual_review | reject | accept | error")
    reason_codes: list = json_field(list)
    inputs: dict = json_field()
    result: dict = json_field()
    trace: list = json_field(list)
    error: str | None = Field(default=None, max_length=500)
    error_node: str | None = Field(default=None, max_length=64)
    decision_key: str | None = Field(default=None, max_length=160, unique=True,
                                     description="<workflow id>:<step>:<scenario>: a retried activity finds its record")
    decided_at: datetime = timestamp()


class LprRate(SQLModel, table=True):
    """The loan prime rate as published, one row per tenor and effective date (the pricing table of issue 3).

    draft (entered) -> approved (by a second person: only approved rows price loans) or rejected (kept, with
    the reason). One live (draft or approved) row per tenor and date; a rejected one leaves room for another."""

    __tablename__ = "lpr_rate"
    __table_args__ = (Index("uq_lpr_rate_live", "tenor", "effective_from", unique=True,
                            postgresql_where=text("status <> 'rejected'"), sqlite_where=text("status <> 'rejected'")),)

    id: int | None = Field(default=None, primary_key=True)
    tenor: str = Field(max_length=4, description="1Y | 5Y")
    effective_from: date
    rate: Decimal = Field(sa_type=RateType, description="a fraction: 0.0300 is 3.00 %")
    status: str = Field(default="draft", max_length=16, description="draft | approved | rejected")
    created_by: str = Field(max_length=64)
    created_at: datetime = timestamp()
    decided_by: str | None = Field(default=None, max_length=64, description="who approved or rejected it")
    decided_at: datetime | None = timestamp(default=None, nullable=True)
    reject_reason: str | None = Field(default=None, max_length=200)


class ProductVersion(SQLModel, table=True):
    """Every version of a product's terms as staff defined it: draft -> active (a second person) -> superseded.

    Activating a version copies it into `product`, which new applications read; an application keeps the
    version it started with (`loan_application.product_version`, and the terms in its workflow input).
    """

    __tablename__ = "product_version"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, index=True)
    version: int
    name: str = Field(max_length=64)
    terms: dict = json_field()
    status: str = Field(default="draft", max_length=16, description="draft | active | superseded")
    note: str = Field(default="", max_length=200)
    created_by: str = Field(max_length=64)
    created_at: datetime = timestamp()
    activated_by: str | None = Field(default=None, max_length=64)
    activated_at: datetime | None = timestamp(default=None, nullable=True)
# ---- Whitelist campaigns (批量白名单, issue 7) ------------------------------------------------------------


class WhitelistCampaign(SQLModel, table=True):
    """One uploaded whitelist file. The same file (by SHA-256) is one campaign, however often it is uploaded."""

    __tablename__ = "whitelist_campaign"

    id: int | None = Field(default=None, primary_key=True)
    campaign_no: str = Field(unique=True, max_length=24)
    workflow_id: str = Field(unique=True, max_length=64)
    file_sha256: str = Field(unique=True, max_length=64)
    filename: str = Field(default="", max_length=200)
    file_format: str = Field(max_length=8, description="csv | xlsx")
    encoding: str | None = Field(default=None, max_length=16)
    uploaded_by: int = Field(foreign_key="staffuser.id")
    branch_code: str = Field(foreign_key="branch.code", max_length=16, index=True, description="the uploader's")
    rows_total: int = 0
    rows_valid: int = 0
    rows_refused: int = 0
    report: list = json_field(list)
    status: str = Field(default="validated", max_length=16,
                        description="validated | running | paused | cancelled | completed")
    start_error: str | None = Field(default=None, max_length=256)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class WhitelistRow(SQLModel, table=True):
    """A valid whitelist row, normalised. Holds personal data (the row as uploaded) like `customer` does;
    workflows carry only its id."""

    __tablename__ = "whitelist_row"
    __table_args__ = (UniqueConstraint("campaign_id", "row_no"), Index("ix_whitelist_row_open", "resident_id", "status"))

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="whitelist_campaign.id", index=True)
    row_no: int
    offer_no: str = Field(unique=True, max_length=32)
    resident_id: str = Field(max_length=18)
    name: str = Field(max_length=64)
    mobile: str = Field(max_length=11)
    preapproved_limit: Decimal = money()
    product_code: str = Field(foreign_key="product.code", max_length=32)
    manager_staff_id: int = Field(foreign_key="staffuser.id", index=True)
    branch_code: str = Field(foreign_key="branch.code", max_length=16, index=True)
    annual_income: Decimal | None = money(default=None, nullable=True)
    total_assets: Decimal | None = money(default=None, nullable=True)
    total_liabilities: Decimal | None = money(default=None, nullable=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    status: str = Field(default="pending", max_length=16,
                        description="pending | invited | accepted | declined | expired | refused | cancelled")
    reason_code: str | None = Field(default=None, max_length=64)
    grade: str | None = Field(default=None, max_length=8)
    offer_limit: Decimal | None = money(default=None, nullable=True)
    expires_at: datetime | None = timestamp(default=None, nullable=True)
    invited_at: datetime | None = timestamp(default=None, nullable=True)
    accepted_at: datetime | None = timestamp(default=None, nullable=True)
    application_id: int | None = Field(default=None, foreign_key="loan_application.id", unique=True)
    updated_at: datetime = timestamp()


# ---- Household archive (农户建档, issue 4) ------------------------------------------------------------------
# Shared by the archive service (collection, edits, completeness) and the rating engines, which read the
# household's columns set-based in the quarterly batch. Facts the scorecard reads are columns, not JSON.


class Village(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=12, description="administrative village code (12 digits)")
    name: str = Field(max_length=64)
    branch_code: str = Field(foreign_key="branch.code", max_length=16, index=True)
    credit_village: bool = Field(default=False, description="信用村: a policy tag the pricing and rating read")


class Household(SQLModel, table=True):
    """一户一档: one archive per household, headed by one customer. Money is yuan per year or at the date of
    collection; `version` increments on every edit (optimistic locking and the change history)."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", unique=True, description="the household head")
    village_code: str = Field(foreign_key="village.code", max_length=12, index=True)
    branch_code: str = Field(foreign_key="branch.code", max_length=16, index=True)
    manager_staff_id: int | None = Field(default=None, foreign_key="staffuser.id", index=True)
    status: str = Field(default="draft", max_length=16, index=True, description="draft | archived")
    member_count: int = 1
    labour_count: int = 1
    main_business: str = Field(default="crop", max_length=32,
                               description="crop | livestock | aquaculture | business | wage | other")
    acreage_mu: Decimal = Field(default=Decimal("0"), sa_type=MoneyType, description="land farmed, 亩")
    livestock_heads: int = 0
    business_years: int = Field(default=0, description="years in the current farm or business")
    house_owned: bool = False
    annual_income: Decimal = money(default=Decimal("0"), description="family income per year")
    annual_expenses: Decimal = money(default=Decimal("0"), description="family production and living expenses per year")
    total_assets: Decimal = money(default=Decimal("0"))
    total_liabilities: Decimal = money(default=Decimal("0"))
    policy_tags: list = json_field(list)
    version: int = 1
    archived_at: datetime | None = timestamp(default=None, nullable=True)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class ContributionFacts(SQLModel, table=True):
    """What the customer brings the cooperative, as the data warehouse (数仓) reports it for a date: the
    contribution engine's input. One row per customer, replaced by each sync."""

    __tablename__ = "contribution_facts"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    as_of: date
    avg_daily_assets: Decimal = money(default=Decimal("0"), description="average daily deposits and wealth, 12 months")
    avg_daily_assets_prev: Decimal = money(default=Decimal("0"), description="the same for the 12 months before (growth)")
    avg_loan_balance: Decimal = money(default=Decimal("0"))
    settlement_txns: int = Field(default=0, description="settlement transactions in 12 months")
    months_as_customer: int = Field(default=0, description="loyalty")
    products_held: int = Field(default=0, description="loyalty: deposit, loan, card, e-banking ...")


class CustomerRating(SQLModel, table=True):
    """The customer's current rating: the latest rating_record in force (realtime, batch or approved override)."""

    __tablename__ = "customer_rating"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    rating_record_id: int = Field(foreign_key="rating_record.id")
    model_version: str = Field(max_length=32)
    score: int
    grade: str = Field(max_length=8, index=True)
    stars: int = 0
    source: str = Field(max_length=16)
    rated_at: datetime = timestamp()


# ---- Archive details, code tables, reminders and transfers (issue 4, part A) -----------------------------------
# The items below are the archive as collected; the service keeps Household's aggregate columns (acreage_mu,
# livestock_heads, annual_income, annual_expenses, total_assets, total_liabilities) equal to their sums.


class ArchiveCode(SQLModel, table=True):
    """Code tables of the collection form: crops, livestock and business kinds (village codes are `village`)."""

    __tablename__ = "archive_code"

    kind: str = Field(primary_key=True, max_length=16, description="crop | livestock | business")
    code: str = Field(primary_key=True, max_length=16)
    name_zh: str = Field(max_length=32)
    name_en: str = Field(max_length=64)
    unit: str = Field(max_length=8, description="default unit of quantity, e.g. 亩, 头, 羽, 家")


class HouseholdMember(SQLModel, table=True):
    """A member of the household other than its head. Holds personal data, like `customer`: never copied into
    workflow payloads, search attributes, logs or the change history (which masks it)."""

    __tablename__ = "household_member"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    seq: int = Field(description="position in the archive form")
    relation: str = Field(max_length=16, description="spouse | child | parent | sibling | grandchild | other")
    name: str = Field(max_length=64)
    resident_id: str | None = Field(default=None, max_length=18)
    mobile: str | None = Field(default=None, max_length=11)
    birth_date: date | None = None
    is_labour: bool = Field(default=False, description="counts as a labourer (劳动力)")
    occupation: str = Field(default="", max_length=32)


class HouseholdProduction(SQLModel, table=True):
    """One production or operation item (生产经营): a crop, a herd or flock, or a business."""

    __tablename__ = "household_production"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    seq: int
    kind: str = Field(max_length=16, description="crop | livestock | business")
    code: str = Field(max_length=16, description="archive_code of that kind")
    quantity: Decimal = Field(default=Decimal("0"), sa_type=MoneyType, description="in `unit`; heads for livestock")
    unit: str = Field(max_length=8)
    acreage_mu: Decimal = Field(default=Decimal("0"), sa_type=MoneyType, description="land used, 亩")
    annual_revenue: Decimal = money(default=Decimal("0"))


class HouseholdFinance(SQLModel, table=True):
    """One line of family income, expenses, assets or liabilities (收支, 资产负债)."""

    __tablename__ = "household_finance"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    seq: int
    category: str = Field(max_length=16, description="income | expense | asset | liability")
    kind: str = Field(max_length=16, description="domain.archive.FINANCE_KINDS of the category")
    amount: Decimal = money()
    note: str = Field(default="", max_length=64)


class HouseholdImage(SQLModel, table=True):
    """An image of the archive kept on the imaging platform; this row holds its key, never the bytes."""

    __tablename__ = "household_image"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    kind: str = Field(max_length=16, description="id_front | id_back | house | land | livestock | business | other")
    sha256: str = Field(max_length=64)
    content_type: str = Field(max_length=64)
    size: int
    uploaded_by: int = Field(foreign_key="staffuser.id")
    uploaded_at: datetime = timestamp()


class HouseholdChange(SQLModel, table=True):
    """The archive's change history: who changed which field when, old -> new, personal data masked."""

    __tablename__ = "household_change"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    version: int = Field(description="the archive's version after the change")
    action: str = Field(max_length=16, description="create | edit | submit | image | transfer | share")
    field: str = Field(max_length=64)
    old_value: str | None = Field(default=None, max_length=128)
    new_value: str | None = Field(default=None, max_length=128)
    actor_staff_id: int | None = Field(default=None, foreign_key="staffuser.id")
    changed_at: datetime = timestamp()


class StaffReminder(SQLModel, table=True):
    """A reminder a staff member set for themselves (自设提醒), optionally about one archive."""

    __tablename__ = "staff_reminder"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staffuser.id", index=True)
    household_id: int | None = Field(default=None, foreign_key="household.id")
    due_date: date
    note: str = Field(max_length=200)
    done_at: datetime | None = timestamp(default=None, nullable=True)
    created_at: datetime = timestamp()


class ArchiveTransfer(SQLModel, table=True):
    """A request to move an archive to another manager (transfer) or let one more manager work on it (share);
    a second person (the branch's approver or an administrator) decides. An approved share stays in force
    until revoked."""

    __tablename__ = "archive_transfer"
    # One pending transfer per archive, and one pending or approved (in force) share per archive and manager:
    # the database holds it when two requests pass the service's check at once.
    __table_args__ = (
        Index("uq_archive_transfer_pending", "household_id", unique=True,
              postgresql_where=text("kind = 'transfer' AND status = 'pending'"),
              sqlite_where=text("kind = 'transfer' AND status = 'pending'")),
        Index("uq_archive_share_live", "household_id", "to_staff_id", unique=True,
              postgresql_where=text("kind = 'share' AND status IN ('pending', 'approved')"),
              sqlite_where=text("kind = 'share' AND status IN ('pending', 'approved')")),
    )

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    kind: str = Field(max_length=16, description="transfer | share")
    from_staff_id: int | None = Field(default=None, foreign_key="staffuser.id")
    to_staff_id: int = Field(foreign_key="staffuser.id", index=True)
    branch_code: str = Field(foreign_key="branch.code", max_length=16, index=True)
    requested_by: int = Field(foreign_key="staffuser.id")
    reason: str = Field(default="", max_length=200)
    status: str = Field(default="pending", max_length=16, index=True,
                        description="pending | approved | rejected | cancelled | revoked")
    decided_by: int | None = Field(default=None, foreign_key="staffuser.id")
    decision_note: str = Field(default="", max_length=200)
    requested_at: datetime = timestamp()
    decided_at: datetime | None = timestamp(default=None, nullable=True)


class MobileChange(SQLModel, table=True):
    """A change of the mobile a customer signs in and signs with (更换手机号): asked for at a branch with the
    customer present, the new number proven by a code texted to it, put in force by a second person. Holds
    personal data (the numbers), like `customer`."""

    __tablename__ = "mobile_change"
    # One open change per customer: the database holds it when two requests pass the service's check at once.
    __table_args__ = (Index("uq_mobile_change_open", "customer_id", unique=True,
                            postgresql_where=text("status IN ('awaiting_code', 'awaiting_approval')"),
                            sqlite_where=text("status IN ('awaiting_code', 'awaiting_approval')")),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    branch_code: str = Field(foreign_key="branch.code", max_length=16, index=True)
    old_mobile: str = Field(max_length=11)
    new_mobile: str = Field(max_length=11)
    reason: str = Field(default="", max_length=200)
    status: str = Field(default="awaiting_code", max_length=20, index=True,
                        description="awaiting_code | awaiting_approval | completed | rejected | cancelled | expired")
    requested_by: int = Field(foreign_key="staffuser.id")
    requested_at: datetime = timestamp()
    confirmed_at: datetime | None = timestamp(default=None, nullable=True)
    decided_by: int | None = Field(default=None, foreign_key="staffuser.id")
    decision_note: str = Field(default="", max_length=200)
    decided_at: datetime | None = timestamp(default=None, nullable=True)
    old_mobile_notified: bool = Field(default=False, description="the notice to the old number went out")


# ---- Rating models and overrides (issue 4) -------------------------------------------------------------------


class RatingModel(SQLModel, table=True):
    """One version of a credit scorecard or contribution model (domain.rating.model) with the test cases that
    must pass. draft (uploaded, validated) -> active (a second person activated it; the code's previous active
    version becomes retired). One active version per code."""

    __tablename__ = "rating_model"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, description="scorecard | contribution")
    code: str = Field(max_length=32, index=True)
    version: int
    status: str = Field(default="draft", max_length=16, description="draft | active | retired")
    content: dict = json_field()
    tests: list = json_field(list)
    checksum: str = Field(max_length=64)
    note: str = Field(default="", max_length=200)
    created_by: str = Field(max_length=64, description="staff:<id>, or system for the shipped default")
    created_at: datetime = timestamp()
    activated_by: str | None = Field(default=None, max_length=64)
    activated_at: datetime | None = timestamp(default=None, nullable=True)


class RatingOverride(SQLModel, table=True):
    """A request to change a customer's grade by hand; a second staff member approves or rejects it. The
    approval writes a rating_record with source=override."""

    __tablename__ = "rating_override"
    # One pending request per customer, held by the database when two requests pass the service's check at once.
    __table_args__ = (Index("uq_rating_override_pending", "customer_id", unique=True,
                            postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    base_record_id: int = Field(foreign_key="rating_record.id", description="the rating it changes")
    from_grade: str = Field(max_length=8)
    to_grade: str = Field(max_length=8)
    reason: str = Field(max_length=200)
    status: str = Field(default="pending", max_length=16, index=True, description="pending | approved | rejected")
    requested_by: str = Field(max_length=64)
    requested_at: datetime = timestamp()
    decided_by: str | None = Field(default=None, max_length=64)
    decided_at: datetime | None = timestamp(default=None, nullable=True)
    decision_note: str = Field(default="", max_length=200)
    result_record_id: int | None = Field(default=None, foreign_key="rating_record.id")


# ---- Quarterly batch rating (issue 4) ----------------------------------------------------------------------


class RatingBatchRun(SQLModel, table=True):
    """One quarterly re-rating of every archived household: the models it uses (fixed when it starts, so a
    resumed run scores with the same versions), its id range of households cut into chunks, its totals."""

    __tablename__ = "rating_batch_run"

    id: int | None = Field(default=None, primary_key=True)
    run_key: str = Field(unique=True, max_length=160, description="the starting workflow: makes planning idempotent")
    quarter: str = Field(max_length=8, index=True, description="e.g. 2027Q1")
    as_of: date = Field(description="ages are counted on this date")
    status: str = Field(default="running", max_length=12, description="running | completed | abandoned")
    model_code: str = Field(max_length=32)
    model_version: int
    contribution_code: str = Field(max_length=32)
    contribution_version: int
    models: dict = json_field()
    first_household_id: int = 0
    chunk_size: int
    chunks_total: int
    households_rated: int = 0
    households_failed: int = 0
    started_at: datetime = timestamp()
    finished_at: datetime | None = timestamp(default=None, nullable=True)


class RatingBatchChunk(SQLModel, table=True):
    """A chunk rated, written in the chunk's own transaction: its row existing makes a retry a no-op.
    `migrations` holds [previous grade or null, new grade, prefiltered, households] for the run's report."""

    __tablename__ = "rating_batch_chunk"

    run_id: int = Field(primary_key=True, foreign_key="rating_batch_run.id")
    chunk_no: int = Field(primary_key=True)
    rated: int = 0
    failed: int = 0
    migrations: list = json_field(list)
    done_at: datetime = timestamp()


class RatingBatchFailure(SQLModel, table=True):
    """A household the run could not rate, with every reason (code, field, zh, en): reported, never dropped."""

    __tablename__ = "rating_batch_failure"
    __table_args__ = (UniqueConstraint("run_id", "household_id", name="uq_rating_batch_failure"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="rating_batch_run.id", index=True)
    chunk_no: int
    household_id: int = Field(foreign_key="household.id")
    customer_id: int = Field(foreign_key="customer.id")
    reasons: list = json_field(list)
