"""Test data: branches, the product, staff and customers with valid resident IDs, unique per call."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from db.engine import session_scope
from db.models import (
    Branch,
    CreditLine,
    Customer,
    LoanApplication,
    LoanNote,
    Product,
    ScheduleInstallment,
    StaffUser,
)
from domain.identity import birth_date_of, resident_id_for
from domain.products import ProductTerms, nongedai_default
from domain.schedule import add_months, build_schedule
from domain.servicing import penalty_rate_for
from workflows.messages import LoanApplicationInput
from workflows.names import application_workflow_id, credit_line_workflow_id

COUNTY, BRANCH = "350322000", "350322101"
PASSWORD = "test-password"
_seq = itertools.count(1)
_hash = PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD)


def resident_id(region: str = "350322", born: date = date(1985, 6, 15)) -> str:
    """A valid ID no other call in this session gave: the sequence code has 1,000 values per birth date,
    so past those the birth date moves on a day. (A repeat is another test's customer on file: seen as a
    whitelist row refused for a name that did not match.)"""
    n = next(_seq)
    return resident_id_for(region, born + timedelta(days=n // 1000), n % 1000)


def ensure_reference_data(engine: Engine) -> ProductTerms:
    product = nongedai_default()
    with session_scope(engine) as s:
        if s.get(Branch, COUNTY) is None:
            s.add(Branch(code=COUNTY, name="仙游县农村信用合作联社", region_code="350322", address="福建省莆田市仙游县鲤城街道八二一街"))
            s.flush()
            s.add(Branch(code=BRANCH, name="榜头信用社", region_code="350322", parent_code=COUNTY,
                         address="福建省莆田市仙游县榜头镇"))
            s.add(Product(code=product.code, version=product.version, name=product.name,
                          terms=product.model_dump(mode="json")))
    return product


def staff(engine: Engine, role: str, *, branch: str = BRANCH, authority: str = "0") -> StaffUser:
    n = next(_seq)
    user = StaffUser(username=f"{role}{n}", display_name=f"{role} {n}", role=role, branch_code=branch,
                     password_hash=_hash, authority_limit=Decimal(authority))
    with session_scope(engine) as s:
        s.add(user)
    return user


def customer(engine: Engine, *, income: str = "120000", assets: str = "600000", liabilities: str = "20000",
             born: date = date(1985, 6, 15), region: str = "350322", blacklisted: bool = False,
             name: str = "林阿福") -> Customer:
    rid = resident_id(region, born)
    n = next(_seq)
    row = Customer(customer_no=f"C{n:010d}", resident_id=rid, name=name, mobile=f"138{n:08d}", birth_date=birth_date_of(rid),
                   region_code=region, address="福建省莆田市仙游县榜头镇坝下村", branch_code=BRANCH,
                   annual_income=Decimal(income), total_assets=Decimal(assets), total_liabilities=Decimal(liabilities),
                   blacklisted=blacklisted, created_at=datetime.now(UTC))
    with session_scope(engine) as s:
        s.add(row)
    return row


def application(engine: Engine, borrower: Customer, *, amount: str = "50000", term_months: int = 12,
                method: str = "equal_installment", guarantee_type: str = "credit", channel: str = "self_service",
                initiator: StaffUser | None = None, number: int | None = None) -> LoanApplication:
    """`number` overrides the row id in the app_no, for a second database on the same Temporal server."""
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        row = LoanApplication(app_no=f"TMP{next(_seq)}", workflow_id=f"tmp-{next(_seq)}", customer_id=borrower.id,
                              product_code="NONG_E_DAI", product_version=1, amount=Decimal(amount),
                              term_months=term_months, repayment_method=method, guarantee_type=guarantee_type,
                              purpose="种植", channel=channel, branch_code=BRANCH,
                              initiator_staff_id=initiator.id if initiator else None, created_at=now, updated_at=now)
        s.add(row)
        s.flush()
        row.app_no = f"LA{now:%Y%m%d}{number or row.id:06d}"
        row.workflow_id = application_workflow_id(row.app_no)
        s.add(row)
    return row


def loan_input(row: LoanApplication, product: ProductTerms, guarantors: list[Customer] = ()) -> LoanApplicationInput:
    return LoanApplicationInput(
        application_id=row.id, app_no=row.app_no, customer_id=row.customer_id, product=product, amount=row.amount,
        term_months=row.term_months, repayment_method=row.repayment_method, guarantee_type=row.guarantee_type,
        channel=row.channel, branch_code=row.branch_code, escalation_branch_code=COUNTY,
        initiator_staff_id=row.initiator_staff_id, guarantor_customer_ids=[g.id for g in guarantors])


def disbursed_note(engine: Engine, *, amount: str = "12000", months: int = 12, method: str = "equal_principal",
                   rate: str = "0.0480", start: date = date(2026, 1, 10), borrower: Customer | None = None,
                   line: CreditLine | None = None) -> LoanNote:
    """A note already disbursed, with its schedule, as the drawdown workflow leaves it (no Temporal needed)."""
    if line is None:
        ensure_reference_data(engine)
        borrower = borrower or customer(engine)
        app = application(engine, borrower)
        with session_scope(engine) as s:
            line = CreditLine(line_no="CL" + app.app_no[2:], workflow_id=credit_line_workflow_id("CL" + app.app_no[2:]),
                              application_id=app.id, customer_id=borrower.id, branch_code=BRANCH,
                              product_code="NONG_E_DAI", amount=Decimal("300000"), annual_rate=Decimal(rate),
                              start_date=start, expiry_date=add_months(start, 36), max_term_months=36,
                              created_at=datetime.now(UTC))
            s.add(line)
    schedule = build_schedule(Decimal(amount), Decimal(rate), months, method, start)
    with session_scope(engine) as s:
        n = next(_seq)
        note = LoanNote(note_no=f"{line.line_no}-{n:03d}", line_id=line.id, customer_id=line.customer_id,
                        amount=Decimal(amount), term_months=months, repayment_method=method, annual_rate=Decimal(rate),
                        status="disbursed", start_date=start, maturity_date=schedule[-1].due_date,
                        created_at=datetime.now(UTC), disbursed_at=datetime.now(UTC),
                        penalty_rate=penalty_rate_for(Decimal(rate), Decimal("0.5")),
                        outstanding_principal=Decimal(amount))
        s.add(note)
        s.flush()
        s.add_all(ScheduleInstallment(note_id=note.id, **i.model_dump()) for i in schedule)
    return note
