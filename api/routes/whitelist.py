"""Whitelist campaigns (批量白名单): upload a file, watch, pause/resume/cancel, the funnel; and the customer's
invitations, accepted or declined from the phone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, UploadFile
from fastapi.responses import JSONResponse

from api.deps import CurrentUser, CustomerUser, SessionDep, SettingsDep, StaffMember, WorkflowsDep
from api.errors import responses
from api.idempotency import IdempotencyDep
from services import whitelist
from services.clock import utcnow
from services.errors import ProblemError
from services.schemas.whitelist import (
    AcceptOfferIn,
    CampaignActionIn,
    CampaignView,
    Funnel,
    OfferAnswer,
    OfferView,
)

router = APIRouter(tags=["whitelist"])
CampaignNo = Annotated[str, Path(max_length=24)]
OfferNo = Annotated[str, Path(max_length=32)]
UPLOAD_LIMIT = 20 * 1024 * 1024


@router.post("/v1/whitelist-campaigns", status_code=201, response_model=CampaignView,
             responses=responses(403, 413, 422, 503))
async def upload(file: UploadFile, user: StaffMember, session: SessionDep, settings: SettingsDep,
                 workflows: WorkflowsDep,
                 dry_run: Annotated[bool, Query(description="validate and report only; store and start nothing")] = False,
                 ) -> JSONResponse:
    """A CSV (UTF-8 or GBK) or XLSX whitelist: one row per farmer with resident ID, name, mobile, pre-approved
    limit, product, customer manager and branch. Answers the validation report of every row. The same file
    uploaded again answers 200 with the first campaign (`duplicate`) and starts nothing."""
    data = await file.read(UPLOAD_LIMIT + 1)
    if len(data) > UPLOAD_LIMIT:
        raise ProblemError(413, "FILE_TOO_LARGE", "文件不能超过20MB", "the file may be at most 20 MB", "file")
    view = await whitelist.upload(session, workflows, settings, user, data=data, filename=file.filename or "",
                                  now=utcnow(), dry_run=dry_run)
    status = 200 if view.duplicate or view.dry_run else 201
    return JSONResponse(view.model_dump(mode="json"), status_code=status)


@router.get("/v1/whitelist-campaigns/{campaign_no}", response_model=CampaignView, responses=responses(404))
async def get_campaign(campaign_no: CampaignNo, user: StaffMember, session: SessionDep, workflows: WorkflowsDep,
                       report: bool = False) -> CampaignView:
    """Rows by status from the database and, while it runs, the live progress from the workflow."""
    return await whitelist.get(session, workflows, user, campaign_no, with_report=report)


@router.post("/v1/whitelist-campaigns/{campaign_no}/actions", response_model=CampaignView,
             responses=responses(403, 404, 409, 503))
async def act(campaign_no: CampaignNo, body: CampaignActionIn, user: StaffMember, session: SessionDep,
              workflows: WorkflowsDep, idem: IdempotencyDep) -> JSONResponse:
    """`pause` (no new rows), `resume`, or `cancel` (no new rows; open invitations are cancelled)."""
    return await idem.run(body, lambda _: whitelist.act(session, workflows, user, campaign_no, body,
                                                        update_id=idem.update_id))


@router.get("/v1/whitelist-campaigns/{campaign_no}/funnel", response_model=Funnel, responses=responses(404))
def funnel(campaign_no: CampaignNo, user: StaffMember, session: SessionDep) -> Funnel:
    """invited -> accepted -> signed -> drawn, by branch and customer manager."""
    return whitelist.funnel(session, user, campaign_no)


@router.get("/v1/whitelist-offers/mine", response_model=list[OfferView], responses=responses())
def my_offers(user: CustomerUser, session: SessionDep) -> list[OfferView]:
    return whitelist.my_offers(session, user)


@router.post("/v1/whitelist-offers/{offer_no}/accept", response_model=OfferAnswer,
             responses=responses(403, 404, 409, 503))
async def accept(offer_no: OfferNo, body: AcceptOfferIn, user: CustomerUser, session: SessionDep,
                 workflows: WorkflowsDep, idem: IdempotencyDep) -> JSONResponse:
    """The invited customer accepts, for the offered limit or less: a whitelist-channel application starts."""
    return await idem.run(body, lambda _: whitelist.accept(session, workflows, user, offer_no, body,
                                                           update_id=idem.update_id))


@router.post("/v1/whitelist-offers/{offer_no}/decline", response_model=OfferAnswer,
             responses=responses(403, 404, 409, 503))
async def decline(offer_no: OfferNo, user: CurrentUser, session: SessionDep, workflows: WorkflowsDep,
                  idem: IdempotencyDep) -> JSONResponse:
    return await idem.run(None, lambda _: whitelist.decline(session, workflows, user, offer_no,
                                                            update_id=idem.update_id))
