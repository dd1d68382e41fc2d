"""The core-banking simulator's own ledger tables: accounts, postings, double-entry lines and faults."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from adapters.simkit import FaultRow, utc_field
from db.types import MoneyType


class CbsAccount(SQLModel, table=True):
    __tablename__ = "cbs_account"
    __table_args__ = (
        # One deposit account per customer (or payee, owner_ref 'CP:<ref>'), one loan account per note,
        # one row per GL account: the idempotency of opening.
        UniqueConstraint("kind", "owner_ref", name="uq_cbs_account_kind_owner"),
        CheckConstraint("kind IN ('deposit', 'loan', 'gl')", name="ck_cbs_account_kind"),
        CheckConstraint("status IN ('active', 'frozen')", name="ck_cbs_account_status"),
    )

    account_no: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=8)
    owner_ref: str = Field(
        max_length=40,
        description="customer_no (or 'CP:' + payee ref) for deposit accounts, note_no for loan accounts, "
                    "the account_no itself for GL accounts",
    )
    status: str = Field(default="active", max_length=8)
    opened_at: datetime = utc_field()


class CbsPosting(SQLModel, table=True):
    __tablename__ = "cbs_posting"
    __table_args__ = (
        CheckConstraint("kind IN ('deposit', 'disbursement', 'repayment', 'reversal')",
                        name="ck_cbs_posting_kind"),
        CheckConstraint("amount > 0", name="ck_cbs_posting_amount_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    posting_id: str = Field(unique=True, max_length=32)
    idempotency_key: str = Field(unique=True, max_length=128)
    kind: str = Field(max_length=16)
    reference: str = Field(index=True, max_length=64,
                           description="note_no of the loan; the credited account for a deposit")
    amount: Decimal = Field(sa_type=MoneyType)
    posted_at: datetime = utc_field()
    # Unique: a posting can be reversed once, whatever key the second attempt uses.
    reverses_key: str | None = Field(
        default=None, unique=True, max_length=128, foreign_key="cbs_posting.idempotency_key", nullable=True
    )
    reversed: bool = False


class CbsEntry(SQLModel, table=True):
    __tablename__ = "cbs_entry"
    __table_args__ = (
        CheckConstraint("side IN ('D', 'C')", name="ck_cbs_entry_side"),
        CheckConstraint("amount > 0", name="ck_cbs_entry_amount_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    posting_id: str = Field(foreign_key="cbs_posting.posting_id", index=True, max_length=32)
    account_no: str = Field(foreign_key="cbs_account.account_no", index=True, max_length=40)
    side: str = Field(max_length=1)
    amount: Decimal = Field(sa_type=MoneyType)


class CbsFault(FaultRow, table=True):
    __tablename__ = "cbs_fault"
