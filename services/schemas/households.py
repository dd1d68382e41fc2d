"""Household archive bodies and views. Bodies are validated with a context (today's date and the code tables),
so unknown codes and future birth dates are refused together with every other bad field, in one answer."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo, WithJsonSchema, field_validator

from db.models import ArchiveTransfer, HouseholdChange, HouseholdImage
from domain.archive import CodeBook, ValueProblem, birth_date_problem, parse_measure, unknown_finance_kind
from domain.identity import birth_date_of
from services.fields import Mobile, MoneyValue, PersonName, ResidentId, refuse
from services.schemas.common import RequestModel
from services.schemas.customers import PersonIn

Relation = Literal["spouse", "child", "parent", "sibling", "grandchild", "other"]
MainBusiness = Literal["crop", "livestock", "aquaculture", "business", "wage", "other"]
ProductionKind = Literal["crop", "livestock", "business"]
FinanceCategory = Literal["income", "expense", "asset", "liability"]
ImageKind = Literal["id_front", "id_back", "house", "land", "livestock", "business", "other"]


def _measure(value: Any) -> Decimal:
    try:
        return parse_measure(value)
    except ValueProblem as p:
        raise refuse(p.code, p.zh, p.en) from p


Measure = Annotated[Decimal, BeforeValidator(_measure),
                    WithJsonSchema({"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "examples": ["12.5"]})]
"""A non-negative quantity or acreage with at most two decimals, sent as a decimal string."""


def _context(info: ValidationInfo) -> dict[str, Any]:
    return info.context or {}


def _raise(problem: ValueProblem | None) -> None:
    if problem is not None:
        raise refuse(problem.code, problem.zh, problem.en)


def _born_by_today(rid: str | None, info: ValidationInfo) -> str | None:
    """A well-formed resident ID can still carry a birth date after today: a typo no checksum catches."""
    today = _context(info).get("today")
    if rid is not None and today is not None and birth_date_of(rid) > today:
        raise refuse("ID_BIRTH_DATE_FUTURE", "身份证号中的出生日期晚于今天", "the birth date inside the resident ID is in the future")
    return rid


class HeadIn(PersonIn):
    """The head named by identity: found by resident ID, or registered as a new customer."""

    _born = field_validator("resident_id")(_born_by_today)


class MemberIn(RequestModel):
    """A household member other than the head. Resident ID and mobile are optional (children, the elderly)."""

    relation: Relation
    name: PersonName
    resident_id: ResidentId | None = None
    mobile: Mobile | None = None
    birth_date: date | None = Field(default=None, description="taken from the resident ID when absent")
    is_labour: bool = False
    occupation: str = Field(default="", max_length=32)

    _born = field_validator("resident_id")(_born_by_today)

    @field_validator("birth_date")
    @classmethod
    def _not_future(cls, value: date | None, info: ValidationInfo) -> date | None:
        today = _context(info).get("today")
        if value is not None and today is not None:
            _raise(birth_date_problem(value, today))
        rid = info.data.get("resident_id")
        if value is not None and rid is not None and value != birth_date_of(rid):
            raise refuse("BIRTH_DATE_MISMATCH", "出生日期与身份证号不一致", "the birth date differs from the one in the resident ID")
        return value


class ProductionIn(RequestModel):
    kind: ProductionKind
    code: str = Field(min_length=1, max_length=16, description="from GET /v1/archive-codes for this kind")
    quantity: Measure = Decimal("0")
    unit: str = Field(default="", max_length=8, description="defaults to the code's unit")
    acreage_mu: Measure = Decimal("0")
    annual_revenue: MoneyValue = Decimal("0")

    @field_validator("code")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        book: CodeBook | None = _context(info).get("codes")
        kind = info.data.get("kind")
        if book is not None and kind is not None:
            _raise(book.unknown_production(kind, value))
        return value


class FinanceIn(RequestModel):
    category: FinanceCategory
    kind: str = Field(min_length=1, max_length=16, description="domain.archive.FINANCE_KINDS of the category")
    amount: MoneyValue
    note: str = Field(default="", max_length=64)

    @field_validator("kind")
    @classmethod
    def _known(cls, value: str, info: ValidationInfo) -> str:
        category = info.data.get("category")
        if category is not None:
            _raise(unknown_finance_kind(category, value))
        return value


class ArchiveBody(RequestModel):
    village_code: str = Field(min_length=1, max_length=12)
    member_count: int = Field(ge=1, le=30, description="people in the household, the head included")
    labour_count: int = Field(ge=0, le=30)
    main_business: MainBusiness
    business_years: int = Field(default=0, ge=0, le=80)
    house_owned: bool = False
    members: list[MemberIn] = Field(default_factory=list, max_length=29)
    production: list[ProductionIn] = Field(default_factory=list, max_length=50)
    finance: list[FinanceIn] = Field(default_factory=list, max_length=100)

    @field_validator("village_code")
    @classmethod
    def _known_village(cls, value: str, info: ValidationInfo) -> str:
        book: CodeBook | None = _context(info).get("codes")
        if book is not None:
            _raise(book.unknown_village(value))
        return value


class HouseholdCreate(ArchiveBody):
    """A new archive: its head is an existing customer (`customer_id`) or a person found or registered by resident
    ID (`head`). `manager_staff_id` defaults to the customer manager creating it (administrators name one)."""

    customer_id: int | None = None
    head: HeadIn | None = None
    manager_staff_id: int | None = None


class HeadContactIn(RequestModel):
    """The head's contact details as collected at the door; name and resident ID never change here."""

    mobile: Mobile
    address: str = Field(default="", max_length=200, description="residence and service address (送达地址)")


