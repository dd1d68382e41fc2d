"""The LPR table: what is published when; a new rate entered ahead of its date (a draft), approved or
rejected by a second person. Only approved rates price loans."""

from __future__ import annotations

from sqlmodel import Session

from db import lpr_store
from db.models import LprRate
from domain.pricing import LPR_TABLE
from services.clock import business_date, utcnow
from services.errors import ProblemError, not_found
from services.principal import Principal
from services.schemas.lpr import LprIn, LprRejectIn, LprView

_PAST = ("LPR 生效日不能早于今天:已定价的贷款保持原利率",
         "an LPR cannot take effect before today: loans already priced keep theirs")


def listing(session: Session) -> list[LprView]:
    rows = lpr_store.rows(session)
    if rows:
        return [LprView.model_validate(r, from_attributes=True) for r in rows]
    return [LprView(tenor=tenor, effective_from=day, rate=rate, status="approved", created_by="system",
                    created_at=None) for day, rates in reversed(LPR_TABLE) for tenor, rate in sorted(rates.items())]


def add(session: Session, principal: Principal, body: LprIn) -> LprView:
    now = utcnow()
    if body.effective_from < business_date(now):
        raise ProblemError(422, "LPR_IN_THE_PAST", *_PAST, "effective_from")
    if lpr_store.exists(session, body.tenor, body.effective_from):
        raise ProblemError(409, "LPR_EXISTS", "该期限在该日已有 LPR", "this tenor already has an LPR on that date",
                           "effective_from")
    row = lpr_store.add(session, tenor=body.tenor, effective_from=body.effective_from, rate=body.rate,
                        by=principal.subject, now=now)
    session.commit()
    return LprView.model_validate(row, from_attributes=True)


def approve(session: Session, principal: Principal, rate_id: int) -> LprView:
    now = utcnow()
    row = _draft(session, rate_id)
    if row.effective_from < business_date(now):
        # Approved now, it would reprice applications already priced on the old rate since that date.
        raise ProblemError(422, "LPR_IN_THE_PAST", f"{_PAST[0]};请以新的生效日重新录入",
                           f"{_PAST[1]}; enter it again with a later date", "effective_from")
    try:
        lpr_store.approve(session, row, by=principal.subject, now=now)
    except lpr_store.LprRefused as refused:
        raise ProblemError(409, refused.code, refused.zh, refused.en) from refused
    session.commit()
    return LprView.model_validate(row, from_attributes=True)


def reject(session: Session, principal: Principal, rate_id: int, body: LprRejectIn) -> LprView:
    row = _draft(session, rate_id)
    try:
        lpr_store.reject(session, row, by=principal.subject, reason=body.reason, now=utcnow())
    except lpr_store.LprRefused as refused:
        raise ProblemError(409, refused.code, refused.zh, refused.en) from refused
    session.commit()
    return LprView.model_validate(row, from_attributes=True)


def _draft(session: Session, rate_id: int) -> LprRate:
    row = lpr_store.get(session, rate_id, lock=True)
    if row is None:
        raise not_found("LPR", "未找到该 LPR 记录", "LPR entry not found", "rate_id")
    return row
