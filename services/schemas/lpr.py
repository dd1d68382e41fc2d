"""The LPR table as the API shows and takes it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from services.schemas.common import RequestModel


class LprIn(RequestModel):
    tenor: Literal["1Y", "5Y"]
    effective_from: date = Field(description="today's business date or later: prices already given keep their LPR")
    rate: Decimal = Field(gt=0, lt=Decimal("0.2"), max_digits=7, decimal_places=6,
                          description="a fraction: 0.0300 is 3.00 %")


class LprRejectIn(RequestModel):
    reason: str = Field(min_length=1, max_length=200, description="why the entry is wrong, for the record")


class LprView(BaseModel):
    id: int | None = Field(default=None, description="None for the code's published table (nothing stored yet)")
    tenor: str
    effective_from: date
    rate: Decimal
    status: str = Field(description="draft (prices nothing yet) | approved | rejected")
    created_by: str
    created_at: datetime | None
    decided_by: str | None = None
    decided_at: datetime | None = None
    reject_reason: str | None = None