class HouseholdUpdate(ArchiveBody):
    """The whole form again, with the version it was read at: a stale version answers 409. `head` (optional)
    updates the head customer's mobile and address."""

    version: int = Field(ge=1)
    head: HeadContactIn | None = None


class VersionIn(RequestModel):
    version: int = Field(ge=1)


class HouseholdSearchIn(RequestModel):
    q: str | None = Field(default=None, max_length=64, description="resident ID, mobile, CIF number or the start of a name")
    village_code: str | None = Field(default=None, max_length=12)
    status: Literal["draft", "archived"] | None = None
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)


class MissingItem(BaseModel):
    field: str
    zh: str
    en: str
    required: bool = Field(description="must be present before the archive can be submitted")


class CompletenessView(BaseModel):
    score: int = Field(description="0-100: the share of the form's items present")
    missing: list[MissingItem]


class HeadView(BaseModel):
    customer_id: int
    customer_no: str
    name: str
    resident_id: str
    mobile: str
    address: str
    birth_date: date


class MemberView(BaseModel):
    relation: str
    name: str
    resident_id: str | None
    mobile: str | None
    birth_date: date | None
    is_labour: bool
    occupation: str


class ProductionView(BaseModel):
    kind: str
    code: str
    name_zh: str
    quantity: Decimal
    unit: str
    acreage_mu: Decimal
    annual_revenue: Decimal


class FinanceView(BaseModel):
    category: str
    kind: str
    name_zh: str
    amount: Decimal
    note: str


class ImageView(BaseModel):
    id: int
    kind: str
    kind_zh: str
    sha256: str
    content_type: str
    size: int
    uploaded_by: int
    uploaded_at: datetime

    @classmethod
    def of(cls, row: HouseholdImage, kind_zh: str) -> ImageView:
        # Attribute access, not model_dump(): it reloads a row expired by the commit.
        assert row.id is not None
        return cls(id=row.id, kind=row.kind, kind_zh=kind_zh, sha256=row.sha256, content_type=row.content_type,
                   size=row.size, uploaded_by=row.uploaded_by, uploaded_at=row.uploaded_at)


class HouseholdView(BaseModel):
    """One archive in full, for staff who may see it."""

    id: int
    status: str
    version: int
    head: HeadView
    village_code: str
    village_name: str
    branch_code: str
    manager_staff_id: int | None
    shared_with_staff_ids: list[int]
    member_count: int
    labour_count: int
    main_business: str
    business_years: int
    house_owned: bool
    acreage_mu: Decimal
    livestock_heads: int
    annual_income: Decimal
    annual_expenses: Decimal
    total_assets: Decimal
    total_liabilities: Decimal
    policy_tags: list[str]
    members: list[MemberView]
    production: list[ProductionView]
    finance: list[FinanceView]
    images: list[ImageView]
    completeness: CompletenessView
    archived_at: datetime | None
    created_at: datetime
    updated_at: datetime


class HouseholdSummary(BaseModel):
    """One archive in a list: personal data masked."""

    id: int
    customer_no: str
    name: str = Field(description="masked")
    resident_id: str = Field(description="masked")
    mobile: str = Field(description="masked")
    village_code: str
    village_name: str
    branch_code: str
    manager_staff_id: int | None
    status: str
    version: int
    updated_at: datetime


class ChangeView(BaseModel):
    version: int
    action: str
    field: str
    old_value: str | None = Field(description="personal data masked")
    new_value: str | None = Field(description="personal data masked")
    actor_staff_id: int | None
    changed_at: datetime

    @classmethod
    def of(cls, row: HouseholdChange) -> ChangeView:
        return cls.model_validate(row, from_attributes=True)


class VillageView(BaseModel):
    code: str
    name: str
    branch_code: str
    credit_village: bool


class CodeView(BaseModel):
    kind: str
    code: str
    name_zh: str
    name_en: str
    unit: str


class CodeTables(BaseModel):
    production: list[CodeView] = Field(description="crops, livestock and business kinds")
    finance: dict[str, dict[str, str]] = Field(description="income, expense, asset and liability kinds (zh)")
    relations: dict[str, str]
    main_business: dict[str, str]
    image_kinds: dict[str, str]


class TransferIn(RequestModel):
    kind: Literal["transfer", "share"]
    to_staff_id: int
    reason: str = Field(default="", max_length=200)


class TransferDecisionIn(RequestModel):
    approve: bool
    note: str = Field(default="", max_length=200)


class TransferView(BaseModel):
    id: int
    household_id: int
    kind: str
    from_staff_id: int | None
    to_staff_id: int
    branch_code: str
    requested_by: int
    reason: str
    status: str
    decided_by: int | None
    decision_note: str
    requested_at: datetime
    decided_at: datetime | None

    @classmethod
    def of(cls, row: ArchiveTransfer) -> TransferView:
        return cls.model_validate(row, from_attributes=True)
