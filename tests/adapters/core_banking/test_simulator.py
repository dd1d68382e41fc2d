"""Core-banking simulator: a balanced double-entry ledger, idempotency under races, reversals and faults."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from stdnum import luhn

from adapters.core_banking.simulator import CoreBankingSimulator, deposit_account_no
from adapters.errors import AdapterUnavailable, OutcomeUnknown, Refused
from tests.adapters.core_banking.support import account, blind_first_lookup, uid


def test_opening_is_idempotent_and_deterministic(cbs: CoreBankingSimulator) -> None:
    customer_no = f"C{uid()}"
    first = cbs.open_deposit_account(customer_no=customer_no)
    assert cbs.open_deposit_account(customer_no=customer_no) == first == deposit_account_no(customer_no)
    assert first.startswith("6229") and len(first) == 19 and luhn.is_valid(first)
    assert cbs.balance(first) == 0


def test_numeric_customer_numbers_are_zero_padded_and_others_do_not_collide() -> None:
    assert deposit_account_no("12345")[:18] == "622900000000012345"
    assert deposit_account_no("A001") != deposit_account_no("B001")


def test_racing_opens_give_one_account(cbs: CoreBankingSimulator) -> None:
    customer_no = f"C{uid()}"
    with ThreadPoolExecutor(6) as pool:
        numbers = set(pool.map(lambda _: cbs.open_deposit_account(customer_no=customer_no), range(6)))
    assert len(numbers) == 1


def test_disbursement_debits_the_loan_and_credits_the_deposit(cbs: CoreBankingSimulator) -> None:
    to, note = account(cbs), f"N{uid()}"
    posting = cbs.disburse(idempotency_key=f"{note}:disburse", note_no=note, to_account=to, amount=Decimal("50000.00"))
    assert (posting.kind, posting.reference, posting.amount, posting.reversed) == (
        "disbursement", note, Decimal("50000.00"), False)
    assert cbs.balance(to) == Decimal("50000.00")
    assert cbs.balance(f"LN-{note}") == Decimal("50000.00")
    legs = {(e.account_no, e.side, e.amount) for e in cbs.entries(posting_id=posting.posting_id)}
    assert legs == {(f"LN-{note}", "D", Decimal("50000.00")), (to, "C", Decimal("50000.00"))}
    assert cbs.find_posting(f"{note}:disburse") == posting
    assert cbs.find_posting(f"{note}:nothing") is None


def test_ledger_balances_after_many_postings(cbs: CoreBankingSimulator) -> None:
    accounts = [account(cbs) for _ in range(3)]
    total = Decimal(0)
    for i in range(30):
        note = f"N{uid()}"
        amount = Decimal(1000 + i * 37) + Decimal("0.01") * i
        cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=accounts[i % 3], amount=amount)
        if i % 4 == 0:
            cbs.reverse(idempotency_key=f"{note}:r", original_key=f"{note}:d")
        else:
            total += amount
        assert cbs.trial_balance() == 0
    assert sum(cbs.balance(a) for a in accounts) == total


def test_same_key_same_amount_returns_the_existing_posting(cbs: CoreBankingSimulator) -> None:
    to, note = account(cbs), f"N{uid()}"
    first = cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("800"))
    again = cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("800.00"))
    assert again == first
    assert cbs.count_postings("disbursement", note) == 1
    assert cbs.balance(to) == Decimal("800.00")


@pytest.mark.parametrize("change", ["amount", "note", "account"])
def test_same_key_with_different_content_is_refused(cbs: CoreBankingSimulator, change: str) -> None:
    to, note = account(cbs), f"N{uid()}"
    cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("800"))
    kwargs = {"note_no": note, "to_account": to, "amount": Decimal("800")}
    kwargs |= {"amount": Decimal("801")} if change == "amount" else {}
    kwargs |= {"note_no": f"N{uid()}"} if change == "note" else {}
    kwargs |= {"to_account": account(cbs)} if change == "account" else {}
    with pytest.raises(Refused) as refused:
        cbs.disburse(idempotency_key=f"{note}:d", **kwargs)
    assert refused.value.code == "IDEMPOTENCY_MISMATCH"
    assert cbs.count_postings("disbursement", note) == 1


def test_threads_racing_on_one_key_make_one_posting(cbs: CoreBankingSimulator) -> None:
    to, note = account(cbs), f"N{uid()}"
    with ThreadPoolExecutor(8) as pool:
        postings = list(pool.map(lambda _: cbs.disburse(
            idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("1200")), range(8)))
    assert len({p.posting_id for p in postings}) == 1
    assert cbs.count_postings("disbursement", note) == 1
    assert cbs.balance(to) == Decimal("1200.00")


def test_a_race_lost_at_the_unique_constraint_answers_with_the_winner(
    cbs: CoreBankingSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Blind each thread's first look-up so both really reach the INSERT and one hits the UNIQUE key.
    to, note = account(cbs), f"N{uid()}"
    blind_first_lookup(cbs, monkeypatch, "_replay_disbursement")
    barrier = threading.Barrier(2)

    def go(_: int):
        barrier.wait()
        return cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("300"))

    with ThreadPoolExecutor(2) as pool:
        postings = list(pool.map(go, range(2)))
    assert postings[0] == postings[1]
    assert cbs.count_postings("disbursement", note) == 1


def test_unknown_and_frozen_accounts_are_refused(cbs: CoreBankingSimulator) -> None:
    note = f"N{uid()}"
    with pytest.raises(Refused) as refused:
        cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account="6229000000000000000", amount=Decimal(1))
    assert refused.value.code == "ACCOUNT_NOT_FOUND"
    to = account(cbs)
    cbs.freeze_account(to)
    with pytest.raises(Refused) as refused:
        cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal(1))
    assert refused.value.code == "ACCOUNT_FROZEN"
    assert cbs.count_postings(reference=note) == 0
    cbs.unfreeze_account(to)
    cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal(1))
    assert cbs.balance(to) == Decimal("1.00")


@pytest.mark.parametrize("amount", [Decimal(0), Decimal("-5"), Decimal("1.001"), Decimal("NaN")])
def test_amounts_must_be_positive_whole_fen(cbs: CoreBankingSimulator, amount: Decimal) -> None:
    with pytest.raises(Refused) as refused:
        cbs.disburse(idempotency_key=uid(), note_no=uid(), to_account=account(cbs), amount=amount)
    assert refused.value.code == "INVALID_AMOUNT"


def test_float_amounts_are_a_programming_error(cbs: CoreBankingSimulator) -> None:
    with pytest.raises(TypeError):
        cbs.disburse(idempotency_key=uid(), note_no=uid(), to_account=account(cbs), amount=10.5)  # type: ignore[arg-type]


def test_reversal_mirrors_the_entries_and_is_idempotent(cbs: CoreBankingSimulator) -> None:
    to, note = account(cbs), f"N{uid()}"
    original = cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("2500.50"))
    reversal = cbs.reverse(idempotency_key=f"{note}:r", original_key=f"{note}:d")
    assert (reversal.kind, reversal.reference, reversal.amount) == ("reversal", note, Decimal("2500.50"))
    assert cbs.reverse(idempotency_key=f"{note}:r", original_key=f"{note}:d") == reversal
    legs = {(e.account_no, e.side) for e in cbs.entries(posting_id=reversal.posting_id)}
    assert legs == {(f"LN-{note}", "C"), (to, "D")}
    assert cbs.find_posting(f"{note}:d") == original.model_copy(update={"reversed": True})
    assert cbs.balance(to) == 0 and cbs.balance(f"LN-{note}") == 0
    assert [p.kind for p in cbs.postings(reference=note)] == ["reversal", "disbursement"]
    assert cbs.postings(reference=note)[0].reverses_key == f"{note}:d"


def test_a_posting_is_reversed_once_whatever_the_key(cbs: CoreBankingSimulator) -> None:
    to, note = account(cbs), f"N{uid()}"
    cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("10"))
    cbs.reverse(idempotency_key=f"{note}:r1", original_key=f"{note}:d")
    with pytest.raises(Refused) as refused:
        cbs.reverse(idempotency_key=f"{note}:r2", original_key=f"{note}:d")
    assert refused.value.code == "ALREADY_REVERSED"
    with pytest.raises(Refused) as refused:
        cbs.reverse(idempotency_key=f"{note}:r3", original_key=f"{note}:r1")
    assert refused.value.code == "NOT_REVERSIBLE"
    with pytest.raises(Refused) as refused:
        cbs.reverse(idempotency_key=f"{note}:r1", original_key=f"{note}:other")
    assert refused.value.code == "IDEMPOTENCY_MISMATCH"
    with pytest.raises(Refused) as refused:
        cbs.reverse(idempotency_key=f"{note}:r4", original_key=f"{note}:missing")
    assert refused.value.code == "POSTING_NOT_FOUND"
    assert cbs.count_postings("reversal", note) == 1


def test_racing_reversals_under_different_keys_reverse_once(cbs: CoreBankingSimulator) -> None:
    to, note = account(cbs), f"N{uid()}"
    cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("10"))

    def attempt(i: int) -> str:
        try:
            cbs.reverse(idempotency_key=f"{note}:r{i}", original_key=f"{note}:d")
            return "ok"
        except Refused as refused:
            return refused.code

    with ThreadPoolExecutor(6) as pool:
        outcomes = sorted(pool.map(attempt, range(6)))
    assert outcomes == ["ALREADY_REVERSED"] * 5 + ["ok"]
    assert cbs.balance(to) == 0


def test_unavailable_fault_raises_before_doing_anything(cbs: CoreBankingSimulator) -> None:
    to, note = account(cbs), f"N{uid()}"
    cbs.inject_fault(operation="disburse", kind="unavailable")
    with pytest.raises(AdapterUnavailable) as raised:
        cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("99"))
    assert not isinstance(raised.value, OutcomeUnknown)
    assert cbs.find_posting(f"{note}:d") is None
    cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("99"))
    assert cbs.balance(to) == Decimal("99.00")


def test_timeout_after_commit_posts_and_the_lookup_finds_it(cbs: CoreBankingSimulator) -> None:
    to, note = account(cbs), f"N{uid()}"
    cbs.inject_fault(operation="disburse", kind="timeout_after_commit")
    with pytest.raises(OutcomeUnknown):
        cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("99"))
    found = cbs.find_posting(f"{note}:d")
    assert found is not None and found.amount == Decimal("99.00")
    assert cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("99")) == found
    assert cbs.count_postings("disbursement", note) == 1
    assert cbs.balance(to) == Decimal("99.00")


def test_refuse_fault_and_fault_counts(cbs: CoreBankingSimulator) -> None:
    to, note = account(cbs), f"N{uid()}"
    cbs.inject_fault(operation="disburse", kind="refuse:ACCOUNT_FROZEN", times=2)
    assert cbs.link.pending_faults("disburse") == 2
    for _ in range(2):
        with pytest.raises(Refused) as refused:
            cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("5"))
        assert refused.value.code == "ACCOUNT_FROZEN"
    assert cbs.link.pending_faults("disburse") == 0
    cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("5"))


def test_faults_are_consumed_once_across_threads(cbs: CoreBankingSimulator) -> None:
    cbs.inject_fault(operation="balance", kind="unavailable", times=3)
    to = account(cbs)

    def attempt(_: int) -> bool:
        try:
            cbs.balance(to)
            return True
        except AdapterUnavailable:
            return False

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(12)))
    assert outcomes.count(False) == 3


def test_faults_injected_by_another_instance_reach_a_running_one(db_engine: Engine, cbs: CoreBankingSimulator) -> None:
    CoreBankingSimulator(db_engine).inject_fault(operation="open_deposit_account", kind="unavailable")
    with pytest.raises(AdapterUnavailable):
        cbs.open_deposit_account(customer_no=f"C{uid()}")


def test_balance_of_an_unknown_account_is_refused(cbs: CoreBankingSimulator) -> None:
    with pytest.raises(Refused) as refused:
        cbs.balance("no-such-account")
    assert refused.value.code == "ACCOUNT_NOT_FOUND"


def test_latency_is_added_per_call(db_engine: Engine) -> None:
    import time

    slow = CoreBankingSimulator(db_engine, latency_s=0.05)
    started = time.perf_counter()
    slow.open_deposit_account(customer_no=f"C{uid()}")
    assert time.perf_counter() - started >= 0.05


def test_a_reversal_retry_that_loses_the_race_answers_with_the_winner(
    cbs: CoreBankingSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    to, note = account(cbs), f"N{uid()}"
    cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("70"))
    blind_first_lookup(cbs, monkeypatch, "_replay_reversal")
    barrier = threading.Barrier(2)

    def go(_: int):
        barrier.wait()
        return cbs.reverse(idempotency_key=f"{note}:r", original_key=f"{note}:d")

    with ThreadPoolExecutor(2) as pool:
        reversals = list(pool.map(go, range(2)))
    assert reversals[0] == reversals[1]
    assert cbs.count_postings("reversal", note) == 1
    assert [e.side for e in cbs.entries(account_no=to)] == ["D", "C"]


def test_a_lost_answer_hides_even_a_refusal(cbs: CoreBankingSimulator) -> None:
    # The caller of a timed-out call cannot know it was refused: it looks up, finds nothing, and retries.
    to, note = account(cbs), f"N{uid()}"
    cbs.freeze_account(to)
    cbs.inject_fault(operation="disburse", kind="timeout_after_commit")
    with pytest.raises(OutcomeUnknown):
        cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("5"))
    assert cbs.find_posting(f"{note}:d") is None
    with pytest.raises(Refused) as refused:
        cbs.disburse(idempotency_key=f"{note}:d", note_no=note, to_account=to, amount=Decimal("5"))
    assert refused.value.code == "ACCOUNT_FROZEN"


def test_freezing_an_unknown_account_is_refused(cbs: CoreBankingSimulator) -> None:
    with pytest.raises(Refused) as refused:
        cbs.freeze_account("no-such-account")
    assert refused.value.code == "ACCOUNT_NOT_FOUND"


def test_oversized_keys_and_note_numbers_are_refused(cbs: CoreBankingSimulator) -> None:
    to = account(cbs)
    for key, note in (("k" * 129, uid()), (uid(), "N" * 33)):
        with pytest.raises(Refused) as refused:
            cbs.disburse(idempotency_key=key, note_no=note, to_account=to, amount=Decimal("1"))
        assert refused.value.code == "INVALID_REQUEST"
    with pytest.raises(Refused):
        cbs.reverse(idempotency_key="k" * 129, original_key=uid())
