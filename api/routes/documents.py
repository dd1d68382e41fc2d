"""Contracts: metadata, the PDF, and e-signing with an SMS code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response

from api.deps import (
    CaDep,
    CurrentUser,
    ImagingDep,
    ManagerOrCustomer,
    SessionDep,
    SettingsDep,
    SmsDep,
    WorkflowsDep,
)
from api.errors import responses
from api.idempotency import IdempotencyDep
from services import documents
from services.clock import utcnow
from services.schemas.applications import DocumentView
from services.schemas.common import CodeIn, CodeSent

router = APIRouter(prefix="/v1/documents", tags=["documents"])
DocNo = Annotated[str, Path(max_length=40)]


@router.get("/{doc_no}", response_model=DocumentView, responses=responses(404))
def meta(doc_no: DocNo, user: CurrentUser, session: SessionDep) -> DocumentView:
    return documents.meta(session, user, doc_no)


@router.get("/{doc_no}/verification", response_model=documents.Verification, responses=responses(404))
def verification(doc_no: DocNo, session: SessionDep, ca: CaDep) -> documents.Verification:
    """Public, for the QR code printed on every contract: its status, hash and whether its signature holds.
    Anyone with the paper may check it, so it says nothing about the parties."""
    return documents.verification(session, ca, doc_no)


@router.get("/{doc_no}/pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}},
                                                                   **responses(404, 503)})
def pdf(doc_no: DocNo, user: CurrentUser, session: SessionDep, imaging: ImagingDep) -> Response:
    """The signed PDF once signed, else the issued one."""
    data = documents.pdf(session, imaging, user, doc_no)
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{doc_no}.pdf"', "Cache-Control": "no-store"})


@router.post("/{doc_no}/signing-code", status_code=202, response_model=CodeSent, response_model_exclude_none=True,
             responses=responses(403, 404, 409, 429, 503))
def signing_code(doc_no: DocNo, user: ManagerOrCustomer, session: SessionDep, settings: SettingsDep,
                 sms: SmsDep) -> CodeSent:
    """Text the signer a code that authorises this one signature."""
    return documents.issue_signing_code(session, settings, sms, user, doc_no, utcnow())


@router.post("/{doc_no}/sign", response_model=documents.SignResult, responses=responses(403, 404, 409, 429, 503))
async def sign(doc_no: DocNo, body: CodeIn, user: ManagerOrCustomer, session: SessionDep, settings: SettingsDep,
               workflows: WorkflowsDep, idem: IdempotencyDep) -> JSONResponse:
    return await idem.run(body, lambda _: documents.sign(session, workflows, settings, user, doc_no, body,
                                                         now=utcnow(), update_id=idem.update_id))
