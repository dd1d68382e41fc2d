"""Core-banking port: deposit accounts, deposits, loan disbursement, repayment and reversal as balanced
double-entry postings."""

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

    def open_counterparty_account(self, *, counterparty_ref: str) -> str:
        """Return the deposit account of a payee the loan pays directly (受托支付), opening it once
        (idempotent by counterparty_ref). It is never a customer's account, whatever the ref."""
        ...

    def deposit(self, *, idempotency_key: str, to_account: str, amount: Decimal) -> Posting:
        """Cash in at the counter or a transfer in: debit cash, credit the deposit account. Idempotent by key.
        Raises Refused (e.g. ACCOUNT_FROZEN), AdapterUnavailable, or OutcomeUnknown on a timeout."""
        ...

    def disburse(self, *, idempotency_key: str, note_no: str, to_account: str, amount: Decimal) -> Posting:
        """Debit the note's loan account, credit the deposit account: the borrower's, or a payee's for
        entrusted payment (受托支付). Idempotent by key.
        Raises Refused (e.g. ACCOUNT_FROZEN), AdapterUnavailable, or OutcomeUnknown on a timeout."""
        ...

    def repay(
        self, *, idempotency_key: str, note_no: str, from_account: str, principal: Decimal, interest: Decimal,
        penalty: Decimal, compound: Decimal,
    ) -> Posting:
        """One posting for the total: debit the deposit account; credit the note's loan account with the
        principal, interest income with the interest, penalty income with penalty + compound interest. Each
        part >= 0, to the fen; the total > 0. Idempotent by key (same key, same split: the first posting).
        Raises Refused (INVALID_AMOUNT, LOAN_ACCOUNT_NOT_FOUND, PRINCIPAL_EXCEEDS_BALANCE, ACCOUNT_NOT_FOUND,
        ACCOUNT_FROZEN, INSUFFICIENT_FUNDS, IDEMPOTENCY_MISMATCH), AdapterUnavailable, or OutcomeUnknown."""
        ...

    def find_posting(self, idempotency_key: str) -> Posting | None:
        ...

    def reverse(self, *, idempotency_key: str, original_key: str) -> Posting:
        """Post the mirror image of an earlier posting (any kind but a reversal), once. Idempotent by key.
        Refused INSUFFICIENT_FUNDS when a deposit account no longer holds what the original credited it, and
        PRINCIPAL_REPAID when a loan already repaid in part would go below zero (reverse the repayments first)."""
        ...

    def balance(self, account_no: str) -> Decimal:
        """On the account's normal side: deposits and income as credits, loans and cash as debits."""
        ...

    def loan_balance(self, note_no: str) -> Decimal:
        """The principal outstanding on a note. Refused ACCOUNT_NOT_FOUND before its first disbursement."""
        ...
