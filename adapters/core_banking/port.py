"""Core-banking port: deposit accounts, loan disbursement and reversal as balanced double-entry postings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel


class Posting(BaseModel):
    posting_id: str
    idempotency_key: str
    kind: str
    reference: str
    amount: Decimal
    posted_at: datetime
    reversed: bool = False


class CoreBanking(Protocol):
    def open_deposit_account(self, *, customer_no: str) -> str:
        """Return the customer's settlement account number, opening it once (idempotent by customer_no)."""
        ...

    def disburse(self, *, idempotency_key: str, note_no: str, to_account: str, amount: Decimal) -> Posting:
        """Debit the note's loan account, credit the deposit account. Idempotent by key.
        Raises Refused (e.g. ACCOUNT_FROZEN), AdapterUnavailable, or OutcomeUnknown on a timeout."""
        ...

    def find_posting(self, idempotency_key: str) -> Posting | None:
        ...

    def reverse(self, *, idempotency_key: str, original_key: str) -> Posting:
        """Post the mirror image of an earlier posting. Idempotent by key."""
        ...

    def balance(self, account_no: str) -> Decimal:
        ...
