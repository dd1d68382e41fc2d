"""Customers: staff create and search them; applications find or create borrowers and guarantors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from db.models import Customer
from db.repositories import customers
from domain.identity import IdProblem, birth_date_of, normalise_mobile, normalise_resident_id, region_of
from services.errors import ProblemError, not_found
from services.principal import Principal
from services.schemas.common import Page
from services.schemas.customers import CustomerIn, CustomerSummary, CustomerView, PersonIn


def _conflict() -> ProblemError:
    return ProblemError(409, "CUSTOMER_EXISTS", "该身份证号已建档", "a customer with this resident ID exists", "resident_id")


def _insert(session: Session, person: PersonIn, *, branch_code: str, now: datetime, **extra: object) -> Customer:
    fields = {"region_code": region_of(person.resident_id), **{k: v for k, v in extra.items() if v is not None}}
    try:
        return customers.insert(session, resident_id=person.resident_id, name=person.name, mobile=person.mobile,
                                address=person.address, birth_date=birth_date_of(person.resident_id), branch_code=branch_code,
                                created_at=now, **fields)
    except IntegrityError as exc:
        # Another request registered the same ID a moment ago.
        session.rollback()
        raise _conflict() from exc


def create(session: Session, principal: Principal, body: CustomerIn, now: datetime) -> CustomerView:
    if customers.by_resident_id(session, body.resident_id) is not None:
        raise _conflict()
    assert principal.branch_code is not None
    row = _insert(session, body, branch_code=principal.branch_code, now=now, customer_type=body.customer_type,
                  region_code=body.region_code, annual_income=body.annual_income, total_assets=body.total_assets,
                  total_liabilities=body.total_liabilities)
    session.commit()
    return CustomerView.of(row)


def find_or_create(session: Session, person: PersonIn, *, branch_code: str, now: datetime, field: str) -> Customer:
    """The customer with this resident ID, checked against the name and mobile given, or a new one."""
    existing = customers.by_resident_id(session, person.resident_id)
    if existing is None:
        return _insert(session, person, branch_code=branch_code, now=now)
    if existing.name != person.name:
        raise ProblemError(422, "CUSTOMER_NAME_MISMATCH", "姓名与该身份证号的档案不一致",
                           "the name does not match the customer on file for this resident ID", f"{field}.name")
    if existing.mobile != person.mobile:
        raise ProblemError(422, "CUSTOMER_MOBILE_MISMATCH", "手机号与档案不一致,请先更新客户资料",
                           "the mobile differs from the customer on file; update the customer first", f"{field}.mobile")
    return existing


def visible_row(session: Session, principal: Principal, customer_id: int) -> Customer:
    """The customer in the principal's scope; 404 otherwise (out of scope reads as absent)."""
    row = customers.visible(session, principal.scope(), customer_id)
    if row is None:
        raise not_found("CUSTOMER", "未找到该客户", "customer not found", "customer_id")
    return row


def get(session: Session, principal: Principal, customer_id: int) -> CustomerView:
    return CustomerView.of(visible_row(session, principal, customer_id))


def search(session: Session, principal: Principal, q: str | None, *, limit: int, offset: int) -> Page[CustomerSummary]:
    """`q` is read as a resident ID, a mobile, a customer number or the start of a name, in that order."""
    criteria: dict[str, str] = {}
    text = (q or "").strip()
    if text:
        criteria = _criteria(text)
    rows, total = customers.search(session, principal.scope(), limit=limit, offset=offset, **criteria)
    return Page(items=[CustomerSummary.of(r) for r in rows], total=total, limit=limit, offset=offset)


def _criteria(text: str) -> dict[str, str]:
    for key, normalise in (("resident_id", normalise_resident_id), ("mobile", normalise_mobile)):
        try:
            return {key: normalise(text)}
        except IdProblem:
            continue
    if text.upper().startswith("CIF"):
        return {"customer_no": text.upper()}
    return {"name_prefix": text}
