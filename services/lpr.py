"""The LPR table: what is published when, and a new rate entered by an administrator ahead of its date."""

from __future__ import annotations

from sqlmodel import Session

from db import lpr_store
from domain.pricing import LPR_TABLE
from services.clock import business_date, utcnow
from services.errors import ProblemError
from services.principal import Principal
from services.schemas.lpr import LprIn, LprView


def listing(session: Session) -> list[LprView]:
    rows = lpr_store.rows(session)
    if rows:
        return [LprView.model_validate(r, from_attributes=True) for r in rows]
    return [LprView(tenor=tenor, effective_from=day, rate=rate, created_by="system", created_at=None)
            for day, rates in reversed(LPR_TABLE) for tenor, rate in sorted(rates.items())]


def add(session: Session, principal: Principal, body: LprIn) -> LprView:
    now = utcnow()
    if body.effective_from < business_date(now):
        raise ProblemError(422, "LPR_IN_THE_PAST", "LPR 生效日不能早于今天:已定价的贷款保持原利率",
                           "an LPR cannot take effect before today: loans already priced keep theirs", "effective_from")
    if lpr_store.exists(session, body.tenor, body.effective_from):
        raise ProblemError(409, "LPR_EXISTS", "该期限在该日已有 LPR", "this tenor already has an LPR on that date",
                           "effective_from")
    row = lpr_store.add(session, tenor=body.tenor, effective_from=body.effective_from, rate=body.rate,
                        by=principal.subject, now=now)
    session.commit()
    return LprView.model_validate(row, from_attributes=True)
