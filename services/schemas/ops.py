"""Ops read views: the SMS outbox (masked, codes redacted) and the core-banking ledger."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class SmsView(BaseModel):
    id: int
    template: str
    mobile: str = Field(description="masked")
    body: str = Field(description="one-time codes redacted")
    status: str
    created_at: datetime


class PostingView(BaseModel):
    posting_id: str
    idempotency_key: str
    kind: str
    reference: str
    amount: Decimal
    posted_at: datetime
    reversed: bool


class EntryView(BaseModel):
    posting_id: str
    account_no: str
    side: str
    amount: Decimal


class AccountView(BaseModel):
    account_no: str
    balance: Decimal
    entries: list[EntryView]


class TrialBalance(BaseModel):
    debit_minus_credit: Decimal
    balanced: bool
