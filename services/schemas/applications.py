"""Loan application bodies and views (the database read model, plus the workflow's live state)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from db.models import ApplicationEvent, Document, Guarantee, LoanApplication
from domain.identity import mask_name
from domain.products import GuaranteeType, RepaymentMethod
from services.fields import Amount
from services.schemas.common import RequestModel
from services.schemas.customers import PersonIn
from workflows.messages import ApplicationState

ReasonCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,47}$")]


class ApplicationIn(RequestModel):
    product_code: str = Field(default="NONG_E_DAI", min_length=1, max_length=32)
    amount: Amount
    term_months: int = Field(ge=1, le=360)
    repayment_method: RepaymentMethod
    guarantee_type: GuaranteeType = "credit"
    purpose: str = Field(min_length=1, max_length=32, description="loan purpose code, e.g. planting")
    customer_id: int | None = Field(default=None, description="staff proxy: an existing customer")
    customer: PersonIn | None = Field(default=None, description="staff proxy: the customer's details")
    guarantors: list[PersonIn] = Field(default_factory=list, max_length=2)

    @model_validator(mode="after")
    def _one_borrower(self) -> ApplicationIn:
        if self.customer_id is not None and self.customer is not None:
            raise PydanticCustomError("customer_ambiguous", "give customer_id or customer, not both",
                                      {"zh": "客户编号与客户资料只能填写其一"})
        return self


class ApplicationCreated(BaseModel):
    app_no: str
    workflow_id: str
    customer_id: int
    channel: str
    stage: str
    status: str


class GuarantorIn(RequestModel):
    """A replacement guarantor: an existing customer id or the person's details."""

    customer_id: int | None = None
    person: PersonIn | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> GuarantorIn:
        if (self.customer_id is None) == (self.person is None):
            raise PydanticCustomError("guarantor_required", "give customer_id or person",
                                      {"zh": "请填写保证人客户编号或保证人资料(二选一)"})
        return self


class WithdrawIn(RequestModel):
    reason: str = Field(default="", max_length=200)


class CancelIn(RequestModel):
    reason_code: ReasonCode
    comment: str = Field(default="", max_length=500)


class SupplementIn(RequestModel):
    note: str = Field(default="", max_length=1000)


class DecisionIn(RequestModel):
    decision: Literal["approve", "reject", "refer_back"]
    reason_codes: list[ReasonCode] = Field(default_factory=list, max_length=10)
    comment: str = Field(default="", max_length=500)
    approved_amount: Amount | None = None


class AmendIn(RequestModel):
    """New terms for an application whose contracts await signatures: they are voided and reissued, and
    the guarantors of a guaranteed loan consent and sign again. The amount may stay or go down; term,
    repayment method and rate (within the product's floor and cap) are left as they were when omitted."""

    approved_amount: Amount
    reason_code: ReasonCode
    term_months: int | None = Field(default=None, ge=1, le=360)
    repayment_method: RepaymentMethod | None = None
    annual_rate: Decimal | None = Field(default=None, gt=0, lt=1, decimal_places=6,
                                        description="the new contract rate as a fraction (0.0450 = 4.50%)")


class ActionResult(BaseModel):
    """What an update answered: the application's business state right after it."""

    app_no: str
    action: str
    state: ApplicationState


class GuaranteeView(BaseModel):
    id: int
    slot: int
    attempt: int
    status: str
    guarantor_customer_id: int
    guarantor_name: str = Field(description="masked")
    updated_at: datetime

    @classmethod
    def of(cls, row: Guarantee, name: str) -> GuaranteeView:
        assert row.id is not None
        return cls(id=row.id, slot=row.slot, attempt=row.attempt, status=row.status,
                   guarantor_customer_id=row.guarantor_customer_id, guarantor_name=mask_name(name),
                   updated_at=row.updated_at)


class ApplicationSummary(BaseModel):
    app_no: str
    customer_id: int
    customer_name: str = Field(description="masked")
    product_code: str
    amount: Decimal
    term_months: int
    guarantee_type: str
    channel: str
    branch_code: str
    stage: str
    status: str
    assignee: str | None
    sla_due_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: LoanApplication, customer_name: str) -> ApplicationSummary:
        return cls.model_validate({**row.model_dump(), "customer_name": mask_name(customer_name)})


class ApplicationDetail(ApplicationSummary):
    workflow_id: str
    product_version: int
    repayment_method: str
    purpose: str
    initiator_staff_id: int | None
    reason_codes: list[str]
    score: int | None
    grade: str | None
    credit_limit: Decimal | None
    approved_amount: Decimal | None
    annual_rate: Decimal | None
    decided_by: int | None
    start_error: str | None
    updated_at: datetime
    guarantees: list[GuaranteeView]
    line_no: str | None = Field(description="the credit line this application opened, once active")
    live: ApplicationState | None = Field(description="the running workflow's state; null once it has ended")

    @classmethod
    def of_row(cls, row: LoanApplication, customer_name: str, guarantees: list[GuaranteeView],
               live: ApplicationState | None, line_no: str | None) -> ApplicationDetail:
        return cls.model_validate({**row.model_dump(), "customer_name": mask_name(customer_name),
                                   "guarantees": guarantees, "live": live, "line_no": line_no})


class EventView(BaseModel):
    seq: int
    at: datetime
    stage: str
    actor: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, row: ApplicationEvent) -> EventView:
        return cls.model_validate(row, from_attributes=True)


class DocumentView(BaseModel):
    doc_no: str
    kind: str
    status: str
    signer_customer_id: int
    template_version: str
    sha256: str
    signed_sha256: str | None
    created_at: datetime
    signed_at: datetime | None

    @classmethod
    def of(cls, row: Document) -> DocumentView:
        return cls.model_validate(row, from_attributes=True)
