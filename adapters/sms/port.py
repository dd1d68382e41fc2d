"""SMS gateway port."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import BaseModel


class SmsReceipt(BaseModel):
    message_id: int
    idempotency_key: str
    status: str
    accepted_at: datetime


class SmsGateway(Protocol):
    def send(self, *, idempotency_key: str, mobile: str, template: str, body: str) -> SmsReceipt:
        """Queue one message. The same idempotency_key returns the first receipt and sends nothing twice."""
        ...
