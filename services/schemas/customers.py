"""Customer bodies and views: full details for a single record in scope, masked in lists."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from db.models import Customer, MobileChange
from domain.identity import mask_mobile, mask_name, mask_resident_id
from services.fields import Mobile, MoneyValue, PersonName, ResidentId
from services.schemas.common import CodeSent, RequestModel

CustomerType = Literal["farmer", "individual_business", "salaried"]


class PersonIn(RequestModel):
    """A person named inline (borrower by proxy, or guarantor): found by resident ID or created."""

    name: PersonName
    resident_id: ResidentId
    mobile: Mobile
    address: str = Field(default="", max_length=200, description="residence and service address (送达地址)")


class CustomerIn(PersonIn):
    customer_type: CustomerType = "farmer"
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$", description="residence; defaults to the ID's region")
    annual_income: MoneyValue = Decimal("0")
    total_assets: MoneyValue = Decimal("0")
    total_liabilities: MoneyValue = Decimal("0")


class CustomerSearchIn(RequestModel):
    q: str = Field(min_length=1, max_length=64, description="resident ID, mobile, CIF number or the start of a name")
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)


class CustomerView(BaseModel):
    id: int
    customer_no: str
    name: str
    resident_id: str
    mobile: str
    address: str
    birth_date: date
    region_code: str
    branch_code: str
    customer_type: str
    annual_income: Decimal
    total_assets: Decimal
    total_liabilities: Decimal
    blacklisted: bool
    currently_overdue: bool
    created_at: datetime

    @classmethod
    def of(cls, row: Customer) -> CustomerView:
        return cls.model_validate(row, from_attributes=True)


class CustomerSummary(BaseModel):
    id: int
    customer_no: str
    name: str = Field(description="masked")
    resident_id: str = Field(description="masked")
    mobile: str = Field(description="masked")
    branch_code: str
    customer_type: str

    @classmethod
    def of(cls, row: Customer) -> CustomerSummary:
        assert row.id is not None
        return cls(id=row.id, customer_no=row.customer_no, name=mask_name(row.name),
                   resident_id=mask_resident_id(row.resident_id), mobile=mask_mobile(row.mobile),
                   branch_code=row.branch_code, customer_type=row.customer_type)


class MobileChangeIn(RequestModel):
    """The customer's new mobile, asked for at the branch with the customer and their ID card present."""

    new_mobile: Mobile
    reason: str = Field(min_length=1, max_length=200, description="why, e.g. 原号码丢失 (the old phone was lost)")


class MobileChangeDecisionIn(RequestModel):
    approve: bool
    note: str = Field(default="", max_length=200)


class MobileChangeView(BaseModel):
    """A mobile change with both numbers masked: the full numbers stay with the customer record."""

    id: int
    customer_id: int
    branch_code: str
    old_mobile: str
    new_mobile: str
    reason: str
    status: str = Field(description="awaiting_code | awaiting_approval | completed | rejected | cancelled | expired")
    requested_by: int
    requested_at: datetime
    confirmed_at: datetime | None
    decided_by: int | None
    decision_note: str
    decided_at: datetime | None
    old_mobile_notified: bool = Field(description="the notice of the change went to the old number")
    code: CodeSent | None = Field(default=None, description="the code texted to the new number, when one was just sent")

    @classmethod
    def of(cls, row: MobileChange, code: CodeSent | None = None) -> MobileChangeView:
        # From the attributes, not model_dump(): a row whose status was just set elsewhere is expired, and
        # reading its attributes reloads it.
        return cls.model_validate(row, from_attributes=True).model_copy(update={
            "old_mobile": mask_mobile(row.old_mobile), "new_mobile": mask_mobile(row.new_mobile), "code": code})
