"""Loan notes after disbursement: servicing state, schedule, statement, payoff quote, repayments, reversal."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from api.deps import CurrentUser, SessionDep, WorkflowsDep, require_role
from api.errors import responses
from api.idempotency import IdempotencyDep
from services import loans
from services.principal import ADMIN, APPROVER, CUSTOMER, CUSTOMER_MANAGER, Principal
from services.schemas.common import Page
from services.schemas.loans import (
    LoanNoteDetail,
    LoanNoteSummary,
    PayoffQuote,
    RepaymentAccepted,
    RepaymentIn,
    RepaymentView,
    ReversalAccepted,
    ScheduleView,
    StatementView,
)

router = APIRouter(prefix="/v1/loans", tags=["loans"])
NoteNo = Annotated[str, Path(max_length=32)]
RepaymentNo = Annotated[str, Path(max_length=40)]
# The borrower repays their own note; a customer manager takes a repayment at the counter or in the village.
Repayer = Annotated[Principal, Depends(require_role(CUSTOMER, CUSTOMER_MANAGER))]
# Reversing posted money is a checker's act: approvers (their branch) and admin.
Reverser = Annotated[Principal, Depends(require_role(APPROVER, ADMIN))]


def _located(response: JSONResponse) -> JSONResponse:
    """Location of what a 202 started, also on a replayed answer."""
    if response.status_code < 300:
        body = json.loads(response.body)
        for link in body.get("links", []):
            if link.get("rel") in ("self", "repayment"):
                response.headers["Location"] = link["href"]
    return response


@router.get("", response_model=Page[LoanNoteSummary], responses=responses())
def list_notes(user: CurrentUser, session: SessionDep, status: Annotated[str | None, Query(max_length=16)] = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               offset: Annotated[int, Query(ge=0)] = 0) -> Page[LoanNoteSummary]:
    """The caller's notes: a customer their own, staff those of their branch (ops and admin every branch)."""
    return loans.search(session, user, status=status, limit=limit, offset=offset)


@router.get("/{note_no}", response_model=LoanNoteDetail, responses=responses(404))
def get_note(note_no: NoteNo, user: CurrentUser, session: SessionDep) -> LoanNoteDetail:
    return loans.get(session, user, note_no)


@router.get("/{note_no}/schedule", response_model=ScheduleView, responses=responses(404))
def schedule(note_no: NoteNo, user: CurrentUser, session: SessionDep) -> ScheduleView:
    return loans.schedule(session, user, note_no)


@router.get("/{note_no}/statement", response_model=StatementView, responses=responses(404))
def statement(note_no: NoteNo, user: CurrentUser, session: SessionDep) -> StatementView:
    return loans.statement(session, user, note_no)


@router.get("/{note_no}/payoff-quote", response_model=PayoffQuote, responses=responses(404, 409))
def payoff_quote(note_no: NoteNo, user: CurrentUser, session: SessionDep,
                 on: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD; default the value date")]
                 = None) -> PayoffQuote:
    """提前结清试算 for a repayment on `date`, end of day projected through the day before."""
    return loans.payoff_quote(session, user, note_no, on)


@router.post("/{note_no}/repayments", status_code=202, response_model=RepaymentAccepted,
             responses=responses(400, 403, 404, 409, 503))
async def repay(note_no: NoteNo, body: RepaymentIn, user: Repayer, session: SessionDep, workflows: WorkflowsDep,
                idem: IdempotencyDep) -> JSONResponse:
    """Repay a note (the borrower, or a customer manager of its branch). Checked against what the note owes
    on the value date before anything is written; the posting then runs as RepaymentWorkflow. Needs an
    Idempotency-Key: the same key and body answer with the same repayment."""
    response = await idem.run(body, lambda _: loans.repay(session, workflows, user, note_no, body,
                                                          request_key=idem.key or ""),
                              status_code=202, required=True)
    return _located(response)


@router.get("/{note_no}/repayments/{repayment_no}", response_model=RepaymentView, responses=responses(404))
def get_repayment(note_no: NoteNo, repayment_no: RepaymentNo, user: CurrentUser, session: SessionDep) -> RepaymentView:
    return loans.repayment(session, user, note_no, repayment_no)


@router.post("/{note_no}/repayments/{repayment_no}/reversal", status_code=202, response_model=ReversalAccepted,
             responses=responses(403, 404, 409, 503))
async def reverse(note_no: NoteNo, repayment_no: RepaymentNo, user: Reverser, session: SessionDep,
                  workflows: WorkflowsDep, idem: IdempotencyDep) -> JSONResponse:
    """Reverse the note's latest posted repayment (approver or admin). Runs as RepaymentReversalWorkflow."""
    response = await idem.run(None, lambda _: loans.reverse(session, workflows, user, note_no, repayment_no),
                              status_code=202)
    return _located(response)
