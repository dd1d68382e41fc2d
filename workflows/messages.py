"""Typed payloads for workflows, updates, signals, queries and activities.

Payloads carry ids, amounts and codes — never resident-ID numbers, names or mobile numbers. They are
plain pydantic models and travel with the pydantic data converter (Decimal stays exact).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from domain.pricing import PriceBreakdown
from domain.products import ProductTerms
from domain.refusals import Refusal

# ---- LoanApplicationWorkflow -------------------------------------------------------------------


class LoanApplicationInput(BaseModel):
    application_id: int
    app_no: str
    customer_id: int
    product: ProductTerms = Field(description="pinned at start: later product edits never change this loan")
    amount: Decimal
    term_months: int
    repayment_method: str
    guarantee_type: Literal["credit", "guaranteed"]
    channel: Literal["self_service", "staff_proxy", "whitelist"]
    branch_code: str
    escalation_branch_code: str | None = Field(default=None, description="county branch that takes overdue approvals")
    branch_approval_limit: Decimal | None = Field(
        default=None, description="the most the branch's approvers may approve: above it, the county decides")
    initiator_staff_id: int | None = None
    guarantor_customer_ids: list[int] = []


class ConfirmInput(BaseModel):
    """The customer confirmed a staff-proxy application; the API checked the SMS code first."""

    customer_id: int
    otp_ref: str


class ApprovalDecisionInput(BaseModel):
    approver_id: int
    approver_role: str
    authority_limit: Decimal
    approver_branch: str
    decision: Literal["approve", "reject", "refer_back"]
    reason_codes: list[str] = []
    comment: str = ""
    approved_amount: Decimal | None = None


class AmendTermsInput(BaseModel):
    """An approver changes the terms while the contracts await signatures: a lower (or the same) amount,
    another term, repayment method or rate within the product's pricing. Every contract of the old terms
    is voided, signed or not, new ones are issued, and every guarantor consents and signs again."""

    approver_id: int
    approver_role: str
    authority_limit: Decimal
    approver_branch: str
    approved_amount: Decimal
    reason_code: str = Field(min_length=1, max_length=48)
    term_months: int | None = None
    repayment_method: str | None = None
    annual_rate: Decimal | None = None


class SupersedeDocumentsInput(BaseModel):
    application_id: int
    reason_code: str = Field(description="why the terms changed; the voided documents record it")


class SupplyInfoInput(BaseModel):
    actor: str
    note: str = ""


class SignInput(BaseModel):
    document_id: int
    signer_customer_id: int
    otp_ref: str


class WithdrawInput(BaseModel):
    customer_id: int
    reason: str = ""


class CancelInput(BaseModel):
    staff_id: int
    staff_role: str
    reason_code: str
    comment: str = ""


class ReplaceGuarantorInput(BaseModel):
    slot: int
    guarantor_customer_id: int
    actor: str


class GuarantorStatusSignal(BaseModel):
    slot: int
    attempt: int
    status: Literal["consented", "declined", "expired", "signed", "sign_expired"]


class GuarantorSlotView(BaseModel):
    slot: int
    attempt: int
    guarantor_customer_id: int
    status: str
    workflow_id: str


class DocumentRef(BaseModel):
    document_id: int
    doc_no: str
    kind: Literal["loan_contract", "guarantee_contract"]
    signer_customer_id: int
    sha256: str
    guarantor_slot: int | None = None


class ApplicationState(BaseModel):
    """What the `state` query returns: the business state of one application, free of personal data."""

    app_no: str
    stage: str
    status: str
    reason_codes: list[str] = []
    assignee: str | None = None
    sla_due_at: datetime | None = None
    escalation_level: int = 0
    grade: str | None = None
    credit_limit: Decimal | None = None
    approved_amount: Decimal | None = None
    annual_rate: Decimal | None = None
    guarantors: list[GuarantorSlotView] = []
    documents: list[DocumentRef] = []
    signed_document_ids: list[int] = []
    contract_revision: int = Field(default=1, description="2 and up after terms were amended")
    term_months: int | None = Field(default=None, description="set once amended terms changed the applied term")
    repayment_method: str | None = Field(default=None, description="set once amended terms changed it")
    line_no: str | None = None


class LoanApplicationResult(BaseModel):
    app_no: str
    status: str
    reason_codes: list[str] = []
    line_no: str | None = None


# ---- GuarantorConsentWorkflow -----------------------------------------------------------------


class GuarantorInput(BaseModel):
    application_id: int
    app_no: str
    parent_workflow_id: str
    slot: int
    attempt: int
    guarantor_customer_id: int
    borrower_customer_id: int
    amount: Decimal
    consent_deadline_hours: int
    signing_deadline_hours: int


class ConsentInput(BaseModel):
    customer_id: int
    accept: bool


class ContractReadySignal(BaseModel):
    document_id: int


class GuarantorResult(BaseModel):
    slot: int
    attempt: int
    status: str


class GuarantorState(BaseModel):
    slot: int
    attempt: int
    status: str
    document_id: int | None = None


# ---- CreditLineWorkflow and DrawdownWorkflow --------------------------------------------------


class CreditLineInput(BaseModel):
    line_id: int
    line_no: str
    customer_id: int
    branch_code: str
    product: ProductTerms
    amount: Decimal
    revolving: bool
    expiry_date: date
    max_term_months: int
    # Carried across continue-as-new so history stays bounded while the line lives for years.
    drawn_total: Decimal = Decimal("0")
    outstanding_principal: Decimal = Decimal("0")
    drawdown_seq: int = 0
    status: str = "active"
    repayment_methods: list[str] = Field(default_factory=list, description="as the contract says; empty: the product's")
    # Update id -> note number of recent drawdowns: Temporal dedupes update ids within one run only, so a
    # retried request that arrives after continue-as-new must still find the drawdown it already made.
    recent_requests: dict[str, str] = {}
    # Repayments already counted (PrincipalRepaidSignal.ref), so a repeated signal frees the limit once.
    repaid_refs: list[str] = []
    # Why a frozen line is frozen: a cured overdue thaws it only if nothing else froze it.
    freeze_reasons: list[str] = []


class DrawdownRequest(BaseModel):
    amount: Decimal
    term_months: int
    repayment_method: str
    requested_by: str
    # 受托支付: the money goes straight to a registered payee (a seed or feed supplier, by its reference),
    # not to the borrower's account. Payee references are business codes, never personal data.
    payment_mode: Literal["self", "entrusted"] = "self"
    payee_ref: str | None = Field(default=None, max_length=32)


class DrawdownAccepted(BaseModel):
    note_no: str
    workflow_id: str


class DrawdownSettledSignal(BaseModel):
    note_no: str
    amount: Decimal
    status: Literal["disbursed", "failed"]
    failure_code: str | None = None


class FreezeSignal(BaseModel):
    reason_code: str
    actor: str


class CreditLineState(BaseModel):
    line_no: str
    status: str
    amount: Decimal
    available: Decimal
    drawn_total: Decimal
    outstanding_principal: Decimal
    pending: Decimal
    expiry_date: date
    drawdowns: list[str] = []


class DrawdownInput(BaseModel):
    line_id: int
    line_no: str
    note_no: str
    parent_workflow_id: str
    customer_id: int
    branch_code: str
    product: ProductTerms
    amount: Decimal
    term_months: int
    repayment_method: str
    payment_mode: Literal["self", "entrusted"] = "self"
    payee_ref: str | None = None


class DrawdownResult(BaseModel):
    note_no: str
    status: Literal["disbursed", "failed"]
    failure_code: str | None = None
    posting_ref: str | None = None


# ---- Activity payloads -------------------------------------------------------------------------


class StageUpdate(BaseModel):
    """Keeps the database read model (stage, status, reasons, history) in step with the workflow."""

    application_id: int
    seq: int = Field(description="the workflow's event counter: a retried write records the event once")
    stage: str
    status: str = "open"
    actor: str = "system"
    reason_codes: list[str] = []
    assignee: str | None = None
    sla_due_at: datetime | None = None
    detail: dict = {}


class ApplicationRef(BaseModel):
    application_id: int
    product: ProductTerms
    guarantor_customer_ids: list[int] = []
    decision_key: str | None = Field(
        default=None, description="<workflow id>:<step>, from the workflow: a retried step finds the decisions "
                                  "it already recorded (none in old histories: those decide afresh)")


class AcceptanceResult(BaseModel):
    accepted: bool
    refusals: list[Refusal] = []
    rule_set_version: str | None = Field(default=None, description="the acceptance rule set that decided")
    decision_id: int | None = Field(default=None, description="decision_record.id: facts and trace")


class ReviewResult(BaseModel):
    model_version: str
    score: int
    grade: str
    credit_limit: Decimal
    decision: Literal["approve", "manual_review", "reject"]
    reason_codes: list[str]
    price: PriceBreakdown | None = None
    rule_set_version: str | None = Field(default=None, description="the approval rule set that decided")
    decision_id: int | None = Field(default=None, description="decision_record.id: facts and trace")


class SmsRequest(BaseModel):
    idempotency_key: str
    customer_id: int
    template: str
    params: dict[str, str] = {}


class ConfirmationCodeRequest(BaseModel):
    application_id: int
    customer_id: int
    purpose: str
    ttl_minutes: int


class IssueContractsInput(BaseModel):
    application_id: int
    approved_amount: Decimal
    annual_rate: Decimal
    line_validity_months: int
    revolving: bool
    price: PriceBreakdown | None = Field(default=None, description="the review's price: the LPR the contract prints")
    guarantor_slots: dict[int, int] = Field(default_factory=dict, description="slot -> guarantor customer id")
    revision: int = Field(default=1, description="contracts of amended terms get a new number: HT…-R<n>")


class SignDocumentInput(BaseModel):
    document_id: int
    signer_customer_id: int
    otp_ref: str
    channel: str


class SignDocumentResult(BaseModel):
    document_id: int
    signature_id: str


class GuaranteeRecord(BaseModel):
    application_id: int
    slot: int
    attempt: int
    guarantor_customer_id: int
    workflow_id: str
    status: str


class ActivateLineInput(BaseModel):
    application_id: int
    approved_amount: Decimal
    annual_rate: Decimal
    revolving: bool
    validity_months: int
    max_term_months: int


class LineRef(BaseModel):
    line_id: int
    status: str


class LineActivated(BaseModel):
    line_id: int
    line_no: str
    workflow_id: str
    amount: Decimal
    revolving: bool
    expiry_date: date
    max_term_months: int


class CreateNoteInput(BaseModel):
    line_id: int
    note_no: str
    customer_id: int
    product: ProductTerms
    amount: Decimal
    term_months: int
    repayment_method: str
    payment_mode: Literal["self", "entrusted"] = "self"
    payee_ref: str | None = None


class IssueNoteDocumentsInput(BaseModel):
    note_no: str


class NoteDocuments(BaseModel):
    """The documents issued for one note (the 借据 with its schedule; before drawdown-note/4 also the
    schedule apart, `<note_no>-S`): numbers only."""

    doc_nos: list[str]
    note_document_id: int | None = Field(default=None, description="the note's document, which the borrower signs")


class DrawdownState(BaseModel):
    """What the drawdown's `state` query and its `sign_note` update answer: no personal data."""

    note_no: str
    stage: str
    borrower_customer_id: int
    note_document_id: int | None = None
    signed: bool = False
    failure_code: str | None = None


