"""Guarantees: the rows the guarantor workflows keep current, read by the guarantor and by staff."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from db.models import Customer, Guarantee, LoanApplication


def of_guarantor(session: Session, customer_id: int) -> Sequence[tuple[Guarantee, LoanApplication, str]]:
    """Newest first, each with its application and the borrower's name (the caller masks it)."""
    stmt = (select(Guarantee, LoanApplication, Customer.name)
            .join(LoanApplication, col(LoanApplication.id) == Guarantee.application_id)
            .join(Customer, col(Customer.id) == LoanApplication.customer_id)
            .where(Guarantee.guarantor_customer_id == customer_id).order_by(col(Guarantee.id).desc()))
    return session.exec(stmt).all()


def get(session: Session, guarantee_id: int) -> Guarantee | None:
    return session.get(Guarantee, guarantee_id)


def current_for_signer(session: Session, application_id: int, customer_id: int) -> Guarantee | None:
    """The signer's live guarantee on this application (the newest attempt that was not replaced)."""
    stmt = (select(Guarantee)
            .where(Guarantee.application_id == application_id, Guarantee.guarantor_customer_id == customer_id,
                   Guarantee.status != "replaced")
            .order_by(col(Guarantee.attempt).desc()).limit(1))
    return session.exec(stmt).first()
