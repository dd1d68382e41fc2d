"""Human approval: the approver's queue and their decision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from api.deps import ApproverUser, SessionDep, WorkflowsDep
from api.errors import responses
from api.idempotency import IdempotencyDep
from services import approvals
from services.schemas.applications import ActionResult, AmendIn, ApplicationSummary, DecisionIn
from services.schemas.common import Page

router = APIRouter(prefix="/v1/approvals", tags=["approvals"])


@router.get("/inbox", response_model=Page[ApplicationSummary], responses=responses(403))
def inbox(user: ApproverUser, session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 50,
          offset: Annotated[int, Query(ge=0)] = 0) -> Page[ApplicationSummary]:
    """Applications awaiting approval in this approver's branch queue (including escalations to it)."""
    return approvals.inbox(session, user, limit=limit, offset=offset)


@router.post("/{app_no}/decision", response_model=ActionResult, responses=responses(403, 404, 409, 503))
async def decide(app_no: Annotated[str, Path(max_length=24)], body: DecisionIn, user: ApproverUser,
                 session: SessionDep, workflows: WorkflowsDep, idem: IdempotencyDep) -> JSONResponse:
    return await idem.run(body, lambda _: approvals.decide(session, workflows, user, app_no, body,
                                                           update_id=idem.update_id))


@router.post("/{app_no}/amendment", response_model=ActionResult, responses=responses(403, 404, 409, 422, 503))
async def amend(app_no: Annotated[str, Path(max_length=24)], body: AmendIn, user: ApproverUser,
                session: SessionDep, workflows: WorkflowsDep, idem: IdempotencyDep) -> JSONResponse:
    """Lower the approved amount while the contracts await signatures: every contract of the old terms is
    voided (signed or not) and new ones (HT…-R2, …) are issued for signing, with a new signing deadline.
    Credit loans only for now."""
    return await idem.run(body, lambda _: approvals.amend(session, workflows, user, app_no, body,
                                                          update_id=idem.update_id))