class NoteCreated(BaseModel):
    note_id: int
    note_no: str
    annual_rate: Decimal
    account_tail: str = Field(description="last four digits of the account paid, for the SMS")
    payment_mode: Literal["self", "entrusted"] = "self"


class DisburseInput(BaseModel):
    """The account number is looked up by the activity: it never travels in workflow history."""

    note_no: str
    idempotency_key: str
    customer_id: int
    amount: Decimal


class PostingRef(BaseModel):
    posting_id: str
    idempotency_key: str
    amount: Decimal


class SettleNoteInput(BaseModel):
    note_no: str
    status: Literal["disbursed", "failed", "reversed"]
    posting_id: str | None = None
    failure_code: str | None = None


class LineStatusUpdate(BaseModel):
    line_id: int
    status: str
    drawn_total: Decimal
    outstanding_principal: Decimal


# ---- servicing: repayments and end of day ----

class RepaymentInput(BaseModel):
    repayment_id: int
    repayment_no: str
    note_no: str
    customer_id: int
    line_workflow_id: str


class RepaymentPrepared(BaseModel):
    """The allocation fixed for a repayment (amounts only; what each installment got stays in the DB)."""
    repayment_no: str
    note_no: str
    customer_id: int
    kind: str
    value_date: date
    principal: Decimal
    interest: Decimal
    penalty: Decimal
    compound: Decimal


