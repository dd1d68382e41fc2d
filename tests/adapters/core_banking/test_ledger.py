"""Core-banking ledger for loan servicing: cash in, payees' accounts, loan balances, repayments and their
reversal. GL balances are shared by every test on a database, so tests compare them before and after."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from stdnum import luhn

from adapters.core_banking.simulator import GL_CASH, CoreBankingSimulator, deposit_account_no
from adapters.errors import OutcomeUnknown, Refused
from tests.adapters.core_banking.support import account, loan, uid


def gl(cbs: CoreBankingSimulator, account_no: str) -> Decimal:
    """A GL account's balance, zero before its first posting opens it."""
    try:
        return cbs.balance(account_no)
    except Refused as refused:
        assert refused.code == "ACCOUNT_NOT_FOUND"
        return Decimal(0)


def refusal(call, *args, **kwargs) -> str:
    with pytest.raises(Refused) as refused:
        call(*args, **kwargs)
    return refused.value.code


# ---- deposits ----

def test_a_deposit_debits_cash_and_credits_the_account(cbs: CoreBankingSimulator) -> None:
    to, key = account(cbs), f"cash-in:{uid()}"
    cash_before = gl(cbs, GL_CASH)
    posting = cbs.deposit(idempotency_key=key, to_account=to, amount=Decimal("1500.25"))
    assert (posting.kind, posting.reference, posting.amount, posting.reversed) == (
        "deposit", to, Decimal("1500.25"), False)
    legs = {(e.account_no, e.side, e.amount) for e in cbs.entries(posting_id=posting.posting_id)}
    assert legs == {(GL_CASH, "D", Decimal("1500.25")), (to, "C", Decimal("1500.25"))}
    assert cbs.balance(to) == Decimal("1500.25")
    assert gl(cbs, GL_CASH) - cash_before == Decimal("1500.25")
    assert cbs.find_posting(key) == posting
    assert [p.kind for p in cbs.postings(reference=to)] == ["deposit"]


def test_a_deposit_replays_by_key_and_refuses_other_content_under_it(cbs: CoreBankingSimulator) -> None:
    to, key = account(cbs), f"cash-in:{uid()}"
    first = cbs.deposit(idempotency_key=key, to_account=to, amount=Decimal("800"))
    assert cbs.deposit(idempotency_key=key, to_account=to, amount=Decimal("800.00")) == first
    assert refusal(cbs.deposit, idempotency_key=key, to_account=to, amount=Decimal("801")) == "IDEMPOTENCY_MISMATCH"
    assert refusal(cbs.deposit, idempotency_key=key, to_account=account(cbs), amount=Decimal("800")) == (
        "IDEMPOTENCY_MISMATCH")
    note = f"N{uid()}"
    cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("800"))
    assert refusal(cbs.deposit, idempotency_key=f"{note}:d", to_account=to, amount=Decimal("800")) == (
        "IDEMPOTENCY_MISMATCH")
    assert cbs.balance(to) == Decimal("1600.00")


def test_deposits_go_only_to_open_deposit_accounts(cbs: CoreBankingSimulator) -> None:
    note, to = loan(cbs, Decimal("100"))
    for target in ("6229000000000000000", f"LN-{note}", GL_CASH):
        assert refusal(cbs.deposit, idempotency_key=uid(), to_account=target, amount=Decimal(1)) == (
            "ACCOUNT_NOT_FOUND")
    cbs.freeze_account(to)
    key = uid()
    assert refusal(cbs.deposit, idempotency_key=key, to_account=to, amount=Decimal(1)) == "ACCOUNT_FROZEN"
    assert cbs.find_posting(key) is None
    cbs.unfreeze_account(to)
    cbs.deposit(idempotency_key=key, to_account=to, amount=Decimal(1))
    assert cbs.balance(to) == Decimal("101.00")


@pytest.mark.parametrize("amount", [Decimal(0), Decimal("-5"), Decimal("1.001"), Decimal("Infinity")])
def test_deposit_amounts_must_be_positive_whole_fen(cbs: CoreBankingSimulator, amount: Decimal) -> None:
    assert refusal(cbs.deposit, idempotency_key=uid(), to_account=account(cbs), amount=amount) == "INVALID_AMOUNT"


