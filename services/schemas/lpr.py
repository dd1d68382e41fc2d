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


class LprView(BaseModel):
    tenor: str
    effective_from: date
    rate: Decimal
    created_by: str
    created_at: datetime | None
