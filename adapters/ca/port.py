"""CA e-signature port: PAdES signatures inside the PDF, their verification, revocation and evidence.

Like a hosted e-sign CA (电子认证服务机构), the CA issues each person a certificate for one signing
event once the cooperative has checked who they are (real name on file, SMS code just entered), signs
the PDF with it, and keeps the evidence; the lender's seal is an organisation certificate it holds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field


class PersonSigner(BaseModel):
    """A verified natural person. Reaches the CA only, never a workflow payload or a log line."""

    kind: Literal["person"] = "person"
    signer_ref: str = Field(min_length=1, max_length=40, description="the cooperative's customer number")
    name: str
    resident_id: str


class SealSigner(BaseModel):
    kind: Literal["seal"] = "seal"
    signer_ref: str = Field(pattern=r"^SEAL-[0-9A-Za-z_-]{1,35}$", description="SEAL-<branch code>")
    organisation: str
    branch: str


class SignedPdf(BaseModel):
    signature_id: str
    document_ref: str
    field_name: str
    signer_ref: str
    certificate_serial: str
    signed_at: datetime = Field(description="the time in the signature's RFC 3161 timestamp")
    document_sha256: str = Field(description="the PDF before this signature")
    signed_sha256: str = Field(description="the PDF with it")
    pdf: bytes = Field(repr=False)


class SignatureFinding(BaseModel):
    """One signature found in a PDF, as checked now."""

    field_name: str
    signer_kind: Literal["person", "seal", "unknown"]
    signer_name: str | None = Field(description="a person's name (personal data) or the sealing organisation")
    signer_ref: str | None
    certificate_serial: str
    signed_at: datetime | None
    valid: bool
    problem: str | None = Field(description="DOCUMENT_TAMPERED, SIGNATURE_INVALID, CERTIFICATE_REVOKED, "
                                            "CERTIFICATE_NOT_TRUSTED, TIMESTAMP_INVALID, MODIFIED_AFTER_SIGNING, ...")


class PdfVerification(BaseModel):
    valid: bool
    # True when bytes were changed or added after a signature: the file is not what was signed.
    tampered: bool
    problem: str | None = None
    signatures: list[SignatureFinding]


class EvidenceEntry(BaseModel):
    """One line of a document's evidence log, chained: entry_hash covers this entry and the previous hash."""

    signature_id: str
    document_ref: str
    field_name: str
    signer_ref: str
    certificate_serial: str
    signed_at: datetime
    document_sha256: str
    signed_sha256: str
    evidence: dict
    prev_hash: str | None
    entry_hash: str


class SignatureAuthority(Protocol):
    def sign_pdf(self, *, idempotency_key: str, document_ref: str, pdf: bytes, signer: PersonSigner | SealSigner,
                 field_name: str, evidence: dict) -> SignedPdf:
        """Append one signature to the PDF. Idempotent by key: a retry gets the same signed bytes.
        `evidence` holds channel, time, the one-time-code reference and the document hash."""
        ...

    def verify_pdf(self, pdf: bytes) -> PdfVerification:
        """Integrity, chain to the CA's root, revocation and timestamp of every signature in the PDF."""
        ...

    def evidence_log(self, document_ref: str) -> list[EvidenceEntry]:
        ...

    def revoke(self, *, certificate_serial: str, reason: str) -> None:
        ...

    def crl_der(self) -> bytes:
        """The issuing CA's current certificate revocation list (DER), where the certificates point."""
        ...

    def root_certificate_pem(self) -> str:
        ...