def test_deposit_requests_are_checked(cbs: CoreBankingSimulator) -> None:
    with pytest.raises(TypeError):
        cbs.deposit(idempotency_key=uid(), to_account=account(cbs), amount=10.5)  # type: ignore[arg-type]
    assert refusal(cbs.deposit, idempotency_key="k" * 129, to_account=account(cbs), amount=Decimal(1)) == (
        "INVALID_REQUEST")


def test_threads_racing_on_one_deposit_key_make_one_posting(cbs: CoreBankingSimulator) -> None:
    to, key = account(cbs), f"cash-in:{uid()}"
    with ThreadPoolExecutor(8) as pool:
        postings = list(pool.map(
            lambda _: cbs.deposit(idempotency_key=key, to_account=to, amount=Decimal("60")), range(8)))
    assert len({p.posting_id for p in postings}) == 1
    assert cbs.balance(to) == Decimal("60.00")


def test_a_deposit_whose_answer_is_lost_is_found_and_replayed(cbs: CoreBankingSimulator) -> None:
    to, key = account(cbs), f"cash-in:{uid()}"
    cbs.inject_fault(operation="deposit", kind="timeout_after_commit")
    with pytest.raises(OutcomeUnknown):
        cbs.deposit(idempotency_key=key, to_account=to, amount=Decimal("5"))
    found = cbs.find_posting(key)
    assert found is not None and found.kind == "deposit"
    assert cbs.deposit(idempotency_key=key, to_account=to, amount=Decimal("5")) == found
    assert cbs.balance(to) == Decimal("5.00")


# ---- payees' accounts and entrusted payment (受托支付) ----

def test_a_payee_account_is_opened_once_and_never_a_customers(cbs: CoreBankingSimulator) -> None:
    ref = f"SUP{uid()}"
    payee = cbs.open_counterparty_account(counterparty_ref=ref)
    assert cbs.open_counterparty_account(counterparty_ref=ref) == payee == deposit_account_no(f"CP:{ref}")
    assert payee.startswith("6229") and len(payee) == 19 and luhn.is_valid(payee)
    assert cbs.open_deposit_account(customer_no=ref) != payee
    assert cbs.balance(payee) == 0
    # A customer number can never claim a payee's owner reference.
    assert refusal(cbs.open_deposit_account, customer_no=f"CP:{ref}") == "INVALID_CUSTOMER_NO"


def test_racing_payee_opens_give_one_account(cbs: CoreBankingSimulator) -> None:
    ref = f"SUP{uid()}"
    with ThreadPoolExecutor(6) as pool:
        numbers = set(pool.map(lambda _: cbs.open_counterparty_account(counterparty_ref=ref), range(6)))
    assert len(numbers) == 1


@pytest.mark.parametrize("ref", ["", "R" * 38])
def test_payee_references_are_checked(cbs: CoreBankingSimulator, ref: str) -> None:
    assert refusal(cbs.open_counterparty_account, counterparty_ref=ref) == "INVALID_COUNTERPARTY_REF"


def test_entrusted_payment_disburses_straight_to_the_payee(cbs: CoreBankingSimulator) -> None:
    borrower, note = account(cbs), f"N{uid()}"
    payee = cbs.open_counterparty_account(counterparty_ref=f"SUP{uid()}")
    posting = cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=payee, amount=Decimal("30000"))
    legs = {(e.account_no, e.side, e.amount) for e in cbs.entries(posting_id=posting.posting_id)}
    assert legs == {(f"LN-{note}", "D", Decimal("30000.00")), (payee, "C", Decimal("30000.00"))}
    assert cbs.balance(payee) == Decimal("30000.00")
    assert cbs.loan_balance(note) == Decimal("30000.00")
    assert cbs.balance(borrower) == 0


# ---- loan balances ----

def test_loan_balance_is_the_loan_accounts_balance(cbs: CoreBankingSimulator) -> None:
    note, _ = loan(cbs, Decimal("12000"))
    assert cbs.loan_balance(note) == cbs.balance(f"LN-{note}") == Decimal("12000.00")
    assert refusal(cbs.loan_balance, f"N{uid()}") == "ACCOUNT_NOT_FOUND"
