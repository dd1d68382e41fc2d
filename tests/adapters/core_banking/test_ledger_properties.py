"""Any sequence of deposits, disbursements, repayments and reversals keeps the ledger sound: the trial balance
is zero, no deposit account or loan is below zero, and every balance is what a plain model of the rules says.
The model also predicts each step's outcome, so a refusal the rules do not call for fails the test too."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st

from adapters.core_banking.simulator import (
    GL_CASH,
    GL_INTEREST_INCOME,
    GL_PENALTY_INCOME,
    CoreBankingSimulator,
)
from adapters.errors import Refused
from tests.adapters.core_banking.support import account, uid

CUSTOMERS = 2
NOTES = 2
GLS = (GL_CASH, GL_INTEREST_INCOME, GL_PENALTY_INCOME)


def yuan(most: int) -> st.SearchStrategy[Decimal]:
    """Whole-fen amounts from 0.01 up to `most` yuan."""
    return st.integers(min_value=1, max_value=most * 100).map(lambda n: Decimal(n).scaleb(-2))


# Repayment parts are small next to loans and deposits, so that many repayments go through; a principal is
# sometimes loan-sized, so that some exceed what is owed and some leave a disbursement that cannot be reversed.
amounts = yuan(2000)
parts = st.one_of(yuan(50), st.just(Decimal(0)))
principals = st.one_of(yuan(200), yuan(2000), st.just(Decimal(0)))
customer_index = st.integers(min_value=0, max_value=CUSTOMERS - 1)
note_index = st.integers(min_value=0, max_value=NOTES - 1)
steps = st.lists(st.one_of(
    st.tuples(st.just("deposit"), customer_index, amounts),
    st.tuples(st.just("disburse"), note_index, customer_index, amounts),
    st.tuples(st.just("repay"), note_index, customer_index, principals, parts, parts, parts),
    st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=10_000)),  # an earlier posting, modulo
), min_size=10, max_size=20)


@dataclass
class Posted:
    key: str
    kind: str
    # What the posting did to each account, on the account's normal side.
    effects: dict[str, Decimal]
    reversed: bool = False


@dataclass
class Model:
    deposits: dict[str, Decimal]
    loans: dict[str, Decimal] = field(default_factory=dict)  # by loan account, once disbursed
    gls: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(GLS, Decimal(0)))  # changes only
    postings: list[Posted] = field(default_factory=list)
    refused_reversals: int = 0

    def refusals(self, effects: dict[str, Decimal]) -> set[str]:
        """What the rules refuse a posting with these effects for: a deposit or a loan below zero."""
        balances = self.deposits | self.loans | self.gls
        after = {a: balances[a] + change for a, change in effects.items()}
        return ({"INSUFFICIENT_FUNDS"} if any(after[a] < 0 for a in after if a in self.deposits) else set()) | (
            {"PRINCIPAL_REPAID"} if any(after[a] < 0 for a in after if a in self.loans) else set())

    def apply(self, posted: Posted) -> None:
        for account_no, change in posted.effects.items():
            for book in (self.deposits, self.loans, self.gls):
                if account_no in book:
                    book[account_no] += change
        self.postings.append(posted)


def gl(cbs: CoreBankingSimulator, account_no: str) -> Decimal:
    """A GL account's balance, zero before its first posting opens it."""
    try:
        return cbs.balance(account_no)
    except Refused as refused:
        assert refused.code == "ACCOUNT_NOT_FOUND"
        return Decimal(0)


def outcome(kind: str, call) -> str:
    try:
        call()
        got = "posted"
    except Refused as refused:
        got = refused.code
    event(f"{kind}: {got}")  # --hypothesis-show-statistics shows which paths the examples reached
    return got


