"""A guarantor's view of the guarantees asked of them, and their answer."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from services.schemas.applications import DocumentView
from services.schemas.common import RequestModel


class ConsentIn(RequestModel):
    accept: bool


class GuaranteeInvitation(BaseModel):
    id: int
    app_no: str
    slot: int
    attempt: int
    status: str
    borrower_name: str = Field(description="masked")
    amount: Decimal
    term_months: int
    updated_at: datetime
    documents: list[DocumentView] = Field(description="guarantee contracts for this guarantor to sign")
