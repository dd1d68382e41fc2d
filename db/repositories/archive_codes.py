"""Code tables of the archive form: villages of a branch, crops, livestock and business kinds."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from db.models import ArchiveCode, Village
from domain.archive import CodeBook


def villages(session: Session, branch_code: str | None) -> Sequence[Village]:
    stmt = select(Village).order_by(col(Village.code))
    if branch_code is not None:
        stmt = stmt.where(Village.branch_code == branch_code)
    return session.exec(stmt).all()


def village(session: Session, code: str) -> Village | None:
    return session.get(Village, code)


def codes(session: Session) -> Sequence[ArchiveCode]:
    return session.exec(select(ArchiveCode).order_by(col(ArchiveCode.kind), col(ArchiveCode.code))).all()


def codebook(session: Session) -> CodeBook:
    production: dict[str, set[str]] = {}
    for row in codes(session):
        production.setdefault(row.kind, set()).add(row.code)
    village_codes = frozenset(session.exec(select(Village.code)).all())
    return CodeBook(villages=village_codes, production={k: frozenset(v) for k, v in production.items()})
