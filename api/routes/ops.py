"""Ops views (ops and admin only): SMS outbox and the core-banking ledger, the business date, end of day."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from api.deps import LedgerDep, OpsUser, OutboxDep, SessionDep, SettingsDep, WorkflowsDep
from api.errors import responses
from api.idempotency import IdempotencyDep
from services import ops
from services.schemas.loans import BusinessDateView, EndOfDayAccepted, EndOfDayIn
from services.schemas.ops import AccountView, PostingView, SmsView, TrialBalance

router = APIRouter(prefix="/v1/ops", tags=["ops"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0)]


@router.get("/sms-outbox", response_model=list[SmsView], responses=responses(403))
def sms_outbox(user: OpsUser, outbox: OutboxDep, limit: Limit = 50, offset: Offset = 0) -> list[SmsView]:
    return ops.sms_outbox(outbox, limit=limit, offset=offset)


@router.get("/ledger/postings", response_model=list[PostingView], responses=responses(403))
def postings(user: OpsUser, ledger: LedgerDep, reference: Annotated[str | None, Query(max_length=64)] = None,
             limit: Limit = 50, offset: Offset = 0) -> list[PostingView]:
    return ops.postings(ledger, reference=reference, limit=limit, offset=offset)


@router.get("/ledger/accounts/{account_no}", response_model=AccountView, responses=responses(403, 404, 503))
def account(account_no: Annotated[str, Path(max_length=40)], user: OpsUser, ledger: LedgerDep, limit: Limit = 50,
            offset: Offset = 0) -> AccountView:
    return ops.account(ledger, account_no, limit=limit, offset=offset)


@router.get("/ledger/trial-balance", response_model=TrialBalance, responses=responses(403))
def trial_balance(user: OpsUser, ledger: LedgerDep) -> TrialBalance:
    return ops.trial_balance(ledger)


@router.get("/business-date", response_model=BusinessDateView, responses=responses(403))
async def business_date(user: OpsUser, session: SessionDep, workflows: WorkflowsDep) -> BusinessDateView:
    """The last closed and the open business date, and the end-of-day workflow's progress."""
    return await ops.business_date_view(session, workflows)


@router.post("/end-of-day", status_code=202, response_model=EndOfDayAccepted, responses=responses(403, 409, 503))
async def end_of_day(body: EndOfDayIn, user: OpsUser, session: SessionDep, workflows: WorkflowsDep,
                     settings: SettingsDep, idem: IdempotencyDep) -> JSONResponse:
    """Start end of day (日终) through `through` (default yesterday, Beijing): 202, then follow it with
    GET /v1/ops/business-date. 409 while another run is going; 422 for dates already closed, and in
    production for a date that has not ended (test systems may move the business date forward)."""
    future = settings.env != "production"
    return await idem.run(body, lambda _: ops.start_end_of_day(session, workflows, body, future_dates=future),
                          status_code=202)
