"""The CA simulator's own tables: its CA keys, the seals' hosted keys, signatures with their evidence,
revocations, faults."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, LargeBinary, Text
from sqlmodel import Field, SQLModel

from adapters.simkit import FaultRow, utc_field


class CaAuthority(SQLModel, table=True):
    __tablename__ = "ca_authority"

    id: int | None = Field(default=None, primary_key=True)
    # Unique so that two workers starting together end up with one root, not two.
    name: str = Field(unique=True, max_length=32)
    serial: str = Field(max_length=40)
    cert_pem: str = Field(sa_type=Text)
    key_pem: str = Field(sa_type=Text)
    created_at: datetime = utc_field()


class CaSigner(SQLModel, table=True):
    """An organisation's seal: key pair and certificate, held by the CA on its behalf as hosted e-sign CAs do.
    (A person's key is made for one signing event and never stored.)"""

    __tablename__ = "ca_signer"

    id: int | None = Field(default=None, primary_key=True)
    signer_ref: str = Field(unique=True, max_length=40)
    serial: str = Field(unique=True, max_length=40)
    cert_pem: str = Field(sa_type=Text)
    key_pem: str = Field(sa_type=Text)
    issued_at: datetime = utc_field()


class CaSignature(SQLModel, table=True):
    """One signature applied to a PDF, with its evidence and the bytes it appended (a retry gets them back)."""

    __tablename__ = "ca_signature"

    id: int | None = Field(default=None, primary_key=True)
    signature_id: str = Field(unique=True, max_length=40)
    idempotency_key: str = Field(unique=True, max_length=128)
    document_ref: str = Field(index=True, max_length=64)
    field_name: str = Field(max_length=32)
    signer_ref: str = Field(index=True, max_length=40)
    certificate_serial: str = Field(index=True, max_length=40)
    certificate_pem: str = Field(sa_type=Text)
    document_sha256: str = Field(index=True, max_length=64)
    signed_sha256: str = Field(index=True, max_length=64)
    # Only the incremental update this signature appended (~15 KB): the signed PDF is the document
    # signed plus these bytes, and a retry brings the document again (its hash is checked).
    signed_increment: bytes = Field(sa_type=LargeBinary)
    signed_at: datetime = utc_field()
    evidence: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The document's evidence log is a hash chain: altering or dropping an entry breaks every later hash.
    # Unique: two entries claiming the same predecessor would fork the chain.
    prev_hash: str | None = Field(default=None, unique=True, max_length=64)
    entry_hash: str = Field(unique=True, max_length=64)


class CaRevocation(SQLModel, table=True):
    __tablename__ = "ca_revocation"

    id: int | None = Field(default=None, primary_key=True)
    certificate_serial: str = Field(unique=True, max_length=40)
    reason: str = Field(max_length=64)
    revoked_at: datetime = utc_field()


class CaFault(FaultRow, table=True):
    __tablename__ = "ca_fault"
