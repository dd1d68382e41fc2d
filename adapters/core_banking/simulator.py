"""Core-banking simulator behind adapters.core_banking.port: a double-entry ledger in its own cbs_ tables."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import Decimal
from uuid import uuid4

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from stdnum import luhn

from adapters.core_banking.port import Posting
from adapters.core_banking.tables import CbsAccount, CbsEntry, CbsFault, CbsPosting
from adapters.errors import Refused
from adapters.simkit import SimulatedLink, insert_ignore, utcnow
from db.engine import session_scope
from domain.money import is_whole_fen

OPERATIONS = frozenset({
    "open_deposit_account", "open_counterparty_account", "deposit", "disburse", "repay", "find_posting",
    "reverse", "balance", "loan_balance",
})
BIN = "6229"
MAX_AMOUNT = Decimal("9999999999999999.99")  # NUMERIC(18,2)
# General-ledger accounts, opened on first use.
GL_CASH = "GL-CASH"  # teller cash and incoming transfers: the other side of every deposit
GL_INTEREST_INCOME = "GL-INTEREST-INCOME"  # 利息收入
GL_PENALTY_INCOME = "GL-PENALTY-INCOME"  # 罚息复利收入
# Deposit balances are credits the bank owes, income is a credit it has earned; loan and cash balances are
# debits (assets).
CREDIT_NORMAL = frozenset({"deposit"})
CREDIT_NORMAL_GL = frozenset({GL_INTEREST_INCOME, GL_PENALTY_INCOME})
GL_ACCOUNTS = frozenset({GL_CASH}) | CREDIT_NORMAL_GL
# A payee's deposit account is owned by 'CP:<ref>': no customer_no may start so, so the two never share one.
COUNTERPARTY_PREFIX = "CP:"


def deposit_account_no(customer_no: str) -> str:
    """'6229' + 14 digits + a Luhn digit, like a debit card number; the same customer_no gives the same number.

    An all-digit customer_no of up to 14 digits is zero-padded so demo numbers stay readable; any other
    form is hashed, since keeping only its digits would let 'A001' and 'B001' share an account.
    """
    if customer_no.isascii() and customer_no.isdigit() and len(customer_no) <= 14:
        digits = customer_no.zfill(14)
    else:
        digits = str(int.from_bytes(hashlib.sha256(customer_no.encode()).digest()[:8]) % 10**14).zfill(14)
    body = BIN + digits
    return body + luhn.calc_check_digit(body)


class CoreBankingSimulator:
    def __init__(self, engine: Engine, latency_s: float = 0.0, answer_delay_s: float = 0.0) -> None:
        self._engine = engine
        self.link = SimulatedLink(
            engine, system="core banking", fault_table=CbsFault, operations=OPERATIONS, latency_s=latency_s,
            answer_delay_s=answer_delay_s, delayed_answers=frozenset({"disburse", "repay", "reverse"}),
        )

    # ---- the port ----

    def open_deposit_account(self, *, customer_no: str) -> str:
        with self.link.call("open_deposit_account"):
            if not customer_no or len(customer_no) > 40 or customer_no.startswith(COUNTERPARTY_PREFIX):
                raise Refused("INVALID_CUSTOMER_NO", "客户号格式不正确")
            return self._open_deposit(customer_no)

    def open_counterparty_account(self, *, counterparty_ref: str) -> str:
        with self.link.call("open_counterparty_account"):
            owner_ref = COUNTERPARTY_PREFIX + counterparty_ref
            if not counterparty_ref or len(owner_ref) > 40:
                raise Refused("INVALID_COUNTERPARTY_REF", "收款方编号格式不正确")
            return self._open_deposit(owner_ref)

    def deposit(self, *, idempotency_key: str, to_account: str, amount: Decimal) -> Posting:
        with self.link.call("deposit"):
            _check_amount(amount)
            _check_lengths(idempotency_key)
            done = self._replay_deposit(idempotency_key, to_account, amount)
            if done is not None:
                return done
            try:
                with session_scope(self._engine) as session:
                    # Locked as in disburse: a freeze is never half-seen.
                    _deposit_account(_lock(session, [to_account]).get(to_account), "收款")
                    _open_gl(session, GL_CASH)
                    # The reference is the credited account, so its deposits are found like a note's postings.
                    posting = _post(session, key=idempotency_key, kind="deposit", reference=to_account,
                                    legs=[(GL_CASH, "D", amount), (to_account, "C", amount)])
            except IntegrityError:
                done = self._replay_deposit(idempotency_key, to_account, amount)
                if done is None:
                    raise
                return done
            return posting

    def disburse(self, *, idempotency_key: str, note_no: str, to_account: str, amount: Decimal) -> Posting:
        with self.link.call("disburse"):
            _check_amount(amount)
            _check_lengths(idempotency_key, note_no)
            done = self._replay_disbursement(idempotency_key, note_no, to_account, amount)
            if done is not None:
                return done
            loan_account = f"LN-{note_no}"
            try:
                with session_scope(self._engine) as session:
                    # The row lock serialises postings to one account, so a freeze is never half-seen. NO KEY
                    # UPDATE (key_share) still lets other postings' foreign-key checks on the account through.
                    account = session.exec(
                        select(CbsAccount).where(CbsAccount.account_no == to_account).with_for_update(key_share=True)
                    ).first()
                    if account is None or account.kind != "deposit":
                        raise Refused("ACCOUNT_NOT_FOUND", "收款账户不存在")
                    if account.status == "frozen":
                        raise Refused("ACCOUNT_FROZEN", "收款账户已冻结")
                    insert_ignore(session, CbsAccount, account_no=loan_account, kind="loan", owner_ref=note_no,
                                  status="active", opened_at=utcnow())
                    posting = _post(session, key=idempotency_key, kind="disbursement", reference=note_no,
                                    legs=[(loan_account, "D", amount), (to_account, "C", amount)])
            except IntegrityError:
                # A concurrent call with the same key committed first: answer as a retry would.
                done = self._replay_disbursement(idempotency_key, note_no, to_account, amount)
                if done is None:
                    raise
                return done
            return posting

    def repay(
        self, *, idempotency_key: str, note_no: str, from_account: str, principal: Decimal, interest: Decimal,
        penalty: Decimal, compound: Decimal,
    ) -> Posting:
        with self.link.call("repay"):
            total = _check_buckets(principal, interest, penalty, compound)
            _check_lengths(idempotency_key, note_no)
            loan_account = f"LN-{note_no}"
            legs = _repayment_legs(from_account, loan_account, principal, interest, penalty + compound)
            done = self._replay_repayment(idempotency_key, note_no, legs)
            if done is not None:
                return done
            try:
                with session_scope(self._engine) as session:
                    # Both balances checked stay locked until the posting commits: two repayments of one
                    # account or one loan cannot both pass on the same balance.
                    locked = _lock(session, [from_account, loan_account])
                    loan = locked.get(loan_account)
                    if loan is None or loan.kind != "loan":
                        raise Refused("LOAN_ACCOUNT_NOT_FOUND", "贷款账户不存在")
                    if principal > _balance(session, loan):
                        raise Refused("PRINCIPAL_EXCEEDS_BALANCE", "还款本金超过贷款余额")
                    payer = _deposit_account(locked.get(from_account), "付款")
                    if _balance(session, payer) < total:
                        raise Refused("INSUFFICIENT_FUNDS", "账户余额不足")
                    for gl in {account for account, _, _ in legs} & CREDIT_NORMAL_GL:
                        _open_gl(session, gl)
                    posting = _post(session, key=idempotency_key, kind="repayment", reference=note_no,
                                    legs=legs)
            except IntegrityError:
                # A concurrent call with the same key committed first: answer as a retry would.
                done = self._replay_repayment(idempotency_key, note_no, legs)
                if done is None:
                    raise
                return done
            return posting

    def find_posting(self, idempotency_key: str) -> Posting | None:
        with self.link.call("find_posting"), Session(self._engine) as session:
            row = _posting_by_key(session, idempotency_key)
            return None if row is None else _public(row)

    def reverse(self, *, idempotency_key: str, original_key: str) -> Posting:
        with self.link.call("reverse"):
            _check_lengths(idempotency_key)
            done = self._replay_reversal(idempotency_key, original_key)
            if done is not None:
                return done
            try:
                with session_scope(self._engine) as session:
                    original = _posting_by_key(session, original_key)
                    if original is None:
                        raise Refused("POSTING_NOT_FOUND", "原交易不存在")
                    if original.kind == "reversal":
                        raise Refused("NOT_REVERSIBLE", "冲正交易不能再冲正")
                    claimed = session.exec(
                        update(CbsPosting).where(CbsPosting.id == original.id, CbsPosting.reversed.is_(False))
                        .values(reversed=True)
                    ).rowcount
                    if not claimed:
                        raise _AlreadyReversed
                    legs = [(account, "C" if side == "D" else "D", amount)
                            for account, side, amount in _legs(session, original.posting_id)]
                    _check_nothing_overdrawn(session, legs)
                    posting = _post(session, key=idempotency_key, kind="reversal", reference=original.reference,
                                    legs=legs, reverses_key=original_key)
            except (IntegrityError, _AlreadyReversed):
                # Either our own retry won the race (same key: answer with it) or another key reversed it.
                done = self._replay_reversal(idempotency_key, original_key)
                if done is not None:
                    return done
                raise Refused("ALREADY_REVERSED", "原交易已冲正") from None
            return posting

    def balance(self, account_no: str) -> Decimal:
        with self.link.call("balance"), Session(self._engine) as session:
            account = session.get(CbsAccount, account_no)
            if account is None:
                raise Refused("ACCOUNT_NOT_FOUND", "账户不存在")
            return _balance(session, account)

    def loan_balance(self, note_no: str) -> Decimal:
        """The principal outstanding on a note: the balance of its loan account, which must exist."""
        with self.link.call("loan_balance"), Session(self._engine) as session:
            account = session.get(CbsAccount, f"LN-{note_no}")
            if account is None or account.kind != "loan":
                raise Refused("ACCOUNT_NOT_FOUND", "贷款账户不存在")
            return _balance(session, account)

    # ---- operations and the ledger read view ----

    def freeze_account(self, account_no: str) -> None:
        self._set_status(account_no, "frozen")

    def unfreeze_account(self, account_no: str) -> None:
        self._set_status(account_no, "active")

    def inject_fault(self, *, operation: str = "disburse", kind: str, times: int = 1) -> None:
        self.link.inject_fault(operation=operation, kind=kind, times=times)

    def clear_faults(self) -> None:
        self.link.clear_faults()

    def trial_balance(self) -> Decimal:
        """Sum of debits minus sum of credits over every entry: zero whenever the ledger is sound."""
        with Session(self._engine) as session:
            debit, credit = _sums(session)
            return debit - credit

    def postings(self, reference: str | None = None, limit: int = 50, offset: int = 0) -> list[CbsPosting]:
        with Session(self._engine) as session:
            query = select(CbsPosting)
            if reference is not None:
                query = query.where(CbsPosting.reference == reference)
            return list(session.exec(query.order_by(CbsPosting.id.desc()).offset(offset).limit(limit)))

    def entries(
        self, account_no: str | None = None, posting_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[CbsEntry]:
        with Session(self._engine) as session:
            query = select(CbsEntry)
            if account_no is not None:
                query = query.where(CbsEntry.account_no == account_no)
            if posting_id is not None:
                query = query.where(CbsEntry.posting_id == posting_id)
            return list(session.exec(query.order_by(CbsEntry.id.desc()).offset(offset).limit(limit)))

    def count_postings(self, kind: str | None = None, reference: str | None = None) -> int:
        with Session(self._engine) as session:
            query = select(func.count()).select_from(CbsPosting)
            if kind is not None:
                query = query.where(CbsPosting.kind == kind)
            if reference is not None:
                query = query.where(CbsPosting.reference == reference)
            return session.exec(query).one()

    # ---- internals ----

    def _open_deposit(self, owner_ref: str) -> str:
        existing = self._deposit_account_of(owner_ref)
        if existing is not None:
            return existing
        account_no = deposit_account_no(owner_ref)
        try:
            with session_scope(self._engine) as session:
                session.add(CbsAccount(account_no=account_no, kind="deposit", owner_ref=owner_ref,
                                       opened_at=utcnow()))
        except IntegrityError:
            existing = self._deposit_account_of(owner_ref)
            if existing is None:
                raise
            return existing
        return account_no

    def _deposit_account_of(self, owner_ref: str) -> str | None:
        with Session(self._engine) as session:
            return session.exec(
                select(CbsAccount.account_no).where(CbsAccount.kind == "deposit", CbsAccount.owner_ref == owner_ref)
            ).first()

    def _replay_deposit(self, key: str, to_account: str, amount: Decimal) -> Posting | None:
        with Session(self._engine) as session:
            row = _posting_by_key(session, key)
        if row is None:
            return None
        if (row.kind, row.reference, row.amount) != ("deposit", to_account, amount):
            raise Refused("IDEMPOTENCY_MISMATCH", "同一幂等键的请求内容与原交易不一致")
        return _public(row)

    def _replay_disbursement(
        self, key: str, note_no: str, to_account: str, amount: Decimal
    ) -> Posting | None:
        with Session(self._engine) as session:
            row = _posting_by_key(session, key)
            if row is None:
                return None
            credited = session.exec(
                select(CbsEntry.account_no).where(CbsEntry.posting_id == row.posting_id, CbsEntry.side == "C")
            ).first()
        if (row.kind, row.reference, row.amount, credited) != ("disbursement", note_no, amount, to_account):
            raise Refused("IDEMPOTENCY_MISMATCH", "同一幂等键的请求内容与原交易不一致")
        return _public(row)

    def _replay_repayment(self, key: str, note_no: str, legs: list[tuple[str, str, Decimal]]) -> Posting | None:
        # The entries are the content: the payer, and how the total splits over principal, interest and
        # penalty. Penalty and compound interest share one entry, so only their sum is compared.
        with Session(self._engine) as session:
            row = _posting_by_key(session, key)
            if row is None:
                return None
            posted = _legs(session, row.posting_id)
        if row.kind != "repayment" or row.reference != note_no or sorted(posted) != sorted(legs):
            raise Refused("IDEMPOTENCY_MISMATCH", "同一幂等键的请求内容与原交易不一致")
        return _public(row)

    def _replay_reversal(self, key: str, original_key: str) -> Posting | None:
        with Session(self._engine) as session:
            row = _posting_by_key(session, key)
        if row is None:
            return None
        if row.kind != "reversal" or row.reverses_key != original_key:
            raise Refused("IDEMPOTENCY_MISMATCH", "同一幂等键的请求内容与原交易不一致")
        return _public(row)

    def _set_status(self, account_no: str, status: str) -> None:
        with session_scope(self._engine) as session:
            changed = session.exec(
                update(CbsAccount).where(CbsAccount.account_no == account_no).values(status=status)
            ).rowcount
            if not changed:
                raise Refused("ACCOUNT_NOT_FOUND", "账户不存在")


class _AlreadyReversed(Exception):
    """Internal: the original was reversed by a concurrent call; resolved into a replay or a refusal."""


def _check_amount(amount: Decimal) -> None:
    if not isinstance(amount, Decimal):
        raise TypeError("amount must be a Decimal")
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT or not is_whole_fen(amount):
        raise Refused("INVALID_AMOUNT", "金额须为大于零且精确到分的数值")


def _check_buckets(*buckets: Decimal) -> Decimal:
    """Each part of a repayment is zero or more, to the fen, and their total a valid amount: returns it."""
    for amount in buckets:
        if not isinstance(amount, Decimal):
            raise TypeError("amounts must be Decimals")
        if not amount.is_finite() or amount < 0 or not is_whole_fen(amount):
            raise Refused("INVALID_AMOUNT", "金额须为不小于零且精确到分的数值")
    total = sum(buckets, Decimal(0))
    _check_amount(total)
    return total


def _repayment_legs(
    from_account: str, loan_account: str, principal: Decimal, interest: Decimal, penalty: Decimal
) -> list[tuple[str, str, Decimal]]:
    """Debit the payer with the total; credit each part that is not zero where it belongs."""
    credits = [(loan_account, principal), (GL_INTEREST_INCOME, interest), (GL_PENALTY_INCOME, penalty)]
    legs = [(account, "C", amount) for account, amount in credits if amount > 0]
    return [(from_account, "D", sum((amount for _, _, amount in legs), Decimal(0))), *legs]


def _check_lengths(idempotency_key: str, note_no: str | None = None) -> None:
    # A loan account is 'LN-' + note_no and must fit its 40 characters.
    if not 0 < len(idempotency_key) <= 128 or (note_no is not None and not 0 < len(note_no) <= 32):
        raise Refused("INVALID_REQUEST", "请求参数长度不正确")


def _lock(session: Session, account_nos: Iterable[str]) -> dict[str, CbsAccount]:
    """Lock the rows of the accounts whose state a posting checks, so a concurrent posting cannot change
    what was checked before this one commits; returns the rows found, by account_no.

    PostgreSQL: row locks in account_no order, so two postings locking the same pair never deadlock; NO KEY
    UPDATE (key_share) still lets other postings' foreign-key checks on the accounts through. SQLite has
    no row locks, and pysqlite opens the transaction only at the first write: a write that changes nothing
    first takes the database's single write lock, so the reads after it cannot be overtaken.
    """
    wanted = sorted(set(account_nos))
    if session.get_bind().dialect.name == "sqlite":
        session.exec(update(CbsAccount).where(CbsAccount.account_no.in_(wanted))
                     .values(status=CbsAccount.status))
    locked = {}
    for account_no in wanted:
        row = session.exec(
            select(CbsAccount).where(CbsAccount.account_no == account_no).with_for_update(key_share=True)
        ).first()
        if row is not None:
            locked[account_no] = row
    return locked


def _deposit_account(account: CbsAccount | None, role: str) -> CbsAccount:
    """The account a posting moves a customer's (or payee's) money through; role is 收款 or 付款."""
    if account is None or account.kind != "deposit":
        raise Refused("ACCOUNT_NOT_FOUND", f"{role}账户不存在")
    if account.status == "frozen":
        raise Refused("ACCOUNT_FROZEN", f"{role}账户已冻结")
    return account


def _open_gl(session: Session, account_no: str) -> None:
    insert_ignore(session, CbsAccount, account_no=account_no, kind="gl", owner_ref=account_no, status="active",
                  opened_at=utcnow())


def _credit_normal(account: CbsAccount) -> bool:
    return account.kind in CREDIT_NORMAL or account.account_no in CREDIT_NORMAL_GL


def _balance(session: Session, account: CbsAccount) -> Decimal:
    debit, credit = _sums(session, CbsEntry.account_no == account.account_no)
    return credit - debit if _credit_normal(account) else debit - credit


def _check_nothing_overdrawn(session: Session, legs: list[tuple[str, str, Decimal]]) -> None:
    """A reversal takes back what its original gave, which may be gone by now: a deposit account it debits
    must still hold the money (spent money is not clawed back), and a loan account it credits must still owe
    it (a disbursement is reversed after its repayments). GL accounts are the bank's own and not checked."""
    for account_no, account in _lock(session, {a for a, _, _ in legs} - GL_ACCOUNTS).items():
        credited = sum((amount if side == "C" else -amount for a, side, amount in legs if a == account_no),
                       Decimal(0))
        if _balance(session, account) + (credited if _credit_normal(account) else -credited) >= 0:
            continue
        if account.kind == "deposit":
            raise Refused("INSUFFICIENT_FUNDS", "账户余额不足")
        raise Refused("PRINCIPAL_REPAID", "贷款本金已部分归还,请先冲正还款")


