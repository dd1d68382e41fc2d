"""Queries for issued documents (contracts) and the parties printed on them."""

from __future__ import annotations

from sqlmodel import Session, select

from db.models import Branch, Document


def documents_of(session: Session, application_id: int, *, include_void: bool = False) -> list[Document]:
    stmt = select(Document).where(Document.application_id == application_id)
    if not include_void:
        stmt = stmt.where(Document.status != "void")
    return list(session.exec(stmt.order_by(Document.id)).all())


def lender_branches(session: Session, branch_code: str) -> tuple[Branch, Branch]:
    """(the branch, the legal-person cooperative above it — the branch itself when it has no parent)."""
    branch = session.get(Branch, branch_code)
    if branch is None:
        raise LookupError(f"branch {branch_code} not found")
    parent = session.get(Branch, branch.parent_code) if branch.parent_code else None
    return branch, parent or branch
