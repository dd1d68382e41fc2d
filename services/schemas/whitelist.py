"""Whitelist campaign bodies and views. No personal data in campaign views; offers show the customer their own."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from domain.products import RepaymentMethod
from domain.whitelist import RowReport
from services.fields import Amount
from services.schemas.common import RequestModel
from workflows.messages import CampaignProgress, OfferState


class CampaignView(BaseModel):
    campaign_no: str
    workflow_id: str
    status: str
    duplicate: bool = Field(default=False, description="this file was uploaded before: nothing new was started")
    dry_run: bool = False
    filename: str
    file_sha256: str
    format: str
    encoding: str | None
    rows_total: int
    rows_valid: int
    rows_refused: int
    rows_by_status: dict[str, int] = {}
    progress: CampaignProgress | None = Field(default=None, description="live, from the campaign workflow")
    report: list[RowReport] | None = Field(default=None, description="one entry per row of the file")


class CampaignActionIn(RequestModel):
    action: str = Field(pattern="^(pause|resume|cancel)$")


class FunnelLine(BaseModel):
    branch_code: str
    manager: str
    manager_name: str
    rows: int
    invited: int
    accepted: int
    signed: int
    drawn: int


class Funnel(BaseModel):
    campaign_no: str
    lines: list[FunnelLine]
    total: FunnelLine


class OfferView(BaseModel):
    offer_no: str
    campaign_no: str
    status: str
    offer_limit: Decimal | None
    expires_at: datetime | None
    app_no: str | None = None
    reason_code: str | None = None


class AcceptOfferIn(RequestModel):
    amount: Amount
    term_months: int = Field(ge=1, le=360)
    repayment_method: RepaymentMethod = "equal_installment"
    purpose: str = Field(min_length=1, max_length=32, description="loan purpose code, e.g. planting")


class OfferAnswer(BaseModel):
    offer_no: str
    state: OfferState
