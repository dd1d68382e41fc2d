"""Contracts: metadata, the PDF from the imaging store, and e-signing with an SMS code."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Session

from adapters.ca.evidence import chain_intact
from adapters.ca.port import EvidenceEntry, PdfVerification, SignatureAuthority
from adapters.errors import AdapterUnavailable
from adapters.imaging.port import ImageStore
from adapters.sms.port import SmsGateway
from config.settings import Settings
from db.models import Document
from db.repositories import applications, customers, documents, guarantees
from services import otp
from services.blocking import in_thread
from services.errors import ProblemError, forbidden, not_found
from services.gateway import WorkflowGateway
from services.principal import CUSTOMER_MANAGER, Principal
from services.schemas.applications import DocumentView
from services.schemas.common import CodeIn, CodeSent
from workflows import names
from workflows.messages import ApplicationState, DrawdownState, GuarantorState, SignInput


class SignResult(BaseModel):
    doc_no: str
    kind: str
    application: ApplicationState | None = None
    guarantee: GuarantorState | None = None
    drawdown: DrawdownState | None = None


def sign_purpose(doc_no: str) -> str:
    return f"sign:{doc_no}"


def visible(session: Session, principal: Principal, doc_no: str) -> Document:
    """Customers see the contracts of their applications and those they sign; staff those of their branch."""
    doc = documents.by_no(session, doc_no)
    app = applications.by_id(session, doc.application_id) if doc else None
    if doc is None or app is None:
        raise not_found("DOCUMENT", "未找到该文件", "document not found", "doc_no")
    if principal.is_customer:
        allowed = principal.id in (doc.signer_customer_id, app.customer_id)
    else:
        allowed = applications.visible(session, principal.scope(), app.app_no) is not None
    if not allowed:
        raise not_found("DOCUMENT", "未找到该文件", "document not found", "doc_no")
    return doc


SIGNED_KINDS = ("loan_contract", "guarantee_contract", "drawdown_note")


def _signable(session: Session, principal: Principal, doc_no: str) -> Document:
    doc = visible(session, principal, doc_no)
    if doc.kind not in SIGNED_KINDS:
        # A repayment schedule issued apart (notes before drawdown-note/4) went with its note, unsigned.
        raise ProblemError(409, "DOCUMENT_NOT_SIGNABLE", "该文件无需签署", f"a {doc.kind} is not signed", "doc_no")
    if principal.is_customer and doc.signer_customer_id != principal.id:
        raise forbidden("只能签署本人的合同", "only the named signer can sign this document", "NOT_SIGNER")
    if doc.kind == "drawdown_note" and not principal.is_customer:
        # Like the drawdown itself: staff cannot create a debt on a borrower's behalf.
        raise forbidden("借据只能由借款人本人签署", "only the borrower signs a drawdown note", "ROLE_FORBIDDEN")
    if not principal.is_customer and principal.role != CUSTOMER_MANAGER:
        raise forbidden("只有签署人本人或客户经理(代为操作)可以签署", "only the signer or a customer manager can sign",
                        "ROLE_FORBIDDEN")
    if doc.status != "issued":
        raise ProblemError(409, "DOCUMENT_NOT_SIGNABLE", "该文件已签署或已作废", f"the document is {doc.status}", "doc_no")
    return doc


def meta(session: Session, principal: Principal, doc_no: str) -> DocumentView:
    return DocumentView.of(visible(session, principal, doc_no))


def pdf(session: Session, imaging: ImageStore, principal: Principal, doc_no: str) -> bytes:
    """The signed PDF once there is one, else the issued original."""
    doc = visible(session, principal, doc_no)
    try:
        return imaging.get(doc.signed_sha256 or doc.sha256)
    except KeyError as exc:
        raise ProblemError(404, "DOCUMENT_FILE_MISSING", "影像平台中找不到该文件", "the PDF is missing from the imaging store",
                           "doc_no") from exc
    except AdapterUnavailable as exc:
        raise ProblemError(503, "IMAGING_UNAVAILABLE", "影像平台暂时不可用,请稍后重试", "the imaging platform is unavailable",
                           headers={"Retry-After": "5"}) from exc


def issue_signing_code(session: Session, settings: Settings, sms: SmsGateway, principal: Principal, doc_no: str,
                       now: datetime) -> CodeSent:
    doc = _signable(session, principal, doc_no)
    signer = customers.get(session, doc.signer_customer_id)
    assert signer is not None
    return otp.send_code(session, settings, sms, customer=signer, purpose=sign_purpose(doc.doc_no), template="otp_sign",
                         params={"doc_no": doc.doc_no}, now=now)


def _target(session: Session, doc: Document) -> str:
    """The workflow that takes this signature."""
    app = applications.by_id(session, doc.application_id)
    assert app is not None and app.id is not None
    if doc.kind == "loan_contract":
        return app.workflow_id
    if doc.kind == "drawdown_note":
        return names.drawdown_workflow_id(doc.doc_no)
    guarantee = guarantees.current_for_signer(session, app.id, doc.signer_customer_id)
    if guarantee is None:
        raise ProblemError(409, "GUARANTEE_NOT_ACTIVE", "该保证人的担保已失效", "this guarantor's guarantee is no longer active",
                           "doc_no")
    return guarantee.workflow_id


async def sign(session: Session, workflows: WorkflowGateway, settings: Settings, principal: Principal, doc_no: str,
               body: CodeIn, *, now: datetime, update_id: str | None = None) -> SignResult:
    doc = await in_thread(_signable, session, principal, doc_no)
    workflow_id = await in_thread(_target, session, doc)
    ref = await in_thread(otp.check_code, session, settings, customer_id=doc.signer_customer_id,
                          purpose=sign_purpose(doc.doc_no), code=body.code, now=now)
    assert doc.id is not None
    request = SignInput(document_id=doc.id, signer_customer_id=doc.signer_customer_id, otp_ref=ref)
    try:
        if doc.kind == "loan_contract":
            state = await workflows.update(workflow_id, names.UPDATE_SIGN, request, result_type=ApplicationState,
                                           update_id=update_id)
            result = SignResult(doc_no=doc.doc_no, kind=doc.kind, application=state)
        elif doc.kind == "drawdown_note":
            d_state = await workflows.update(workflow_id, names.UPDATE_SIGN_NOTE, request, result_type=DrawdownState,
                                             update_id=update_id)
            result = SignResult(doc_no=doc.doc_no, kind=doc.kind, drawdown=d_state)
        else:
            g_state = await workflows.update(workflow_id, names.UPDATE_GUARANTOR_SIGN, request,
                                             result_type=GuarantorState, update_id=update_id)
            result = SignResult(doc_no=doc.doc_no, kind=doc.kind, guarantee=g_state)
    except BaseException:
        # No signature was taken: the code stays usable for a retry.
        await in_thread(otp.release_code, session, ref)
        raise
    return result


class SignatureView(BaseModel):
    """One signature in the PDF as anyone may see it: who in which role, when, and whether it holds."""

    field_name: str = Field(description="borrower | guarantor | lender_seal")
    signer_kind: str = Field(description="person | seal | unknown")
    organisation: str | None = Field(description="the sealing organisation; a person's name is never shown here")
    certificate_serial: str
    signed_at: datetime | None = Field(description="the time in the signature's RFC 3161 timestamp")
    valid: bool
    level: str | None = Field(default=None, description="B-B | B-T | B-LT | B-LTA: the validation data it carries")
    revoked_later: bool = Field(default=False, description="the certificate was revoked after the signing time; "
                                                           "the signature still holds")
    problem: str | None


class Verification(BaseModel):
    """What anyone holding the paper or the PDF may learn by scanning its QR code: no personal data."""

    doc_no: str
    kind: str
    template_version: str
    status: str = Field(description="issued | signed | void")
    superseded: bool = Field(default=False, description="void because amended terms replaced it")
    void_reason: str | None = Field(default=None, description="why the document is void (a reason code)")
    superseded_by: str | None = Field(default=None, description="the document that replaced it: verify that one")
    notice: str | None = Field(default=None, description="what the status means, in Chinese, for the person scanning")
    sha256: str = Field(description="SHA-256 of the issued PDF: a copy whose hash differs has been altered")
    signed_sha256: str | None = Field(description="SHA-256 of the signed PDF, with every signature in it")
    issued_at: datetime
    signed_at: datetime | None
    signature_valid: bool | None = Field(description="every signature in the signed PDF holds; null if unsigned")
    signature_problem: str | None = None
    signature_level: str | None = Field(default=None, description="the PAdES level every signature reaches")
    signatures: list[SignatureView] = []


class FileVerification(BaseModel):
    """The check of a PDF someone uploaded: its own signatures, and whether it is a document on record."""

    valid: bool
    tampered: bool = Field(description="bytes were changed or added after a signature")
    problem: str | None
    sha256: str
    doc_no: str | None = Field(description="the document whose signed PDF this file is, byte for byte")
    level: str | None = Field(default=None, description="the PAdES level every signature reaches")
    document_status: str | None = Field(default=None, description="that document's status now: signed | void")
    superseded_by: str | None = Field(default=None, description="the document that replaced it, when void")
    signatures: list[SignatureView]


def _views(result: PdfVerification) -> list[SignatureView]:
    return [SignatureView(field_name=s.field_name, signer_kind=s.signer_kind,
                          organisation=s.signer_name if s.signer_kind == "seal" else None,
                          certificate_serial=s.certificate_serial, signed_at=s.signed_at, valid=s.valid,
                          level=s.level, revoked_later=s.revoked_at is not None and s.valid,
                          problem=s.problem) for s in result.signatures]


def _notice(doc: Document) -> str | None:
    if doc.status != "void":
        return None
    if doc.superseded_by:
        return f"本文件已作废：合同条款已变更，已由文件{doc.superseded_by}替代，请核验新文件。"
    return "本文件已作废，不具有约束力。"


def _unavailable(what: str) -> ProblemError:
    return ProblemError(503, f"{what}_UNAVAILABLE", "验证服务暂时不可用,请稍后重试", "verification is unavailable",
                        headers={"Retry-After": "5"})


def verification(session: Session, ca: SignatureAuthority, imaging: ImageStore, doc_no: str) -> Verification:
    doc = documents.by_no(session, doc_no)
    if doc is None:
        raise not_found("DOCUMENT", "未找到该文件,请核对编号", "no document with this number", "doc_no")
    valid, problem, views, level = None, None, [], None
    if doc.signed_sha256:
        try:
            result = ca.verify_pdf(imaging.get(doc.signed_sha256))
            log = ca.evidence_log(doc.doc_no)
        except KeyError:
            result, log = None, []
        except AdapterUnavailable as exc:
            raise _unavailable("VERIFICATION") from exc
        if result is None:
            valid, problem = False, "SIGNED_FILE_MISSING"
        else:
            views = _views(result)
            valid, level = result.valid, result.level
            problem = result.problem or next((v.problem for v in views if v.problem), None)
            # The first signature must have been applied to the PDF that was issued, not to another one.
            if valid and (not log or log[0].document_sha256 != doc.sha256):
                valid, problem = False, "NOT_THE_ISSUED_DOCUMENT"
    return Verification(doc_no=doc.doc_no, kind=doc.kind, template_version=doc.template_version, status=doc.status,
                        superseded=doc.superseded_by is not None, void_reason=doc.void_reason,
                        superseded_by=doc.superseded_by, notice=_notice(doc),
                        sha256=doc.sha256, signed_sha256=doc.signed_sha256, issued_at=doc.created_at,
                        signed_at=doc.signed_at, signature_valid=valid, signature_problem=None if valid else problem,
                        signature_level=level if valid else None, signatures=views)


def verify_file(session: Session, ca: SignatureAuthority, pdf: bytes) -> FileVerification:
    try:
        result = ca.verify_pdf(pdf)
    except AdapterUnavailable as exc:
        raise _unavailable("VERIFICATION") from exc
    sha = hashlib.sha256(pdf).hexdigest()
    doc = documents.by_signed_sha256(session, sha)
    return FileVerification(valid=result.valid, tampered=result.tampered, problem=result.problem, sha256=sha,
                            doc_no=doc.doc_no if doc else None, level=result.level,
                            document_status=doc.status if doc else None,
                            superseded_by=doc.superseded_by if doc else None, signatures=_views(result))


class EvidenceLog(BaseModel):
    doc_no: str
    chain_intact: bool = Field(description="every entry's hash recomputes and links to the one before")
    entries: list[EvidenceEntry]


def evidence(session: Session, ca: SignatureAuthority, principal: Principal, doc_no: str) -> EvidenceLog:
    """The CA's evidence log of a document: staff who may see the application, or the document's signer."""
    doc = visible(session, principal, doc_no)
    if principal.is_customer and doc.signer_customer_id != principal.id:
        raise not_found("DOCUMENT", "未找到该文件", "document not found", "doc_no")
    try:
        entries = ca.evidence_log(doc.doc_no)
    except AdapterUnavailable as exc:
        raise _unavailable("EVIDENCE") from exc
    return EvidenceLog(doc_no=doc.doc_no, chain_intact=chain_intact(entries), entries=entries)
