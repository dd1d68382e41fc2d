"""Guarantors: the guarantees asked of me, and my consent."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import CustomerUser, SessionDep, WorkflowsDep
from api.errors import responses
from api.idempotency import IdempotencyDep
from services import guarantees
from services.schemas.guarantees import ConsentIn, GuaranteeInvitation
from workflows.messages import GuarantorState

router = APIRouter(prefix="/v1/guarantees", tags=["guarantees"])


@router.get("/mine", response_model=list[GuaranteeInvitation], responses=responses(403))
def mine(user: CustomerUser, session: SessionDep) -> list[GuaranteeInvitation]:
    return guarantees.mine(session, user)


@router.post("/{guarantee_id}/consent", response_model=GuarantorState, responses=responses(403, 404, 409, 503))
async def consent(guarantee_id: int, body: ConsentIn, user: CustomerUser, session: SessionDep,
                  workflows: WorkflowsDep, idem: IdempotencyDep) -> JSONResponse:
    return await idem.run(body, lambda _: guarantees.consent(session, workflows, user, guarantee_id, body,
                                                             update_id=idem.update_id))
