"""Credit lines: list and read with the available amount, request drawdowns, read loan notes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from api.deps import CurrentUser, CustomerUser, SessionDep, WorkflowsDep
from api.errors import responses
from api.idempotency import IdempotencyDep
from services import credit_lines
from services.schemas.common import Page
from services.schemas.credit_lines import CreditLineView, DrawdownIn, LoanNoteView
from workflows.messages import DrawdownAccepted

router = APIRouter(prefix="/v1/credit-lines", tags=["credit lines"])
LineNo = Annotated[str, Path(max_length=24)]


@router.get("", response_model=Page[CreditLineView], responses=responses())
def list_lines(user: CurrentUser, session: SessionDep, status: str | None = None,
               limit: Annotated[int, Query(ge=1, le=200)] = 50,
               offset: Annotated[int, Query(ge=0)] = 0) -> Page[CreditLineView]:
    return credit_lines.search(session, user, status=status, limit=limit, offset=offset)


@router.get("/{line_no}", response_model=CreditLineView, responses=responses(404))
def get_line(line_no: LineNo, user: CurrentUser, session: SessionDep) -> CreditLineView:
    return credit_lines.get(session, user, line_no)


@router.post("/{line_no}/drawdowns", status_code=202, response_model=DrawdownAccepted,
             responses=responses(400, 403, 404, 409, 503))
async def request_drawdown(line_no: LineNo, body: DrawdownIn, user: CustomerUser, session: SessionDep,
                           workflows: WorkflowsDep, idem: IdempotencyDep) -> JSONResponse:
    """The borrower draws on their own line (staff cannot create a debt for them). Accepted once the line's
    validator agrees; disbursement then runs as its own workflow. Needs an Idempotency-Key."""
    return await idem.run(body, lambda _: credit_lines.drawdown(session, workflows, user, line_no, body,
                                                                update_id=idem.update_id),
                          status_code=202, required=True)


@router.get("/{line_no}/notes", response_model=list[LoanNoteView], responses=responses(404))
def notes(line_no: LineNo, user: CurrentUser, session: SessionDep) -> list[LoanNoteView]:
    return credit_lines.notes(session, user, line_no)
