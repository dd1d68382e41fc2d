"""Product definition (业务配置): the products in force and new versions of their terms (maker-checker)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import RulesChecker, RulesMaker, SessionDep, StaffMember
from api.errors import responses
from services import products
from services.schemas.products import ProductVersionIn, ProductVersionView, ProductView

router = APIRouter(prefix="/v1/products", tags=["products"])
Code = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Z][A-Z0-9_]*$")]


@router.get("", response_model=list[ProductView], responses=responses(403))
def listing(user: StaffMember, session: SessionDep) -> list[ProductView]:
    return products.listing(session)


@router.get("/{code}", response_model=ProductView, responses=responses(403, 404))
def get(code: Code, user: StaffMember, session: SessionDep) -> ProductView:
    """The terms in force and every version."""
    return products.get(session, code)


@router.post("/{code}/versions", status_code=201, response_model=ProductVersionView, responses=responses(403, 422))
def draft(code: Code, body: ProductVersionIn, user: RulesMaker, session: SessionDep) -> ProductVersionView:
    """A new version of the product's terms (a new code starts a new product), as a draft."""
    return products.draft(session, user, code, body)


@router.post("/{code}/versions/{version}/activation", response_model=ProductView, responses=responses(403, 404, 409))
def activate(code: Code, version: Annotated[int, Path(ge=1)], user: RulesChecker,
             session: SessionDep) -> ProductView:
    """Put a draft in force for new applications: an administrator other than its author."""
    return products.activate(session, user, code, version)
