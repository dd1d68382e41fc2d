"""Ops read views over the simulators: the SMS outbox and the core-banking ledger."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

from adapters.errors import AdapterUnavailable, Refused
from domain.identity import mask_mobile
from services.errors import ProblemError, not_found
from services.schemas.ops import AccountView, EntryView, PostingView, SmsView, TrialBalance

_CODE = re.compile(r"(?<![0-9A-Za-z])\d{6}(?![0-9])")


class Outbox(Protocol):
    def outbox(self, limit: int = 50, offset: int = 0, mobile: str | None = None) -> Sequence[Any]: ...


class Ledger(Protocol):
    def postings(self, reference: str | None = None, limit: int = 50, offset: int = 0) -> Sequence[Any]: ...

    def entries(self, account_no: str | None = None, posting_id: str | None = None, limit: int = 50,
                offset: int = 0) -> Sequence[Any]: ...

    def balance(self, account_no: str) -> Decimal: ...

    def trial_balance(self) -> Decimal: ...


def sms_outbox(outbox: Outbox, *, limit: int, offset: int) -> list[SmsView]:
    # Ops read the outbox to chase delivery, not to learn codes that would let them act as the customer.
    return [SmsView(id=m.id, template=m.template, mobile=mask_mobile(m.mobile),
                    body=_CODE.sub("******", m.body) if m.template.startswith("otp_") else m.body,
                    status=m.status, created_at=m.created_at)
            for m in outbox.outbox(limit=limit, offset=offset)]


def postings(ledger: Ledger, *, reference: str | None, limit: int, offset: int) -> list[PostingView]:
    return [PostingView.model_validate(p, from_attributes=True)
            for p in ledger.postings(reference=reference, limit=limit, offset=offset)]


def account(ledger: Ledger, account_no: str, *, limit: int, offset: int) -> AccountView:
    try:
        balance = ledger.balance(account_no)
    except Refused as exc:
        if exc.code == "ACCOUNT_NOT_FOUND":
            raise not_found("ACCOUNT", "账户不存在", "account not found", "account_no") from exc
        raise ProblemError(422, exc.code, exc.message, f"core banking refused: {exc.code}", "account_no") from exc
    except AdapterUnavailable as exc:
        raise ProblemError(503, "CORE_BANKING_UNAVAILABLE", "核心系统暂时不可用,请稍后重试",
                           "core banking is unavailable", headers={"Retry-After": "5"}) from exc
    entries = [EntryView.model_validate(e, from_attributes=True)
               for e in ledger.entries(account_no=account_no, limit=limit, offset=offset)]
    return AccountView(account_no=account_no, balance=balance, entries=entries)


def trial_balance(ledger: Ledger) -> TrialBalance:
    diff = ledger.trial_balance()
    return TrialBalance(debit_minus_credit=diff, balanced=diff == 0)