class RepaymentBooked(BaseModel):
    repayment_no: str
    principal: Decimal
    note_settled: bool
    cured: bool = Field(description="no longer past due, and the line had been frozen for it")


class RepaymentResult(BaseModel):
    repayment_no: str
    status: Literal["posted", "failed", "reversed"]
    kind: str | None = None
    failure_code: str | None = None
    posting_id: str | None = None


class RepaymentOutcome(BaseModel):
    """How a repayment ended, for the read model: failed, or posted with its posting."""
    repayment_no: str
    status: Literal["posted", "failed", "reversed"]
    failure_code: str | None = None
    posting_id: str | None = None


class ReversalInput(BaseModel):
    repayment_no: str
    note_no: str
    customer_id: int
    line_workflow_id: str
    requested_by: str


class PrincipalRepaidSignal(BaseModel):
    """Principal came back (positive) or a reversal took it away again (negative): revolving lines
    free or reserve that much of their limit. `ref` makes a repeated signal count once."""
    ref: str
    amount: Decimal


class EodInput(BaseModel):
    through: date | None = Field(default=None, description="close every date up to this one; None: yesterday "
                                                            "in Beijing, as the daily Schedule does")


class EodChunkInput(BaseModel):
    business_date: date
    chunk_no: int = Field(description="-1: every chunk of the date (delivering notices)")


