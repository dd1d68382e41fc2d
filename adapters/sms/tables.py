"""The SMS gateway simulator's own tables: the outbox of sent messages and pending injected faults."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from adapters.simkit import FaultRow, utc_field


class SmsMessage(SQLModel, table=True):
    __tablename__ = "sms_message"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(unique=True, max_length=128)
    mobile: str = Field(index=True, max_length=11)
    template: str = Field(max_length=64)
    body: str = Field(sa_type=Text)
    status: str = Field(default="delivered", max_length=16)
    created_at: datetime = utc_field()
    delivered_at: datetime | None = utc_field(default=None, nullable=True)


class SmsFault(FaultRow, table=True):
    __tablename__ = "sms_fault"
