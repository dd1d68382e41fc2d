"""Customers for staff: create with validated identifiers, search (masked), read one, and change the mobile
they sign in and sign with (verified, decided by a second person)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import CustomerAdmin, SessionDep, SettingsDep, SmsDep, StaffMember
from api.errors import responses
from services import customers, mobile_changes
from services.clock import utcnow
from services.schemas.common import CodeIn, Page
from services.schemas.customers import (
    CustomerIn,
    CustomerSearchIn,
    CustomerSummary,
    CustomerView,
    MobileChangeDecisionIn,
    MobileChangeIn,
    MobileChangeView,
)

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.post("", status_code=201, response_model=CustomerView, responses=responses(403, 409))
def create_customer(body: CustomerIn, user: CustomerAdmin, session: SessionDep) -> CustomerView:
    return customers.create(session, user, body, utcnow())


@router.get("", response_model=Page[CustomerSummary], responses=responses(403))
def list_customers(user: StaffMember, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 50,
                   offset: Annotated[int, Query(ge=0)] = 0) -> Page[CustomerSummary]:
    return customers.search(session, user, None, limit=limit, offset=offset)


@router.post("/search", response_model=Page[CustomerSummary], responses=responses(403))
def search_customers(body: CustomerSearchIn, user: StaffMember, session: SessionDep) -> Page[CustomerSummary]:
    """A POST, not a GET: the search text is personal data and must stay out of URLs and access logs."""
    return customers.search(session, user, body.q, limit=body.limit, offset=body.offset)


@router.get("/{customer_id}", response_model=CustomerView, responses=responses(403, 404))
def get_customer(customer_id: int, user: StaffMember, session: SessionDep) -> CustomerView:
    return customers.get(session, user, customer_id)


# ---- changing the mobile a customer signs in and signs with (services/mobile_changes.py) ----

ChangeId = Annotated[int, Path(ge=1)]


@router.post("/{customer_id}/mobile-changes", status_code=201, response_model=MobileChangeView,
             response_model_exclude_none=True, responses=responses(403, 404, 409, 429, 503))
def request_mobile_change(customer_id: int, body: MobileChangeIn, user: CustomerAdmin, session: SessionDep,
                          settings: SettingsDep, sms: SmsDep) -> MobileChangeView:
    """At the branch, with the customer and their ID card present: a code goes to the new number."""
    return mobile_changes.request(session, settings, sms, user, customer_id, body, utcnow())


@router.get("/{customer_id}/mobile-changes", response_model=list[MobileChangeView], responses=responses(403, 404))
def customer_mobile_changes(customer_id: int, user: StaffMember, session: SessionDep) -> list[MobileChangeView]:
    return mobile_changes.for_customer(session, user, customer_id)


changes = APIRouter(prefix="/v1/mobile-changes", tags=["customers"])


@changes.post("/{change_id}/code", response_model=MobileChangeView, response_model_exclude_none=True,
              responses=responses(403, 404, 409, 429, 503))
def resend_mobile_change_code(change_id: ChangeId, user: CustomerAdmin, session: SessionDep, settings: SettingsDep,
                              sms: SmsDep) -> MobileChangeView:
    return mobile_changes.resend_code(session, settings, sms, user, change_id, utcnow())


@changes.post("/{change_id}/confirmation", response_model=MobileChangeView, responses=responses(403, 404, 409, 422, 429))
def confirm_mobile_change(change_id: ChangeId, body: CodeIn, user: CustomerAdmin, session: SessionDep,
                          settings: SettingsDep) -> MobileChangeView:
    """The code the new number received, read out by the customer: then an approver decides."""
    return mobile_changes.confirm(session, settings, user, change_id, body, utcnow())


@changes.post("/{change_id}/decision", response_model=MobileChangeView, responses=responses(403, 404, 409))
def decide_mobile_change(change_id: ChangeId, body: MobileChangeDecisionIn, user: StaffMember, session: SessionDep,
                         sms: SmsDep) -> MobileChangeView:
    """An approver of the branch or an administrator, not the one who asked; the old number is told."""
    return mobile_changes.decide(session, sms, user, change_id, body, utcnow())


@changes.post("/{change_id}/cancel", response_model=MobileChangeView, responses=responses(403, 404, 409))
def cancel_mobile_change(change_id: ChangeId, user: CustomerAdmin, session: SessionDep) -> MobileChangeView:
    return mobile_changes.cancel(session, user, change_id, utcnow())


@changes.post("/{change_id}/notice", response_model=MobileChangeView, responses=responses(403, 404, 409, 503))
def notify_old_number_again(change_id: ChangeId, user: StaffMember, session: SessionDep, sms: SmsDep) -> MobileChangeView:
    """The notice of a completed change to the old number, again, when `old_mobile_notified` is false."""
    return mobile_changes.notify_again(session, sms, user, change_id, utcnow())
