"""The LPR table (贷款市场报价利率) that prices every application and drawdown on its business date."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import CurrentUser, RulesChecker, RulesMaker, SessionDep, StaffMember
from api.errors import responses
from services import lpr, prices
from services.schemas.lpr import LprIn, LprRejectIn, LprView
from services.schemas.prices import PriceView

router = APIRouter(prefix="/v1/lpr", tags=["pricing"])
price_router = APIRouter(tags=["pricing"])
RateId = Annotated[int, Path(ge=1)]


@price_router.get("/v1/applications/{app_no}/price", response_model=PriceView, responses=responses(404))
def price(app_no: Annotated[str, Path(max_length=24)], user: CurrentUser, session: SessionDep) -> PriceView:
    """The application's rate term by term (LPR, spread, grade adjustment, floor or cap), in Chinese and English."""
    return prices.price_of(session, user, app_no)


@router.get("", response_model=list[LprView], responses=responses(403))
def listing(user: StaffMember, session: SessionDep) -> list[LprView]:
    """Every published rate, newest first."""
    return lpr.listing(session)


@router.post("", status_code=201, response_model=LprView, responses=responses(403, 409, 422))
def add(body: LprIn, user: RulesMaker, session: SessionDep) -> LprView:
    """A newly published rate for one tenor, from its effective date (today or later): a draft that prices
    nothing until another administrator approves it (maker-checker)."""
    return lpr.add(session, user, body)


@router.post("/{rate_id}/approval", response_model=LprView, responses=responses(403, 404, 409, 422))
def approve(rate_id: RateId, user: RulesChecker, session: SessionDep) -> LprView:
    """Put a draft rate in force from its effective date: an administrator other than who entered it, before
    that date has passed."""
    return lpr.approve(session, user, rate_id)


@router.post("/{rate_id}/rejection", response_model=LprView, responses=responses(403, 404, 409, 422))
def reject(rate_id: RateId, body: LprRejectIn, user: RulesChecker, session: SessionDep) -> LprView:
    """Refuse a draft rate, with the reason kept on the record; the tenor and date are free for a new entry."""
    return lpr.reject(session, user, rate_id, body)