class EodNoticesInput(BaseModel):
    business_date: date
    parallel: int = 2


class EodDayPlan(BaseModel):
    business_date: date
    chunks_total: int
    chunks_done: list[int]
    parallel: int


class EodChunkResult(BaseModel):
    chunk_no: int
    notes: int
    newly_overdue: int


class EodDayResult(BaseModel):
    business_date: date
    chunks: int
    notes: int
    newly_overdue: int
    notices: int


class EodProgress(BaseModel):
    business_date: date | None
    through: date | None
    chunks_done: int
    chunks_total: int
    notes_closed: int
    days_closed: list[EodDayResult]


# ---- Whitelist campaigns (WhitelistCampaignWorkflow, WhitelistOfferWorkflow) ------------------------


class CampaignCounts(BaseModel):
    """Rows by outcome so far. A row is `invited` once its SMS went out and stays counted there."""

    started: int = 0
    invited: int = 0
    accepted: int = 0
    declined: int = 0
    expired: int = 0
    cancelled: int = 0
    failed: dict[str, int] = Field(default_factory=dict, description="rows that got no offer, by reason code")


class WhitelistCampaignInput(BaseModel):
    campaign_id: int
    campaign_no: str
    rows_total: int
    products: dict[str, ProductTerms] = Field(description="the rows' products by code, pinned at start")
    window: int = Field(ge=1, description="rows being rated and invited at once")
    offer_seconds: int = Field(ge=1, description="how long an invitation stays open")
    public_base_url: str
    history_limit: int = Field(default=10_000, description="continue as new beyond this many history events")
    # Carried across continue-as-new.
    cursor: int = Field(default=0, description="id of the last row started")
    counts: CampaignCounts = Field(default_factory=CampaignCounts)
    in_window: list[int] = Field(default_factory=list, description="row ids started and not yet invited or ended")
    open_rows: list[int] = Field(default_factory=list, description="row ids started and not yet ended")
    paused: bool = False
    cancelled: bool = False
    runs: int = 1


