"""Core-banking ledger for loan servicing: cash in, payees' accounts, loan balances, repayments and their
reversal. GL balances are shared by every test on a database, so tests compare them before and after."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial

import pytest
from sqlalchemy.engine import Engine
from stdnum import luhn

from adapters.core_banking.simulator import (
    GL_CASH,
    GL_INTEREST_INCOME,
    GL_PENALTY_INCOME,
    CoreBankingSimulator,
    deposit_account_no,
)
from adapters.errors import AdapterUnavailable, OutcomeUnknown, Refused
from tests.adapters.core_banking.support import account, blind_first_lookup, funded, loan, uid


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


# ---- repayments ----

def repay(cbs: CoreBankingSimulator, key: str, note: str, payer: str, principal: str = "0", interest: str = "0",
          penalty: str = "0", compound: str = "0"):
    return cbs.repay(idempotency_key=key, note_no=note, from_account=payer, principal=Decimal(principal),
                     interest=Decimal(interest), penalty=Decimal(penalty), compound=Decimal(compound))


def income(cbs: CoreBankingSimulator) -> tuple[Decimal, Decimal]:
    return gl(cbs, GL_INTEREST_INCOME), gl(cbs, GL_PENALTY_INCOME)


def test_a_repayment_splits_over_the_loan_and_the_income_accounts(cbs: CoreBankingSimulator) -> None:
    note, payer = loan(cbs, Decimal("10000"))
    interest_before, penalty_before = income(cbs)
    posting = repay(cbs, f"{note}:p1", note, payer, "1000", "40.50", "3.20", "0.15")
    assert (posting.kind, posting.reference, posting.amount, posting.reversed) == (
        "repayment", note, Decimal("1043.85"), False)
    legs = {(e.account_no, e.side, e.amount) for e in cbs.entries(posting_id=posting.posting_id)}
    assert legs == {(payer, "D", Decimal("1043.85")), (f"LN-{note}", "C", Decimal("1000.00")),
                    (GL_INTEREST_INCOME, "C", Decimal("40.50")), (GL_PENALTY_INCOME, "C", Decimal("3.35"))}
    assert cbs.balance(payer) == Decimal("8956.15")
    assert cbs.loan_balance(note) == Decimal("9000.00")
    interest_after, penalty_after = income(cbs)
    assert interest_after - interest_before == Decimal("40.50")
    assert penalty_after - penalty_before == Decimal("3.35")
    assert cbs.find_posting(f"{note}:p1") == posting
    assert [p.kind for p in cbs.postings(reference=note)] == ["repayment", "disbursement"]


def test_parts_that_are_zero_get_no_entry(cbs: CoreBankingSimulator) -> None:
    note, payer = loan(cbs, Decimal("5000"))
    posting = repay(cbs, f"{note}:i1", note, payer, interest="18.75")
    legs = {(e.account_no, e.side, e.amount) for e in cbs.entries(posting_id=posting.posting_id)}
    assert legs == {(payer, "D", Decimal("18.75")), (GL_INTEREST_INCOME, "C", Decimal("18.75"))}
    assert cbs.loan_balance(note) == Decimal("5000.00")
    posting = repay(cbs, f"{note}:c1", note, payer, compound="0.07")
    assert {(e.account_no, e.side) for e in cbs.entries(posting_id=posting.posting_id)} == {
        (payer, "D"), (GL_PENALTY_INCOME, "C")}


def test_a_repayment_may_clear_the_loan_and_empty_the_account(cbs: CoreBankingSimulator) -> None:
    note, borrower = loan(cbs, Decimal("3000"))
    payer = funded(cbs, Decimal("3012.34"))
    repay(cbs, f"{note}:all", note, payer, "3000", "12.34")
    assert cbs.loan_balance(note) == 0
    assert cbs.balance(payer) == 0
    assert cbs.balance(borrower) == Decimal("3000.00")


def test_a_repayment_replays_by_key_and_refuses_other_content_under_it(cbs: CoreBankingSimulator) -> None:
    note, payer = loan(cbs, Decimal("2000"))
    first = repay(cbs, f"{note}:p1", note, payer, "100", "10", "1", "0.50")
    assert repay(cbs, f"{note}:p1", note, payer, "100.00", "10.00", "1.0", "0.5") == first
    other_note, other_payer = loan(cbs, Decimal("2000"))
    for changed in (
        {"principal": "101"},  # another total
        {"principal": "90", "interest": "20"},  # the same total split otherwise
        {"payer": other_payer},
        {"note": other_note},
    ):
        kwargs = {"note": note, "payer": payer, "principal": "100", "interest": "10", "penalty": "1",
                  "compound": "0.50"} | changed
        assert refusal(repay, cbs, f"{note}:p1", **kwargs) == "IDEMPOTENCY_MISMATCH"
    # The disbursement's key.
    assert refusal(repay, cbs, f"{note}:d", note, payer, "100") == "IDEMPOTENCY_MISMATCH"
    assert cbs.count_postings("repayment", note) == 1
    assert cbs.loan_balance(note) == Decimal("1900.00")


@pytest.mark.parametrize("parts", [
    ("0", "0", "0", "0"), ("-1", "5", "0", "0"), ("1.001", "0", "0", "0"), ("0", "NaN", "0", "0"),
    ("0", "0", "0", "sNaN"), ("9999999999999999.99", "0.01", "0", "0"),
])
def test_repayment_parts_are_checked(cbs: CoreBankingSimulator, parts: tuple[str, ...]) -> None:
    note, payer = loan(cbs, Decimal("100"))
    assert refusal(repay, cbs, uid(), note, payer, *parts) == "INVALID_AMOUNT"
    assert cbs.count_postings("repayment", note) == 0


def test_repayment_requests_are_checked(cbs: CoreBankingSimulator) -> None:
    note, payer = loan(cbs, Decimal("100"))
    with pytest.raises(TypeError):
        cbs.repay(idempotency_key=uid(), note_no=note, from_account=payer, principal=Decimal(1),
                  interest=0.5, penalty=Decimal(0), compound=Decimal(0))  # type: ignore[arg-type]
    assert refusal(repay, cbs, "k" * 129, note, payer, "1") == "INVALID_REQUEST"
    assert refusal(repay, cbs, uid(), "N" * 33, payer, "1") == "INVALID_REQUEST"


def test_a_repayment_needs_the_loan_and_a_usable_funded_account(cbs: CoreBankingSimulator) -> None:
    note, payer = loan(cbs, Decimal("500"))
    assert refusal(repay, cbs, uid(), f"N{uid()}", payer, interest="1") == "LOAN_ACCOUNT_NOT_FOUND"
    assert refusal(repay, cbs, uid(), note, payer, "500.01") == "PRINCIPAL_EXCEEDS_BALANCE"
    assert refusal(repay, cbs, uid(), note, "6229000000000000000", "1") == "ACCOUNT_NOT_FOUND"
    assert refusal(repay, cbs, uid(), note, f"LN-{note}", "1") == "ACCOUNT_NOT_FOUND"
    poor = funded(cbs, Decimal("10"))
    with pytest.raises(Refused) as refused:
        repay(cbs, uid(), note, poor, "5", "5", "0.01")
    assert (refused.value.code, refused.value.message) == ("INSUFFICIENT_FUNDS", "账户余额不足")
    cbs.freeze_account(payer)
    assert refusal(repay, cbs, uid(), note, payer, "1") == "ACCOUNT_FROZEN"
    assert cbs.count_postings("repayment", note) == 0
    cbs.unfreeze_account(payer)
    repay(cbs, uid(), note, payer, "1")
    assert cbs.loan_balance(note) == Decimal("499.00")


def test_racing_repayments_cannot_overdraw_the_account(cbs: CoreBankingSimulator) -> None:
    note, _ = loan(cbs, Decimal("1000"))
    payer = funded(cbs, Decimal("500"))

    def attempt(i: int) -> str:
        try:
            repay(cbs, f"{note}:i{i}", note, payer, interest="100")
            return "ok"
        except Refused as refused:
            return refused.code

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(attempt, range(8)))
    assert outcomes == ["INSUFFICIENT_FUNDS"] * 3 + ["ok"] * 5
    assert cbs.balance(payer) == 0


def test_racing_repayments_cannot_repay_more_principal_than_is_owed(cbs: CoreBankingSimulator) -> None:
    note, _ = loan(cbs, Decimal("300"))
    payers = [funded(cbs, Decimal("1000")) for _ in range(2)]

    def attempt(i: int) -> str:
        try:
            repay(cbs, f"{note}:p{i}", note, payers[i % 2], "100")
            return "ok"
        except Refused as refused:
            return refused.code

    with ThreadPoolExecutor(6) as pool:
        outcomes = sorted(pool.map(attempt, range(6)))
    assert outcomes == ["PRINCIPAL_EXCEEDS_BALANCE"] * 3 + ["ok"] * 3
    assert cbs.loan_balance(note) == 0


def test_threads_racing_on_one_repayment_key_make_one_posting(cbs: CoreBankingSimulator) -> None:
    note, payer = loan(cbs, Decimal("1000"))
    with ThreadPoolExecutor(8) as pool:
        postings = list(pool.map(lambda _: repay(cbs, f"{note}:p1", note, payer, "200", "3"), range(8)))
    assert len({p.posting_id for p in postings}) == 1
    assert cbs.count_postings("repayment", note) == 1
    assert cbs.balance(payer) == Decimal("797.00")


def test_a_repayment_race_lost_at_the_unique_constraint_answers_with_the_winner(
    cbs: CoreBankingSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Blind each thread's first look-up so both really reach the INSERT and one hits the UNIQUE key.
    note, payer = loan(cbs, Decimal("1000"))
    blind_first_lookup(cbs, monkeypatch, "_replay_repayment")
    barrier = threading.Barrier(2)

    def go(_: int):
        barrier.wait()
        return repay(cbs, f"{note}:p1", note, payer, "300", "1.50")

    with ThreadPoolExecutor(2) as pool:
        postings = list(pool.map(go, range(2)))
    assert postings[0] == postings[1]
    assert cbs.count_postings("repayment", note) == 1
    assert cbs.loan_balance(note) == Decimal("700.00")


def test_repayment_faults_fire_and_a_lost_answer_is_found(cbs: CoreBankingSimulator) -> None:
    note, payer = loan(cbs, Decimal("1000"))
    cbs.inject_fault(operation="repay", kind="unavailable")
    with pytest.raises(AdapterUnavailable) as raised:
        repay(cbs, f"{note}:p1", note, payer, "100")
    assert not isinstance(raised.value, OutcomeUnknown)
    assert cbs.find_posting(f"{note}:p1") is None
    cbs.inject_fault(operation="repay", kind="timeout_after_commit")
    with pytest.raises(OutcomeUnknown):
        repay(cbs, f"{note}:p1", note, payer, "100")
    found = cbs.find_posting(f"{note}:p1")
    assert found is not None and found.kind == "repayment"
    assert repay(cbs, f"{note}:p1", note, payer, "100") == found
    assert cbs.loan_balance(note) == Decimal("900.00")


def test_a_repayments_answer_comes_late_with_the_answer_delay(db_engine: Engine) -> None:
    slow = CoreBankingSimulator(db_engine, answer_delay_s=0.05)
    note, payer = loan(slow, Decimal("100"))
    started = time.perf_counter()
    repay(slow, f"{note}:p1", note, payer, "1")
    assert time.perf_counter() - started >= 0.05


# ---- reversing deposits and repayments ----

def test_reversing_a_repayment_restores_the_account_the_loan_and_the_income(cbs: CoreBankingSimulator) -> None:
    note, payer = loan(cbs, Decimal("10000"))
    before = (cbs.balance(payer), cbs.loan_balance(note), *income(cbs))
    original = repay(cbs, f"{note}:p1", note, payer, "1000", "40.50", "3.20", "0.15")
    reversal = cbs.reverse(idempotency_key=f"{note}:p1:r", original_key=f"{note}:p1")
    assert (reversal.kind, reversal.reference, reversal.amount) == ("reversal", note, Decimal("1043.85"))
    legs = {(e.account_no, e.side, e.amount) for e in cbs.entries(posting_id=reversal.posting_id)}
    assert legs == {(payer, "C", Decimal("1043.85")), (f"LN-{note}", "D", Decimal("1000.00")),
                    (GL_INTEREST_INCOME, "D", Decimal("40.50")), (GL_PENALTY_INCOME, "D", Decimal("3.35"))}
    assert (cbs.balance(payer), cbs.loan_balance(note), *income(cbs)) == before
    assert cbs.find_posting(f"{note}:p1") == original.model_copy(update={"reversed": True})
    assert cbs.trial_balance() == 0
    assert refusal(cbs.reverse, idempotency_key=f"{note}:p1:r2", original_key=f"{note}:p1") == "ALREADY_REVERSED"


def test_reversing_a_deposit_restores_the_account_and_cash(cbs: CoreBankingSimulator) -> None:
    to, key = account(cbs), f"cash-in:{uid()}"
    cash_before = gl(cbs, GL_CASH)
    cbs.deposit(idempotency_key=key, to_account=to, amount=Decimal("250"))
    reversal = cbs.reverse(idempotency_key=f"{key}:r", original_key=key)
    assert (reversal.kind, reversal.reference) == ("reversal", to)
    assert {(e.account_no, e.side) for e in cbs.entries(posting_id=reversal.posting_id)} == {
        (GL_CASH, "C"), (to, "D")}
    assert cbs.balance(to) == 0 and gl(cbs, GL_CASH) == cash_before
    assert cbs.trial_balance() == 0


def test_a_spent_deposit_is_reversed_only_once_the_money_is_back(cbs: CoreBankingSimulator) -> None:
    note, _ = loan(cbs, Decimal("1000"))
    to, key = account(cbs), f"cash-in:{uid()}"
    cbs.deposit(idempotency_key=key, to_account=to, amount=Decimal("100"))
    repay(cbs, f"{note}:i1", note, to, interest="60")
    assert refusal(cbs.reverse, idempotency_key=f"{key}:r", original_key=key) == "INSUFFICIENT_FUNDS"
    assert cbs.find_posting(key).reversed is False  # the refused reversal left no claim behind
    assert cbs.balance(to) == Decimal("40.00")
    cbs.deposit(idempotency_key=f"cash-in:{uid()}", to_account=to, amount=Decimal("60"))
    cbs.reverse(idempotency_key=f"{key}:r", original_key=key)
    assert cbs.balance(to) == 0


def test_a_disbursement_is_reversed_only_after_its_repayments(cbs: CoreBankingSimulator) -> None:
    note, borrower = loan(cbs, Decimal("1000"))
    payer = funded(cbs, Decimal("400"))
    repay(cbs, f"{note}:p1", note, payer, "400")
    assert refusal(cbs.reverse, idempotency_key=f"{note}:d:r", original_key=f"{note}:d") == "PRINCIPAL_REPAID"
    assert cbs.balance(borrower) == Decimal("1000.00") and cbs.loan_balance(note) == Decimal("600.00")
    cbs.reverse(idempotency_key=f"{note}:p1:r", original_key=f"{note}:p1")
    cbs.reverse(idempotency_key=f"{note}:d:r", original_key=f"{note}:d")
    assert (cbs.balance(borrower), cbs.loan_balance(note), cbs.balance(payer)) == (0, 0, Decimal("400.00"))


def test_a_disbursement_spent_by_the_borrower_is_not_clawed_back(cbs: CoreBankingSimulator) -> None:
    note, borrower = loan(cbs, Decimal("1000"))
    other, _ = loan(cbs, Decimal("1000"))
    repay(cbs, f"{other}:i1", other, borrower, interest="0.01")
    assert refusal(cbs.reverse, idempotency_key=f"{note}:d:r", original_key=f"{note}:d") == "INSUFFICIENT_FUNDS"
    assert cbs.loan_balance(note) == Decimal("1000.00")


def test_a_reversal_and_a_repayment_racing_for_the_same_money_cannot_both_take_it(
    cbs: CoreBankingSimulator,
) -> None:
    note, _ = loan(cbs, Decimal("1000"))
    for _ in range(5):
        to, key = account(cbs), f"cash-in:{uid()}"
        cbs.deposit(idempotency_key=key, to_account=to, amount=Decimal("100"))
        barrier = threading.Barrier(2)

        def attempt(call, barrier: threading.Barrier = barrier) -> str:
            barrier.wait()
            try:
                call()
                return "ok"
            except Refused as refused:
                return refused.code

        take_back = partial(cbs.reverse, idempotency_key=f"{key}:r", original_key=key)
        spend = partial(repay, cbs, f"{key}:spend", note, to, interest="100")
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(attempt, [take_back, spend]))
        assert sorted(outcomes) == ["INSUFFICIENT_FUNDS", "ok"]
        assert cbs.balance(to) == 0
