"""Whitelist campaigns and rows: inserts, the window's next rows, the reference data for validation, the funnel."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, literal, update
from sqlmodel import Session, col, select

from db.models import (
    Branch,
    CreditLine,
    Customer,
    Document,
    LoanApplication,
    LoanNote,
    Product,
    StaffUser,
    WhitelistCampaign,
    WhitelistRow,
)

OPEN_ROW_STATUSES = ("pending", "invited")
OPEN_APPLICATION_STATUSES = ("open", "approved")


def by_sha256(session: Session, sha256: str) -> WhitelistCampaign | None:
    return session.exec(select(WhitelistCampaign).where(WhitelistCampaign.file_sha256 == sha256)).first()


def by_no(session: Session, campaign_no: str) -> WhitelistCampaign | None:
    return session.exec(select(WhitelistCampaign).where(WhitelistCampaign.campaign_no == campaign_no)).first()


def insert_campaign(session: Session, *, business_date: date, workflow_id_for: Any, **fields: Any) -> WhitelistCampaign:
    """Add the campaign and number it WL<yyyymmdd><id:06d> (flushes, does not commit)."""
    row = WhitelistCampaign(campaign_no=f"tmp{fields['file_sha256'][:20]}", workflow_id=f"tmp-{fields['file_sha256'][:40]}",
                            **fields)
    session.add(row)
    session.flush()
    row.campaign_no = f"WL{business_date:%Y%m%d}{row.id:06d}"
    row.workflow_id = workflow_id_for(row.campaign_no)
    session.add(row)
    session.flush()
    return row


def insert_rows(session: Session, campaign: WhitelistCampaign, rows: Iterable[dict[str, Any]], now: datetime) -> None:
    """Bulk insert; each row's offer number is <campaign_no>-<row id>, set in one statement afterwards."""
    values = [{**r, "campaign_id": campaign.id, "offer_no": f"tmp-{campaign.id}-{r['row_no']}", "status": "pending",
               "updated_at": now} for r in rows]
    if values:
        session.execute(WhitelistRow.__table__.insert(), values)  # type: ignore[attr-defined]
        session.execute(update(WhitelistRow).where(col(WhitelistRow.campaign_id) == campaign.id).values(
            offer_no=literal(campaign.campaign_no + "-") + cast(col(WhitelistRow.id), String)))


def reference_data(session: Session) -> tuple[Sequence[Product], Sequence[str], Sequence[StaffUser]]:
    return (session.exec(select(Product).where(col(Product.active))).all(),
            session.exec(select(Branch.code)).all(), session.exec(select(StaffUser)).all())


def customers_by_resident_id(session: Session, ids: Sequence[str]) -> Sequence[Customer]:
    return _chunked(session, ids, lambda chunk: select(Customer).where(col(Customer.resident_id).in_(chunk)))


def customers_by_mobile(session: Session, mobiles: Sequence[str]) -> Sequence[tuple[str, int]]:
    return _chunked(session, mobiles,
                    lambda chunk: select(Customer.mobile, Customer.id).where(col(Customer.mobile).in_(chunk)))


def customers_with_open_applications(session: Session, customer_ids: Sequence[int]) -> set[int]:
    return set(_chunked(session, customer_ids, lambda chunk: select(LoanApplication.customer_id).where(
        col(LoanApplication.customer_id).in_(chunk), col(LoanApplication.status).in_(OPEN_APPLICATION_STATUSES))))


def resident_ids_with_open_rows(session: Session, ids: Sequence[str]) -> set[str]:
    return set(_chunked(session, ids, lambda chunk: select(WhitelistRow.resident_id).where(
        col(WhitelistRow.resident_id).in_(chunk), col(WhitelistRow.status).in_(OPEN_ROW_STATUSES))))


def _chunked(session: Session, values: Sequence[Any], query: Any, size: int = 1000) -> list[Any]:
    out: list[Any] = []
    values = list(values)
    for i in range(0, len(values), size):
        out += session.exec(query(values[i:i + size])).all()
    return out


def next_rows(session: Session, campaign_id: int, after_row_id: int, limit: int) -> list[tuple[int, str]]:
    return list(session.exec(select(WhitelistRow.id, WhitelistRow.product_code).where(
        WhitelistRow.campaign_id == campaign_id, col(WhitelistRow.id) > after_row_id,
        WhitelistRow.status == "pending").order_by(col(WhitelistRow.id)).limit(limit)).all())


def cancel_pending(session: Session, campaign_id: int, after_row_id: int, now: datetime) -> int:
    result = session.execute(update(WhitelistRow).where(
        col(WhitelistRow.campaign_id) == campaign_id, col(WhitelistRow.id) > after_row_id,
        col(WhitelistRow.status) == "pending").values(status="cancelled", reason_code="CAMPAIGN_CANCELLED",
                                                      updated_at=now))
    return result.rowcount or 0  # type: ignore[attr-defined]


def counts_by_status(session: Session, campaign_id: int) -> dict[str, int]:
    rows = session.exec(select(WhitelistRow.status, func.count()).where(
        WhitelistRow.campaign_id == campaign_id).group_by(WhitelistRow.status)).all()
    return {status: n for status, n in rows}


def offers_of_customer(session: Session, customer_id: int) -> Sequence[tuple[WhitelistRow, WhitelistCampaign]]:
    return session.exec(select(WhitelistRow, WhitelistCampaign).join(
        WhitelistCampaign, col(WhitelistCampaign.id) == WhitelistRow.campaign_id).where(
        WhitelistRow.customer_id == customer_id).order_by(col(WhitelistRow.id).desc())).all()


def row_by_offer_no(session: Session, offer_no: str) -> WhitelistRow | None:
    return session.exec(select(WhitelistRow).where(WhitelistRow.offer_no == offer_no)).first()


def funnel(session: Session, campaign_id: int, branch_code: str | None = None) -> Sequence[Any]:
    """invited -> accepted -> signed -> drawn per branch and manager, in one query over the read model."""
    signed = exists().where(and_(Document.application_id == WhitelistRow.application_id,
                                 Document.kind == "loan_contract", Document.status == "signed"))
    drawn = exists().where(and_(CreditLine.application_id == WhitelistRow.application_id,
                                LoanNote.line_id == CreditLine.id,
                                col(LoanNote.status).in_(("disbursed", "settled"))))
    one, zero = literal(1), literal(0)
    query = (select(WhitelistRow.branch_code, StaffUser.username, StaffUser.display_name,
                    func.count().label("rows"),
                    func.sum(case((col(WhitelistRow.invited_at).is_not(None), one), else_=zero)).label("invited"),
                    func.sum(case((col(WhitelistRow.application_id).is_not(None), one), else_=zero)).label("accepted"),
                    func.sum(case((signed, one), else_=zero)).label("signed"),
                    func.sum(case((drawn, one), else_=zero)).label("drawn"))
             .join(StaffUser, col(StaffUser.id) == WhitelistRow.manager_staff_id)
             .where(WhitelistRow.campaign_id == campaign_id)
             .group_by(WhitelistRow.branch_code, StaffUser.username, StaffUser.display_name)
             .order_by(WhitelistRow.branch_code, StaffUser.username))
    if branch_code is not None:
        query = query.where(WhitelistRow.branch_code == branch_code)
    return session.exec(query).all()
