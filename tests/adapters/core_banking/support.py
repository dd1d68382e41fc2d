"""Helpers for the core-banking tests: unique references and ready accounts."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest

from adapters.core_banking.simulator import CoreBankingSimulator


def uid() -> str:
    return uuid.uuid4().hex[:12].upper()


def account(cbs: CoreBankingSimulator) -> str:
    return cbs.open_deposit_account(customer_no=f"C{uid()}")


def funded(cbs: CoreBankingSimulator, amount: Decimal) -> str:
    """A new customer's account holding `amount`, paid in at the counter."""
    to = account(cbs)
    cbs.deposit(idempotency_key=f"cash-in:{uid()}", to_account=to, amount=amount)
    return to


def loan(cbs: CoreBankingSimulator, amount: Decimal) -> tuple[str, str]:
    """A new note disbursed to a new customer's account: (note_no, that account)."""
    to, note = account(cbs), f"N{uid()}"
    cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=amount)
    return note, to


def blind_first_lookup(cbs: CoreBankingSimulator, monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    """Make each thread's first call of the simulator's `method` (a replay look-up) find nothing, so
    concurrent calls with one key really reach the INSERT and one of them hits the UNIQUE constraint."""
    real = getattr(cbs, method)
    seen = threading.local()

    def first_look_blind(*args):
        if not getattr(seen, "looked", False):
            seen.looked = True
            return None
        return real(*args)

    monkeypatch.setattr(cbs, method, first_look_blind)
