"""The LPR table (贷款市场报价利率) that prices every application and drawdown on its business date."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import RulesChecker, SessionDep, StaffMember
from api.errors import responses
from services import lpr
from services.schemas.lpr import LprIn, LprView

router = APIRouter(prefix="/v1/lpr", tags=["pricing"])


@router.get("", response_model=list[LprView], responses=responses(403))
def listing(user: StaffMember, session: SessionDep) -> list[LprView]:
    """Every published rate, newest first."""
    return lpr.listing(session)


@router.post("", status_code=201, response_model=LprView, responses=responses(403, 409, 422))
def add(body: LprIn, user: RulesChecker, session: SessionDep) -> LprView:
    """A newly published rate for one tenor, from its effective date (today or later); administrators only."""
    return lpr.add(session, user, body)
