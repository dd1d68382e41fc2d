"""Queries for issued documents (contracts) and the parties printed on them."""

from __future__ import annotations

from sqlmodel import Session

from db.models import Branch, Document
from db.repositories import applications


def documents_of(session: Session, application_id: int) -> list[Document]:
    """The application's documents that still count (not voided), oldest first."""
    return [d for d in applications.documents(session, application_id) if d.status != "void"]


def lender_branches(session: Session, branch_code: str) -> tuple[Branch, Branch]:
    """(the branch, the legal-person cooperative above it — the branch itself when it has no parent)."""
    branch = session.get(Branch, branch_code)
    if branch is None:
        raise LookupError(f"branch {branch_code} not found")
    parent = session.get(Branch, branch.parent_code) if branch.parent_code else None
    return branch, parent or branch
