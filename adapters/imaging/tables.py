"""The imaging simulator's own tables: content-addressed objects and pending injected faults."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from adapters.simkit import FaultRow, utc_field


class ImgObject(SQLModel, table=True):
    __tablename__ = "img_object"

    # The key is the content's SHA-256, so the primary key is what makes storing twice a no-op.
    sha256: str = Field(primary_key=True, min_length=64, max_length=64)
    content_type: str = Field(max_length=128)
    size: int
    data: bytes = Field(sa_type=LargeBinary)
    created_at: datetime = utc_field()


class ImgFault(FaultRow, table=True):
    __tablename__ = "img_fault"