class CampaignProgress(BaseModel):
    campaign_no: str
    status: Literal["running", "paused", "cancelling", "cancelled", "completed"]
    rows_total: int
    counts: CampaignCounts
    in_window: int
    waiting_for_customers: int
    runs: int


class CampaignActionInput(BaseModel):
    staff_id: int
    action: Literal["pause", "resume", "cancel"]


class RowOutcomeSignal(BaseModel):
    row_id: int
    outcome: Literal["invited", "accepted", "declined", "expired", "cancelled", "failed"]
    reason_code: str | None = None


class NextRowsInput(BaseModel):
    campaign_id: int
    after_row_id: int
    limit: int


class RowRef(BaseModel):
    row_id: int
    product_code: str


class CampaignStatusUpdate(BaseModel):
    campaign_id: int
    status: str


class CancelPendingRowsInput(BaseModel):
    campaign_id: int
    after_row_id: int


class WhitelistOfferInput(BaseModel):
    row_id: int
    offer_no: str
    campaign_workflow_id: str
    product: ProductTerms
    offer_seconds: int
    public_base_url: str


class OfferPrepared(BaseModel):
    customer_id: int
    offer: bool
    offer_limit: Decimal = Decimal("0")
    grade: str
    reason_codes: list[str] = []
    limit_capped: bool = False


class RowStatusUpdate(BaseModel):
    row_id: int
    status: Literal["invited", "declined", "expired", "cancelled"]
    reason_code: str | None = None
    expires_at: datetime | None = None


class AcceptOfferInput(BaseModel):
    """The customer accepts the invitation on the phone; the API checked who they are."""

    customer_id: int
    amount: Decimal
    term_months: int
    repayment_method: str
    purpose: str


class DeclineOfferInput(BaseModel):
    customer_id: int


class OpenApplicationInput(BaseModel):
    row_id: int
    product: ProductTerms
    amount: Decimal
    term_months: int
    repayment_method: str
    purpose: str


class ApplicationOpened(BaseModel):
    app_no: str
    workflow_id: str
    start: LoanApplicationInput


class OfferState(BaseModel):
    """What the `state` query and the accept update return: the offer without personal data."""

    offer_no: str
    stage: Literal["preparing", "invited", "opening", "accepted", "declined", "expired", "refused", "cancelled"]
    customer_id: int | None = None
    offer_limit: Decimal | None = None
    grade: str | None = None
    expires_at: datetime | None = None
    reason_codes: list[str] = []
    app_no: str | None = None


# ---- Quarterly batch rating (QuarterlyRatingWorkflow) ----------------------------------------------------


class QuarterlyRatingInput(BaseModel):
    as_of: date | None = Field(default=None, description="ages are counted on this date; None: today in Beijing, "
                                                         "as the quarterly Schedule does")
    run_key: str | None = Field(default=None, description="set by the workflow; carried over continue-as-new")
    chunks_per_execution: int = Field(default=500, ge=1, description="chunks before the workflow continues as new")


class RatingPlanInput(BaseModel):
    run_key: str
    quarter: str
    as_of: date


class RatingBatchPlan(BaseModel):
    run_id: int
    quarter: str
    chunks_total: int
    chunks_done: list[int]
    rated: int = 0
    failed: int = 0
    parallel: int
    model_version: str
    contribution_version: int


class RatingChunkInput(BaseModel):
    run_id: int
    chunk_no: int


class RatingChunkResult(BaseModel):
    chunk_no: int
    rated: int
    failed: int


class RatingMigrationSummary(BaseModel):
    upgrades: int = 0
    downgrades: int = 0
    unchanged: int = 0
    new: int = 0
    prefiltered: int = 0


class RatingRunResult(BaseModel):
    run_id: int
    quarter: str
    chunks: int
    rated: int
    failed: int
    migrations: RatingMigrationSummary


class QuarterlyRatingProgress(BaseModel):
    run_id: int | None
    quarter: str | None
    chunks_done: int
    chunks_total: int
    rated: int
    failed: int
    finished: RatingRunResult | None = None
