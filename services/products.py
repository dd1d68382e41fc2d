"""Product definition: a new version of a product's terms (validated as ProductTerms), put in force by a
second person. New applications take the version in force; running ones keep theirs."""

from __future__ import annotations

from pydantic import ValidationError
from sqlmodel import Session

from db import product_store
from db.repositories import catalogue
from domain.products import ProductTerms
from services.clock import utcnow
from services.errors import ProblemError, field_error, not_found
from services.principal import Principal
from services.schemas.products import ProductVersionIn, ProductVersionView, ProductView


def listing(session: Session) -> list[ProductView]:
    return [ProductView.of(p) for p in product_store.products(session)]


def get(session: Session, code: str) -> ProductView:
    row = catalogue.product(session, code)
    if row is None:
        raise not_found("PRODUCT", "未找到该贷款产品", "product not found", "code")
    return ProductView.of(row, product_store.versions(session, code))


def draft(session: Session, principal: Principal, code: str, body: ProductVersionIn) -> ProductVersionView:
    try:
        terms = ProductTerms(**{**body.terms, "code": code, "version": 1, "name": body.name})
    except ValidationError as err:
        errors = [field_error("terms." + ".".join(str(p) for p in e["loc"]), "INVALID", "取值无效", e["msg"])
                  for e in err.errors()]
        raise ProblemError(422, "PRODUCT_TERMS_INVALID", "产品条款有误,请检查标出的字段",
                           "some product terms are invalid; see errors", errors[0]["field"], errors) from err
    stored = terms.model_dump(mode="json", exclude={"code", "version", "name"})
    row = product_store.draft(session, code=code, name=body.name, terms=stored, note=body.note,
                              by=principal.subject, now=utcnow())
    session.commit()
    return ProductVersionView.of(row)


def activate(session: Session, principal: Principal, code: str, version: int) -> ProductView:
    row = product_store.version(session, code, version)
    if row is None:
        raise not_found("PRODUCT_VERSION", "未找到该产品版本", "product version not found", "version")
    try:
        product = product_store.activate(session, row, by=principal.subject, now=utcnow())
    except product_store.ProductRefused as refused:
        raise ProblemError(409, refused.code, refused.zh, refused.en) from refused
    session.commit()
    return ProductView.of(product, product_store.versions(session, code))
