"""CA e-signature port: a per-signer certificate and a signature over a document's SHA-256."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel


class SignatureRecord(BaseModel):
    signature_id: str
    document_sha256: str
    signer_ref: str
    certificate_serial: str
    signed_at: datetime
    evidence: dict


class Verification(BaseModel):
    valid: bool
    signer_ref: str | None = None
    signed_at: datetime | None = None
    reason: str = ""


class SignatureAuthority(Protocol):
    def sign(self, *, idempotency_key: str, document_sha256: str, signer_ref: str, evidence: dict) -> SignatureRecord:
        """Sign the hash with the signer's own key (issued on first use). Idempotent by key.
        `signer_ref` is an opaque customer number; evidence holds channel, time and the OTP reference."""
        ...

    def verify(self, *, signature_id: str, document_sha256: str) -> Verification:
        ...
