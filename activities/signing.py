"""E-signature through the CA adapter: the signer's PAdES signature, then the lender's seal, inside the PDF.

The signer's identity (name, resident ID) goes from the database straight to the CA, which binds it
into a certificate for this one signing event; workflows only ever see document and customer ids.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.clock import utcnow
from adapters.ca.port import PersonSigner, SealSigner, SignatureAppearance, SignatureAuthority, SignedPdf
from adapters.errors import Refused
from adapters.imaging.port import ImageStore
from db.application_store import get_application, get_customer
from db.document_store import lender_branches
from db.engine import session_scope
from db.models import Document
from domain.identity import mask_name
from workflows.messages import SignDocumentInput, SignDocumentResult

# The PDF signature field each party signs in; verification reports these names.
SIGNER_FIELD = {"loan_contract": "borrower", "guarantee_contract": "guarantor", "drawdown_note": "borrower"}
SEAL_FIELD = "lender_seal"
# The roles as each document names its parties, for the visible signature.
SIGNER_ROLE = {"loan_contract": "借款人", "guarantee_contract": "保证人", "drawdown_note": "借款人"}
SEAL_ROLE = {"guarantee_contract": "债权人"}


def _appearance(doc: Document, field_name: str, lines: list[str]) -> SignatureAppearance | None:
    """The visible signature in the box the template left for this field; None (invisible) without one."""
    box = (doc.signature_boxes or {}).get(field_name)
    if box is None:
        return None
    page, *corners = box
    return SignatureAppearance(page=page, box=tuple(corners), lines=lines)


class SigningActivities:
    def __init__(self, engine: Engine, ca: SignatureAuthority, imaging: ImageStore) -> None:
        self._engine = engine
        self._ca = ca
        self._imaging = imaging

    @activity.defn
    def sign_document(self, request: SignDocumentInput) -> SignDocumentResult:
        """Signer, then seal, each an incremental signature; a retry replays both from the CA."""
        with Session(self._engine) as session:
            doc = session.get(Document, request.document_id)
            if doc is None or doc.signer_customer_id != request.signer_customer_id:
                raise ApplicationError("document and signer do not match", type="SignerMismatch", non_retryable=True)
            if doc.status == "signed" and doc.signature_id:
                return SignDocumentResult(document_id=doc.id, signature_id=doc.signature_id)
            if doc.status != "issued":
                raise ApplicationError(f"document is {doc.status}", type="DocumentNotSignable", non_retryable=True)
            customer = get_customer(session, doc.signer_customer_id)
            signer = PersonSigner(signer_ref=customer.customer_no, name=customer.name,
                                  resident_id=customer.resident_id)
            branch, cooperative = lender_branches(session, get_application(session, doc.application_id).branch_code)
            seal = SealSigner(signer_ref=f"SEAL-{cooperative.code}", organisation=cooperative.name,
                              branch=branch.name)
            issued_sha256, doc_no, kind = doc.sha256, doc.doc_no, doc.kind
            # The name as the public sees it on the signature page: the contract body carries it in full.
            signer_box = _appearance(doc, SIGNER_FIELD[kind], [f"{SIGNER_ROLE[kind]}：{mask_name(customer.name)}"])
            seal_box = _appearance(doc, SEAL_FIELD, [f"{SEAL_ROLE.get(kind, '贷款人')}（电子签章）：",
                                                     f"{cooperative.name}"])
        pdf = self._imaging.get(issued_sha256)
        try:
            signed = self._ca.sign_pdf(
                idempotency_key=f"{doc_no}:sign", document_ref=doc_no, pdf=pdf, signer=signer,
                field_name=SIGNER_FIELD[kind], appearance=signer_box,
                # The seal that follows at once embeds the chain and CRL (same CA) for both signatures,
                # and seals them with the archive timestamp: one validation-data revision, not two.
                long_term=False,
                evidence={"channel": request.channel, "otp_ref": request.otp_ref, "document_sha256": issued_sha256,
                          "at": utcnow().isoformat()})
            sealed = self._ca.sign_pdf(
                idempotency_key=f"{doc_no}:seal", document_ref=doc_no, pdf=signed.pdf, signer=seal,
                field_name=SEAL_FIELD, appearance=seal_box,
                # The last signature: with it the CA seals the document and its validation data with an
                # archive timestamp (PAdES B-LTA), so the signatures can be checked long after the CA's
                # certificates and lists have expired.
                archive=True,
                # The seal is applied by the system on the lender's behalf, after and because the signer signed.
                evidence={"channel": "system", "after_signature": signed.signature_id,
                          "document_sha256": signed.signed_sha256, "at": utcnow().isoformat()})
        except Refused as refused:
            # Not retried: the update fails with the CA's reason, the document stays issued and the
            # signer may try again (a new code) until the signing deadline.
            raise ApplicationError(refused.message, {"code": refused.code, "zh": f"电子认证服务拒绝签署:{refused.message}",
                                                     "en": f"the CA refused to sign ({refused.code})"},
                                   type="SignatureRefused", non_retryable=True) from refused
        return self._record(request.document_id, signed, sealed)

    def _record(self, document_id: int, signed: SignedPdf, sealed: SignedPdf) -> SignDocumentResult:
        stored = self._imaging.put(sealed.pdf, content_type="application/pdf")
        with session_scope(self._engine) as session:
            # Only a document still issued becomes signed: one voided meanwhile (the loan ended) stays void.
            changed = session.exec(update(Document).where(Document.id == document_id, Document.status == "issued")
                                   .values(status="signed", signature_id=signed.signature_id,
                                           signed_sha256=stored, signed_at=signed.signed_at)).rowcount
        if not changed:
            raise ApplicationError("document was voided while it was being signed", type="DocumentNotSignable",
                                   non_retryable=True)
        return SignDocumentResult(document_id=document_id, signature_id=signed.signature_id)
