"""The CA simulator's own tables: its root, the signers' hosted keys and certificates, signatures, faults."""

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
    """A signer's key pair and certificate, held by the CA on the signer's behalf as hosted e-sign CAs do."""

    __tablename__ = "ca_signer"

    id: int | None = Field(default=None, primary_key=True)
    signer_ref: str = Field(unique=True, max_length=40)
    serial: str = Field(unique=True, max_length=40)
    cert_pem: str = Field(sa_type=Text)
    key_pem: str = Field(sa_type=Text)
    issued_at: datetime = utc_field()


class CaSignature(SQLModel, table=True):
    __tablename__ = "ca_signature"

    id: int | None = Field(default=None, primary_key=True)
    signature_id: str = Field(unique=True, max_length=40)
    idempotency_key: str = Field(unique=True, max_length=128)
    document_sha256: str = Field(index=True, max_length=64)
    signer_ref: str = Field(index=True, max_length=40)
    certificate_serial: str = Field(max_length=40)
    signature: bytes = Field(sa_type=LargeBinary)
    signed_at: datetime = utc_field()
    evidence: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CaFault(FaultRow, table=True):
    __tablename__ = "ca_fault"
