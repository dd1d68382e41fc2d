"""Ops read views over the simulators: SMS outbox and the core-banking ledger (ops and admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import LedgerDep, OpsUser, OutboxDep
from api.errors import responses
from services import ops
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
