"""Contracts: metadata, the PDF, and e-signing with an SMS code."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
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
from services.blocking import in_thread
from services.clock import utcnow
from services.errors import ProblemError
from services.schemas.applications import DocumentView
from services.schemas.common import CodeIn, CodeSent

router = APIRouter(prefix="/v1/documents", tags=["documents"])
DocNo = Annotated[str, Path(max_length=40)]
MAX_PDF_BYTES = 20 * 1024 * 1024


@router.get("/{doc_no}", response_model=DocumentView, responses=responses(404))
def meta(doc_no: DocNo, user: CurrentUser, session: SessionDep) -> DocumentView:
    return documents.meta(session, user, doc_no)


@router.post("/verify", response_model=documents.FileVerification, responses=responses(413, 503),
             openapi_extra={"requestBody": {"required": True, "content": {"application/pdf": {}}}})
async def verify_file(request: Request, session: SessionDep, ca: CaDep) -> documents.FileVerification:
    """Public: check a signed PDF someone holds (body: the PDF's bytes). Every signature's integrity,
    certificate chain, revocation and timestamp; any byte changed or added after signing is tampering."""
    pdf = bytearray()
    async for chunk in request.stream():
        pdf += chunk
        if len(pdf) > MAX_PDF_BYTES:
            raise ProblemError(413, "FILE_TOO_LARGE", "文件过大(上限20MB)", "the file is larger than 20 MB")
    return await in_thread(documents.verify_file, session, ca, bytes(pdf))


@router.get("/{doc_no}/verification", response_model=documents.Verification, responses=responses(404, 503))
def verification(doc_no: DocNo, session: SessionDep, ca: CaDep, imaging: ImagingDep) -> documents.Verification:
    """Public, for the QR code printed on every contract: its status, hashes and whether each signature in
    the signed PDF holds. Anyone with the paper may check it, so it names no person."""
    return documents.verification(session, ca, imaging, doc_no)


@router.get("/{doc_no}/evidence", response_model=documents.EvidenceLog, responses=responses(404, 503))
def evidence(doc_no: DocNo, user: CurrentUser, session: SessionDep, ca: CaDep) -> documents.EvidenceLog:
    """The signatures' evidence log (time, channel, one-time-code reference, document hashes), hash-chained:
    staff who may see the application, or the document's signer."""
    return documents.evidence(session, ca, user, doc_no)


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
