"""E-signature through the CA adapter: the signer's own certificate over the document's SHA-256."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import update
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.clock import utcnow
from adapters.ca.port import SignatureAuthority
from db.application_store import get_customer
from db.engine import session_scope
from db.models import Document
from workflows.messages import SignDocumentInput, SignDocumentResult


class SigningActivities:
    def __init__(self, engine: Engine, ca: SignatureAuthority) -> None:
        self._engine = engine
        self._ca = ca

    @activity.defn
    def sign_document(self, request: SignDocumentInput) -> SignDocumentResult:
        with session_scope(self._engine) as session:
            doc = session.get(Document, request.document_id)
            if doc is None or doc.signer_customer_id != request.signer_customer_id:
                raise ApplicationError("document and signer do not match", type="SignerMismatch", non_retryable=True)
            if doc.status == "signed" and doc.signature_id:
                return SignDocumentResult(document_id=doc.id, signature_id=doc.signature_id)
            if doc.status != "issued":
                raise ApplicationError(f"document is {doc.status}", type="DocumentNotSignable", non_retryable=True)
            signer_ref = get_customer(session, doc.signer_customer_id).customer_no
            sha256, doc_no = doc.sha256, doc.doc_no
        now = utcnow()
        record = self._ca.sign(idempotency_key=f"{doc_no}:sign", document_sha256=sha256, signer_ref=signer_ref,
                               evidence={"channel": request.channel, "otp_ref": request.otp_ref,
                                         "document_sha256": sha256, "at": now.isoformat()})
        with session_scope(self._engine) as session:
            # Only a document still issued becomes signed: one voided meanwhile (the loan ended) stays void.
            changed = session.exec(update(Document).where(Document.id == request.document_id,
                                                          Document.status == "issued")
                                   .values(status="signed", signature_id=record.signature_id,
                                           signed_at=record.signed_at)).rowcount
        if not changed:
            raise ApplicationError("document was voided while it was being signed", type="DocumentNotSignable",
                                   non_retryable=True)
        return SignDocumentResult(document_id=request.document_id, signature_id=record.signature_id)
