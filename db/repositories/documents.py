"""Contract documents: metadata rows; the PDF bytes live in the imaging store under their SHA-256."""

from __future__ import annotations

from sqlmodel import Session, select

from db.models import Document


def by_no(session: Session, doc_no: str) -> Document | None:
    return session.exec(select(Document).where(Document.doc_no == doc_no)).first()


def by_signed_sha256(session: Session, sha256: str) -> Document | None:
    return session.exec(select(Document).where(Document.signed_sha256 == sha256)).first()
