"""Loan applications: submit, list, read, and act on the running workflow."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from api.deps import (
    CurrentUser,
    CustomerUser,
    ManagerOrCustomer,
    SessionDep,
    SettingsDep,
    SmsDep,
    StaffMember,
    WorkflowsDep,
)
from api.errors import responses
from api.idempotency import IdempotencyDep
from services import application_actions as actions
from services import application_views as views
from services import applications
from services.clock import utcnow
from services.schemas.applications import (
    ActionResult,
    ApplicationCreated,
    ApplicationDetail,
    ApplicationIn,
    ApplicationSummary,
    CancelIn,
    DocumentView,
    EventView,
    GuarantorIn,
    SupplementIn,
    WithdrawIn,
)
from services.schemas.common import CodeIn, CodeSent, Page

router = APIRouter(prefix="/v1/applications", tags=["applications"])
AppNo = Annotated[str, Path(max_length=24)]
UPDATE_PROBLEMS = responses(403, 404, 409, 503)


@router.post("", status_code=201, response_model=ApplicationCreated, responses=responses(400, 403, 404, 409, 503))
async def create_application(body: ApplicationIn, user: ManagerOrCustomer, session: SessionDep, settings: SettingsDep,
                             workflows: WorkflowsDep, idem: IdempotencyDep) -> JSONResponse:
    """Self-service by a customer, or by proxy by a customer manager (who names the customer).

    Needs an Idempotency-Key: if the workflow cannot start (503), retrying with the same key starts it.
    """
    return await idem.run(body, lambda prior: applications.create(session, workflows, settings, user, body,
                                                                  now=utcnow(), prior=prior),
                          status_code=201, required=True)


@router.get("", response_model=Page[ApplicationSummary], responses=responses())
def list_applications(user: CurrentUser, session: SessionDep, stage: str | None = None, status: str | None = None,
                      channel: str | None = None, branch: str | None = None, product: str | None = None,
                      created_from: Annotated[date | None, Query(description="business date, inclusive")] = None,
                      created_to: Annotated[date | None, Query(description="business date, inclusive")] = None,
                      limit: Annotated[int, Query(ge=1, le=200)] = 50,
                      offset: Annotated[int, Query(ge=0)] = 0) -> Page[ApplicationSummary]:
    return views.search(session, user, stage=stage, status=status, channel=channel, branch_code=branch,
                        product_code=product, created_from=created_from, created_to=created_to, limit=limit,
                        offset=offset)


@router.get("/{app_no}", response_model=ApplicationDetail, responses=responses(404))
async def get_application(app_no: AppNo, user: CurrentUser, session: SessionDep,
                          workflows: WorkflowsDep) -> ApplicationDetail:
    return await views.get(session, workflows, user, app_no)


@router.post("/{app_no}/confirm", response_model=ActionResult, responses=UPDATE_PROBLEMS)
async def confirm(app_no: AppNo, body: CodeIn, user: ManagerOrCustomer, session: SessionDep, settings: SettingsDep,
                  workflows: WorkflowsDep, idem: IdempotencyDep) -> JSONResponse:
    """Confirm a proxy application with the code texted to the customer."""
    return await idem.run(body, lambda _: actions.confirm(session, workflows, settings, user, app_no, body,
                                                          now=utcnow(), update_id=idem.update_id))


@router.post("/{app_no}/confirmation-code", status_code=202, response_model=CodeSent,
             response_model_exclude_none=True, responses=responses(404, 409, 429, 503))
def resend_confirmation_code(app_no: AppNo, user: ManagerOrCustomer, session: SessionDep, settings: SettingsDep,
                             sms: SmsDep) -> CodeSent:
    return actions.resend_confirmation_code(session, settings, sms, user, app_no, utcnow())


@router.post("/{app_no}/withdraw", response_model=ActionResult, responses=UPDATE_PROBLEMS)
async def withdraw(app_no: AppNo, body: WithdrawIn, user: CustomerUser, session: SessionDep, workflows: WorkflowsDep,
                   idem: IdempotencyDep) -> JSONResponse:
    return await idem.run(body, lambda _: actions.withdraw(session, workflows, user, app_no, body,
                                                           update_id=idem.update_id))


@router.post("/{app_no}/cancel", response_model=ActionResult, responses=UPDATE_PROBLEMS)
async def cancel(app_no: AppNo, body: CancelIn, user: StaffMember, session: SessionDep, workflows: WorkflowsDep,
                 idem: IdempotencyDep) -> JSONResponse:
    """Staff cancel with a reason code; the workflow decides which roles may."""
    return await idem.run(body, lambda _: actions.cancel(session, workflows, user, app_no, body,
                                                         update_id=idem.update_id))


@router.post("/{app_no}/supplements", response_model=ActionResult, responses=UPDATE_PROBLEMS)
async def supply_info(app_no: AppNo, body: SupplementIn, user: ManagerOrCustomer, session: SessionDep,
                      workflows: WorkflowsDep, idem: IdempotencyDep) -> JSONResponse:
    return await idem.run(body, lambda _: actions.supply_info(session, workflows, user, app_no, body,
                                                              update_id=idem.update_id))


@router.put("/{app_no}/guarantors/{slot}", response_model=ActionResult, responses=UPDATE_PROBLEMS)
async def replace_guarantor(app_no: AppNo, slot: Annotated[int, Path(ge=1, le=2)], body: GuarantorIn,
                            user: ManagerOrCustomer, session: SessionDep, workflows: WorkflowsDep,
                            idem: IdempotencyDep) -> JSONResponse:
    return await idem.run(body, lambda _: actions.replace_guarantor(session, workflows, user, app_no, slot, body,
                                                                    now=utcnow(), update_id=idem.update_id))


@router.get("/{app_no}/events", response_model=list[EventView], responses=responses(404))
def events(app_no: AppNo, user: CurrentUser, session: SessionDep) -> list[EventView]:
    return views.events(session, user, app_no)


@router.get("/{app_no}/documents", response_model=list[DocumentView], responses=responses(404))
def documents(app_no: AppNo, user: CurrentUser, session: SessionDep) -> list[DocumentView]:
    return views.documents(session, user, app_no)
