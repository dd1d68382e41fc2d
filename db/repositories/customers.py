"""Customers: the only table with personal data. Look-ups by id, resident ID and mobile; masked search."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, func, select

from db.models import Customer
from db.repositories.scope import Scope


def get(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def visible(session: Session, scope: Scope, customer_id: int) -> Customer | None:
    row = session.get(Customer, customer_id)
    if row is None or (scope.customer_id is not None and row.id != scope.customer_id):
        return None
    if scope.branch_code is not None and row.branch_code != scope.branch_code:
        return None
    return row


def by_resident_id(session: Session, resident_id: str) -> Customer | None:
    return session.exec(select(Customer).where(Customer.resident_id == resident_id)).first()


def by_mobile(session: Session, mobile: str) -> Sequence[Customer]:
    return session.exec(select(Customer).where(Customer.mobile == mobile).order_by(col(Customer.id))).all()


def insert(session: Session, **fields: Any) -> Customer:
    """Add a customer and give it an ECIF-style number derived from its id (flushes, does not commit)."""
    row = Customer(customer_no=f"TMP{uuid.uuid4().hex[:17]}", **fields)
    session.add(row)
    session.flush()
    row.customer_no = f"CIF{row.id:010d}"
    session.add(row)
    session.flush()
    return row


def search(session: Session, scope: Scope, *, name_prefix: str | None = None, mobile: str | None = None,
           resident_id: str | None = None, customer_no: str | None = None, limit: int = 50,
           offset: int = 0) -> tuple[Sequence[Customer], int]:
    where = []
    if scope.branch_code is not None:
        where.append(Customer.branch_code == scope.branch_code)
    if scope.customer_id is not None:
        where.append(Customer.id == scope.customer_id)
    if name_prefix:
        where.append(col(Customer.name).startswith(name_prefix, autoescape=True))
    if mobile:
        where.append(Customer.mobile == mobile)
    if resident_id:
        where.append(Customer.resident_id == resident_id)
    if customer_no:
        where.append(Customer.customer_no == customer_no)
    total = session.exec(select(func.count()).select_from(Customer).where(*where)).one()
    rows = session.exec(select(Customer).where(*where).order_by(col(Customer.id).desc()).offset(offset).limit(limit)).all()
    return rows, total