def _posting_by_key(session: Session, key: str) -> CbsPosting | None:
    return session.exec(select(CbsPosting).where(CbsPosting.idempotency_key == key)).first()


def _legs(session: Session, posting_id: str) -> list[tuple[str, str, Decimal]]:
    query = select(CbsEntry).where(CbsEntry.posting_id == posting_id).order_by(CbsEntry.id)
    return [(e.account_no, e.side, e.amount) for e in session.exec(query)]


def _post(
    session: Session, *, key: str, kind: str, reference: str, legs: list[tuple[str, str, Decimal]],
    reverses_key: str | None = None,
) -> Posting:
    """One posting and its entries in the caller's transaction; refuses to write an unbalanced one."""
    debit = sum((a for _, side, a in legs if side == "D"), Decimal(0))
    credit = sum((a for _, side, a in legs if side == "C"), Decimal(0))
    if debit != credit or debit <= 0:
        raise ValueError("unbalanced posting")
    now = utcnow()
    row = CbsPosting(posting_id=f"CB{now:%Y%m%d}{uuid4().hex[:16].upper()}", idempotency_key=key, kind=kind,
                     reference=reference, amount=debit, posted_at=now, reverses_key=reverses_key)
    session.add(row)
    # Flush now so a duplicate key fails here, and entries never reach the database before their posting.
    session.flush()
    session.add_all(CbsEntry(posting_id=row.posting_id, account_no=account, side=side, amount=amount)
                    for account, side, amount in legs)
    session.flush()
    return _public(row)


def _sums(session: Session, *where: object) -> tuple[Decimal, Decimal]:
    # Summed in Python: SQLite keeps MoneyType as text and its SUM() would go through float.
    debit = credit = Decimal(0)
    for side, amount in session.exec(select(CbsEntry.side, CbsEntry.amount).where(*where)):
        if side == "D":
            debit += amount
        else:
            credit += amount
    return debit, credit


def _public(row: CbsPosting) -> Posting:
    return Posting(posting_id=row.posting_id, idempotency_key=row.idempotency_key, kind=row.kind,
                   reference=row.reference, amount=row.amount, posted_at=row.posted_at, reversed=row.reversed)
