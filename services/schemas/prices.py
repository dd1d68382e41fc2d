"""An application's price, term by term, as the contract states it and the customer may read it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel


class PriceTerm(BaseModel):
    code: str
    bp: int | None = None
    rate: Decimal | None = None
    zh: str
    en: str


class PriceView(BaseModel):
    app_no: str
    product_code: str
    product_version: int
    priced_on: date
    guarantee_type: str
    grade: str
    lpr_tenor: str
    lpr: Decimal
    lpr_date: date
    spread_bp: int
    grade_adjust_bp: int
    floor_rate: Decimal
    cap_rate: Decimal
    annual_rate: Decimal
    terms: list[PriceTerm]
