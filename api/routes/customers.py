"""Customers for staff: create with validated identifiers, search (masked), read one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import CustomerAdmin, SessionDep, StaffMember
from api.errors import responses
from services import customers
from services.clock import utcnow
from services.schemas.common import Page
from services.schemas.customers import CustomerIn, CustomerSearchIn, CustomerSummary, CustomerView

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
