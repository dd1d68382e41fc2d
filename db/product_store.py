"""Product versions: a draft of new terms, activated by a second person into the `product` row new
applications read. Running applications keep the version they started with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from db.models import Product, ProductVersion
from domain.products import ProductTerms


class ProductRefused(Exception):
    def __init__(self, code: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code, self.zh, self.en = code, zh, en


def versions(session: Session, code: str) -> list[ProductVersion]:
    return list(session.exec(select(ProductVersion).where(ProductVersion.code == code)
                             .order_by(col(ProductVersion.version).desc())).all())


def version(session: Session, code: str, number: int) -> ProductVersion | None:
    return session.exec(select(ProductVersion).where(ProductVersion.code == code,
                                                     ProductVersion.version == number)).first()


def terms_of(session: Session, code: str, number: int) -> ProductTerms | None:
    """One version's terms: recorded, or the product row when that is the version in force."""
    row = version(session, code, number)
    if row is not None:
        name, terms = row.name, row.terms
    else:
        current = session.get(Product, code)
        if current is None or current.version != number:
            return None
        name, terms = current.name, current.terms
    return ProductTerms(**{**terms, "code": code, "version": number, "name": name})


def products(session: Session) -> list[Product]:
    return list(session.exec(select(Product).order_by(col(Product.code))).all())


def draft(session: Session, *, code: str, name: str, terms: dict[str, Any], note: str, by: str,
          now: datetime) -> ProductVersion:
    """The next version number after both the recorded versions and the product row (a seeded product is v1)."""
    recorded = session.exec(select(func.max(ProductVersion.version)).where(ProductVersion.code == code)).one()
    current = session.get(Product, code)
    number = max(int(recorded or 0), current.version if current else 0) + 1
    row = ProductVersion(code=code, version=number, name=name, terms=terms, note=note, created_by=by, created_at=now)
    session.add(row)
    session.flush()
    return row


def activate(session: Session, row: ProductVersion, *, by: str, now: datetime) -> Product:
    if row.status != "draft":
        raise ProductRefused("PRODUCT_VERSION_NOT_DRAFT", "只有草稿状态的产品版本可以启用",
                             "only a draft product version can be activated")
    if row.created_by == by:
        raise ProductRefused("MAKER_CHECKER", "产品版本须由创建人以外的人员启用",
                             "a product version is activated by someone other than its author")
    current = session.get(Product, row.code, with_for_update=True)
    if current is not None and current.version >= row.version:
        raise ProductRefused("PRODUCT_VERSION_STALE", "已有更新的产品版本在用", "a later version is already in force")
    if current is not None and version(session, row.code, current.version) is None:
        # The seeded version was never recorded: keep its terms, applications may be pinned to it.
        session.add(ProductVersion(code=current.code, version=current.version, name=current.name,
                                   terms=current.terms, status="superseded", note="as seeded", created_by="system",
                                   created_at=now))
    for older in session.exec(select(ProductVersion).where(ProductVersion.code == row.code,
                                                           ProductVersion.status == "active")).all():
        older.status = "superseded"
        session.add(older)
    row.status, row.activated_by, row.activated_at = "active", by, now
    session.add(row)
    if current is None:
        current = Product(code=row.code, version=row.version, name=row.name, terms=row.terms, active=True)
    else:
        current.version, current.name, current.terms = row.version, row.name, row.terms
    session.add(current)
    session.flush()
    return current