def run_step(cbs: CoreBankingSimulator, model: Model, customers: list[str], notes: list[str], step: tuple) -> None:
    key = uid()
    match step:
        case ("deposit", c, cash):
            to = customers[c]
            assert outcome("deposit", lambda: cbs.deposit(idempotency_key=key, to_account=to, amount=cash)) == (
                "posted")
            model.apply(Posted(key, "deposit", {GL_CASH: cash, to: cash}))
        case ("disburse", n, c, lent):
            to, loan = customers[c], f"LN-{notes[n]}"
            assert outcome("disburse", lambda: cbs.disburse(idempotency_key=key, note_no=notes[n], to_account=to,
                                                            amount=lent)) == "posted"
            model.loans.setdefault(loan, Decimal(0))
            model.apply(Posted(key, "disbursement", {loan: lent, to: lent}))
        case ("repay", n, c, principal, interest, penalty, compound):
            payer, loan, total = customers[c], f"LN-{notes[n]}", principal + interest + penalty + compound
            got = outcome("repay", lambda: cbs.repay(idempotency_key=key, note_no=notes[n], from_account=payer,
                                                     principal=principal, interest=interest, penalty=penalty,
                                                     compound=compound))
            if total == 0:
                assert got == "INVALID_AMOUNT"
            elif loan not in model.loans:
                assert got == "LOAN_ACCOUNT_NOT_FOUND"
            elif principal > model.loans[loan]:
                assert got == "PRINCIPAL_EXCEEDS_BALANCE"
            elif total > model.deposits[payer]:
                assert got == "INSUFFICIENT_FUNDS"
            else:
                assert got == "posted"
                model.apply(Posted(key, "repayment", {payer: -total, loan: -principal,
                                                      GL_INTEREST_INCOME: interest,
                                                      GL_PENALTY_INCOME: penalty + compound}))
        case ("reverse", i):
            if not model.postings:
                return
            original = model.postings[i % len(model.postings)]
            got = outcome("reverse", lambda: cbs.reverse(idempotency_key=key, original_key=original.key))
            effects = {a: -change for a, change in original.effects.items()}
            if original.kind == "reversal":
                assert got == "NOT_REVERSIBLE"
            elif original.reversed:
                assert got == "ALREADY_REVERSED"
            elif refusals := model.refusals(effects):
                assert got in refusals
                model.refused_reversals += 1
            else:
                assert got == "posted"
                original.reversed = True
                model.apply(Posted(key, "reversal", effects))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(opened=st.booleans(), steps=steps)
def test_any_sequence_of_postings_keeps_the_ledger_sound(
    cbs: CoreBankingSimulator, opened: bool, steps: list[tuple]
) -> None:
    # Fresh customers and notes for each example; GL accounts are shared, so the model follows their changes.
    customers = [account(cbs) for _ in range(CUSTOMERS)]
    notes = [f"N{uid()}" for _ in range(NOTES)]
    gl_before = {a: gl(cbs, a) for a in GLS}
    model = Model(deposits=dict.fromkeys(customers, Decimal(0)))
    # Half the examples start with both notes lent, so repayments and their reversals get far in few steps.
    opening = [("disburse", n, n % CUSTOMERS, Decimal(1000)) for n in range(NOTES)] if opened else []
    for step in [*opening, *steps]:
        run_step(cbs, model, customers, notes, step)
        assert cbs.trial_balance() == 0
        accounts = {a: cbs.balance(a) for a in [*model.deposits, *model.loans]}
        assert all(balance >= 0 for balance in accounts.values())
        assert accounts == model.deposits | model.loans
    # Every posting that moves a GL account also moves one checked above, so once per example is enough here.
    assert {a: gl(cbs, a) - gl_before[a] for a in GLS} == model.gls
    # Steer generation toward reversals of money already spent or lent money already repaid: the rarest case.
    target(float(model.refused_reversals), label="reversals refused for a balance")
    for posted in model.postings:
        found = cbs.find_posting(posted.key)
        assert found is not None and (found.kind, found.reversed) == (posted.kind, posted.reversed)
