"""Household archives (农户建档) for staff: create, edit, submit, search (masked), history, images, transfers and
shares between customer managers, and the code tables of the form."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Form, Query, Response, UploadFile
from pydantic import BaseModel

from api.deps import CustomerAdmin, ImagingDep, SessionDep, StaffMember
from api.errors import responses
from services import archive_images, households, transfers
from services.archive_codes import code_tables, villages
from services.clock import utcnow
from services.errors import ProblemError
from services.schemas.common import Page
from services.schemas.households import (
    ChangeView,
    CodeTables,
    HouseholdCreate,
    HouseholdSearchIn,
    HouseholdSummary,
    HouseholdUpdate,
    HouseholdView,
    ImageView,
    TransferDecisionIn,
    TransferIn,
    TransferView,
    VersionIn,
    VillageView,
)

router = APIRouter(tags=["archives"])


def _form_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The form's JSON schema for the OpenAPI page, its $defs inlined (the route itself takes a JSON object)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return {"requestBody": {"required": True, "content": {"application/json": {"schema": inline(schema)}}}}


Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]
# The form is validated by the service with the code tables and today's date, so that an unknown code is
# refused in the same answer as every other bad field; OpenAPI shows HouseholdCreate and HouseholdUpdate.
ArchiveForm = Annotated[dict[str, Any], Body(description="the archive form (see docs/archives.md)")]


@router.post("/v1/households", status_code=201, response_model=HouseholdView, responses=responses(403, 409),
             openapi_extra=_form_schema(HouseholdCreate))
def create_household(raw: ArchiveForm, user: CustomerAdmin, session: SessionDep) -> HouseholdView:
    """A new archive in draft. The head is `customer_id` or `head` (name, resident ID, mobile, address)."""
    return households.create(session, user, raw, utcnow())


@router.get("/v1/households", response_model=Page[HouseholdSummary], responses=responses(403))
def list_households(user: StaffMember, session: SessionDep, village_code: str | None = None,
                    status: Literal["draft", "archived"] | None = None, limit: Limit = 50,
                    offset: Offset = 0) -> Page[HouseholdSummary]:
    return households.search(session, user, HouseholdSearchIn(village_code=village_code, status=status, limit=limit,
                                                              offset=offset))


@router.post("/v1/households/search", response_model=Page[HouseholdSummary], responses=responses(403))
def search_households(body: HouseholdSearchIn, user: StaffMember, session: SessionDep) -> Page[HouseholdSummary]:
    """A POST: the search text (name, resident ID, mobile) is personal data and stays out of URLs and logs."""
    return households.search(session, user, body)


@router.get("/v1/households/{household_id}", response_model=HouseholdView, responses=responses(403, 404))
def get_household(household_id: int, user: StaffMember, session: SessionDep) -> HouseholdView:
    return households.get(session, user, household_id)


@router.put("/v1/households/{household_id}", response_model=HouseholdView, responses=responses(403, 404, 409),
            openapi_extra=_form_schema(HouseholdUpdate))
def update_household(household_id: int, raw: ArchiveForm, user: CustomerAdmin, session: SessionDep) -> HouseholdView:
    """The whole form with the `version` it was read at; 409 VERSION_CONFLICT when someone saved in between."""
    return households.update(session, user, household_id, raw, utcnow())


@router.post("/v1/households/{household_id}/submission", response_model=HouseholdView,
             responses=responses(403, 404, 409))
def submit_household(household_id: int, body: VersionIn, user: CustomerAdmin, session: SessionDep) -> HouseholdView:
    """Draft -> archived; 422 ARCHIVE_INCOMPLETE lists each required item still missing."""
    return households.submit(session, user, household_id, body, utcnow())


@router.get("/v1/households/{household_id}/history", response_model=Page[ChangeView], responses=responses(404))
def household_history(household_id: int, user: StaffMember, session: SessionDep, limit: Limit = 100,
                      offset: Offset = 0) -> Page[ChangeView]:
    return households.history(session, user, household_id, limit=limit, offset=offset)


@router.post("/v1/households/{household_id}/images", status_code=201, response_model=ImageView,
             responses=responses(403, 404, 413, 503))
async def upload_image(household_id: int, file: UploadFile, kind: Annotated[str, Form()], user: CustomerAdmin,
                       session: SessionDep, imaging: ImagingDep) -> ImageView:
    """Multipart `file` (JPEG, PNG, WebP or PDF, at most 10 MB) and `kind` (id_front, id_back, house, land,
    livestock, business, other): stored on the imaging platform."""
    data = await file.read(archive_images.MAX_IMAGE_BYTES + 1)
    if len(data) > archive_images.MAX_IMAGE_BYTES:
        raise ProblemError(413, "IMAGE_TOO_LARGE", "影像不能超过10MB", "an image may be at most 10 MB", "file")
    return archive_images.add(session, imaging, user, household_id, kind=kind, data=data, now=utcnow())


@router.get("/v1/households/{household_id}/images/{image_id}", response_class=Response, responses=responses(404, 503))
def get_image(household_id: int, image_id: int, user: StaffMember, session: SessionDep, imaging: ImagingDep) -> Response:
    data, content_type = archive_images.content(session, imaging, user, household_id, image_id)
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, no-store"})


@router.delete("/v1/households/{household_id}/images/{image_id}", status_code=204, response_class=Response,
               responses=responses(403, 404))
def delete_image(household_id: int, image_id: int, user: CustomerAdmin, session: SessionDep) -> Response:
    archive_images.remove(session, user, household_id, image_id, utcnow())
    return Response(status_code=204)


@router.post("/v1/households/{household_id}/transfers", status_code=201, response_model=TransferView,
             responses=responses(403, 404, 409))
def request_transfer(household_id: int, body: TransferIn, user: CustomerAdmin, session: SessionDep) -> TransferView:
    """`kind` transfer (another manager takes the archive over) or share (one more manager may work on it)."""
    return transfers.request(session, user, household_id, body, utcnow())


@router.get("/v1/households/{household_id}/transfers", response_model=list[TransferView], responses=responses(404))
def household_transfers(household_id: int, user: StaffMember, session: SessionDep) -> list[TransferView]:
    return transfers.for_household(session, user, household_id)


@router.get("/v1/archive-transfers", response_model=list[TransferView], responses=responses(403))
def list_transfers(user: StaffMember, session: SessionDep,
                   status: Literal["pending", "approved", "rejected", "cancelled", "revoked"] | None = None,
                   limit: Limit = 50, offset: Offset = 0) -> list[TransferView]:
    return transfers.listing(session, user, status=status, limit=limit, offset=offset)


@router.post("/v1/archive-transfers/{transfer_id}/decision", response_model=TransferView,
             responses=responses(403, 404, 409))
def decide_transfer(transfer_id: int, body: TransferDecisionIn, user: StaffMember, session: SessionDep) -> TransferView:
    """An approver of the archive's branch or an administrator, never the requester or the receiving manager."""
    return transfers.decide(session, user, transfer_id, body, utcnow())


@router.post("/v1/archive-transfers/{transfer_id}/cancel", response_model=TransferView,
             responses=responses(403, 404, 409))
def cancel_transfer(transfer_id: int, user: StaffMember, session: SessionDep) -> TransferView:
    return transfers.cancel(session, user, transfer_id, utcnow())


@router.post("/v1/archive-transfers/{transfer_id}/revocation", response_model=TransferView,
             responses=responses(403, 404, 409))
def revoke_share(transfer_id: int, user: StaffMember, session: SessionDep) -> TransferView:
    return transfers.revoke_share(session, user, transfer_id, utcnow())


@router.get("/v1/villages", response_model=list[VillageView], responses=responses(403))
def list_villages(user: StaffMember, session: SessionDep) -> list[VillageView]:
    """The villages of the caller's branch (all of them for ops and administrators)."""
    return villages(session, user)


@router.get("/v1/archive-codes", response_model=CodeTables, responses=responses(403))
def archive_codes(user: StaffMember, session: SessionDep) -> CodeTables:
    return code_tables(session)
