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


class SignatureAppearance(BaseModel):
    """A visible signature: the box on the signature page and what it says of the signer (as the
    contract shows them, e.g. 借款人 张*); the CA adds the signing time."""

    page: int = Field(ge=0, description="0-based page index")
    box: tuple[float, float, float, float] = Field(description="x1, y1, x2, y2 in PDF points from the lower left")
    lines: list[str] = Field(min_length=1, max_length=4)


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
    level: str | None = Field(default=None, description="B-B, B-T, B-LT or B-LTA: the validation data it carries")
    revoked_at: datetime | None = Field(default=None, description="when the certificate was revoked, if it was; "
                                                                  "after the signing time the signature still holds")
    problem: str | None = Field(description="DOCUMENT_TAMPERED, SIGNATURE_INVALID, CERTIFICATE_REVOKED, "
                                            "CERTIFICATE_NOT_TRUSTED, TIMESTAMP_INVALID, MODIFIED_AFTER_SIGNING, ...")


class PdfVerification(BaseModel):
    valid: bool
    # True when bytes were changed or added after a signature: the file is not what was signed.
    tampered: bool
    problem: str | None = None
    level: str | None = Field(default=None, description="the level every signature reaches (B-B < B-T < B-LT < B-LTA)")
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
                 field_name: str, evidence: dict, appearance: SignatureAppearance | None = None,
                 long_term: bool = True, archive: bool = False) -> SignedPdf:
        """Append one signature to the PDF and, with `long_term`, the chain and revocation data to the
        document's security store (PAdES B-LT); `archive` adds both and a document timestamp over all of it
        (B-LTA), for the document's last signature, whose store then serves the earlier signatures too
        (same CA). Idempotent by key: a retry gets the same signed bytes. `evidence` holds channel, time,
        the one-time-code reference and the document hash."""
        ...

    def verify_pdf(self, pdf: bytes, *, offline: bool = False) -> PdfVerification:
        """Integrity, chain to the CA's root, revocation and timestamp of every signature in the PDF, each at
        its signing time. `offline`: with only the validation data inside the PDF, not the CA's current CRL."""
        ...

    def evidence_log(self, document_ref: str) -> list[EvidenceEntry]:
        ...

    def revoke(self, *, certificate_serial: str, reason: str, effective_at: datetime | None = None) -> None:
        """`effective_at`: when the key stopped being trustworthy, if earlier than now (a compromise found
        later); signatures made after it no longer hold, those before still do."""
        ...

    def crl_der(self) -> bytes:
        """The issuing CA's current certificate revocation list (DER), where the certificates point."""
        ...

    def root_certificate_pem(self) -> str:
        ...
