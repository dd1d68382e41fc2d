"""Products and branches: the reference data an application is pinned to."""

from __future__ import annotations

from sqlmodel import Session

from db.models import Branch, Product


def product(session: Session, code: str) -> Product | None:
    return session.get(Product, code)


def branch(session: Session, code: str) -> Branch | None:
    return session.get(Branch, code)
