"""Ops views (ops and admin only): SMS outbox and the core-banking ledger, the business date, end of day,
the quarterly batch rating."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from api.deps import LedgerDep, OpsUser, OutboxDep, SessionDep, SettingsDep, WorkflowsDep
from api.errors import responses
from api.idempotency import IdempotencyDep
from services import ops, rating_batch
from services.schemas.loans import BusinessDateView, EndOfDayAccepted, EndOfDayIn
from services.schemas.ops import AccountView, PostingView, SmsView, TrialBalance
from services.schemas.rating_batch import (
    RatingFailureView,
    RatingRunAccepted,
    RatingRunReport,
    RatingRunStart,
    RatingRunView,
)

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


RunId = Annotated[int, Path(ge=1)]


@router.post("/rating-runs", status_code=202, response_model=RatingRunAccepted, responses=responses(403, 409, 503))
async def start_rating_run(body: RatingRunStart, user: OpsUser, session: SessionDep, workflows: WorkflowsDep,
                           settings: SettingsDep) -> RatingRunAccepted:
    """Re-rate every archived household now (the quarterly Schedule does it on each quarter's first day):
    202, then follow it with GET /v1/ops/rating-runs. A start while an ops-started run is going attaches to it.
    Runs are exclusive: while another run (the Schedule's) is in progress, 409 `RATING_RUN_IN_PROGRESS` with
    its `run_id`. A run counts as in progress until completed, or until NONGEDAI_RATING_RUN_LEASE_MINUTES
    (30) pass without a chunk rated, so a run stopped mid-way blocks no longer than that."""
    return await rating_batch.start_run(session, workflows, body,
                                        lease=settings.rating_run_lease)


@router.get("/rating-runs", response_model=list[RatingRunView], responses=responses(403))
async def rating_runs(user: OpsUser, session: SessionDep, limit: Limit = 20, offset: Offset = 0) -> list[RatingRunView]:
    """Batch rating runs, newest first: models used, chunks done of all, households rated and failed."""
    return await rating_batch.runs(session, limit=limit, offset=offset)


@router.get("/rating-runs/{run_id}", response_model=RatingRunReport, responses=responses(403, 404))
async def rating_run(run_id: RunId, user: OpsUser, session: SessionDep) -> RatingRunReport:
    """One run with its grade-migration report: from -> to counts, upgrades, downgrades, new, prefiltered."""
    return await rating_batch.report(session, run_id)


@router.get("/rating-runs/{run_id}/failures", response_model=list[RatingFailureView], responses=responses(403, 404))
async def rating_run_failures(run_id: RunId, user: OpsUser, session: SessionDep, limit: Limit = 50,
                              offset: Offset = 0) -> list[RatingFailureView]:
    """Households the run could not rate, each with every reason (code, field, zh, en)."""
    return await rating_batch.failures(session, run_id, limit=limit, offset=offset)
