"""Rows and tokens for API tests; identifiers are unique per call so tests share one database safely."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from stdnum.cn import ric

from config.settings import Settings
from db.engine import session_scope
from db.models import Branch, CreditLine, Customer, Document, Guarantee, LoanApplication, StaffUser
from domain.identity import resident_id_for
from services import tokens
from services.principal import CUSTOMER, Principal
from tests.factories import ensure_reference_data
from workflows.names import application_workflow_id, credit_line_workflow_id, guarantor_workflow_id

COUNTY, BRANCH_A, BRANCH_B = "API-CTY", "API-A", "API-B"
PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)
_hash = PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD)


def now() -> datetime:
    return datetime.now(UTC)


def resident_id() -> str:
    n = next(_seq)
    return resident_id_for("350102", date(1985, 1, 1) + timedelta(days=n), n % 1000)


def mobile() -> str:
    return f"159{next(_seq):08d}"


def ensure_reference(engine: Engine) -> None:
    # The product row is shared with the workflow tests' factory, which inserts it with its branches.
    ensure_reference_data(engine)
    with session_scope(engine) as s:
        if s.get(Branch, COUNTY) is None:
            s.add(Branch(code=COUNTY, name="测试县联社", region_code="350102"))
            s.flush()
            s.add(Branch(code=BRANCH_A, name="测试甲信用社", region_code="350102", parent_code=COUNTY))
            s.add(Branch(code=BRANCH_B, name="测试乙信用社", region_code="350102", parent_code=COUNTY))


def add_staff(engine: Engine, role: str, *, branch: str = BRANCH_A, authority: str = "0",
              active: bool = True) -> StaffUser:
    user = StaffUser(username=f"api-{role}-{next(_seq)}", display_name=role, role=role, branch_code=branch,
                     password_hash=_hash, authority_limit=Decimal(authority), active=active)
    with session_scope(engine) as s:
        s.add(user)
    return user


def add_customer(engine: Engine, *, branch: str = BRANCH_A, name: str = "林阿福") -> Customer:
    rid = resident_id()
    row = Customer(customer_no=f"T{next(_seq):010d}", resident_id=rid, name=name, mobile=mobile(),
                   birth_date=ric.get_birth_date(rid), region_code=rid[:6], branch_code=branch, created_at=now())
    with session_scope(engine) as s:
        s.add(row)
    return row


def add_application(engine: Engine, borrower: Customer, *, branch: str | None = None, stage: str = "submitted",
                    status: str = "open", channel: str = "self_service", assignee: str | None = None,
                    initiator: StaffUser | None = None, amount: str = "50000.00") -> LoanApplication:
    at = now()
    with session_scope(engine) as s:
        row = LoanApplication(
            app_no=f"TMP{next(_seq)}", workflow_id=f"tmp-{next(_seq)}", customer_id=borrower.id, product_code="NONG_E_DAI",
            product_version=1, amount=Decimal(amount), term_months=12, repayment_method="equal_installment",
            guarantee_type="credit", purpose="planting", channel=channel, branch_code=branch or borrower.branch_code,
            initiator_staff_id=initiator.id if initiator else None, assignee=assignee, stage=stage, status=status,
            created_at=at, updated_at=at)
        s.add(row)
        s.flush()
        row.app_no = f"LA{at:%Y%m%d}{row.id:06d}"
        row.workflow_id = application_workflow_id(row.app_no)
        s.add(row)
    return row


def add_guarantee(engine: Engine, app: LoanApplication, guarantor: Customer, *, slot: int = 1,
                  status: str = "invited") -> Guarantee:
    row = Guarantee(application_id=app.id, slot=slot, guarantor_customer_id=guarantor.id, status=status,
                    workflow_id=guarantor_workflow_id(app.app_no, slot, 1), updated_at=now())
    with session_scope(engine) as s:
        s.add(row)
    return row


def add_document(engine: Engine, app: LoanApplication, signer: Customer, *, kind: str = "loan_contract",
                 sha256: str = "0" * 64, signed_sha256: str | None = None) -> Document:
    row = Document(doc_no=f"DOC{next(_seq):08d}", application_id=app.id, kind=kind, signer_customer_id=signer.id,
                   template_version="t1", sha256=sha256, signed_sha256=signed_sha256,
                   status="signed" if signed_sha256 else "issued", data_snapshot={"secret": "not exposed"},
                   created_at=now())
    with session_scope(engine) as s:
        s.add(row)
    return row


def add_line(engine: Engine, app: LoanApplication, *, amount: str = "100000.00", drawn: str = "0",
             outstanding: str = "0", revolving: bool = True) -> CreditLine:
    line_no = f"CL{next(_seq):08d}"
    row = CreditLine(line_no=line_no, workflow_id=credit_line_workflow_id(line_no), application_id=app.id,
                     customer_id=app.customer_id, branch_code=app.branch_code, product_code="NONG_E_DAI",
                     amount=Decimal(amount), revolving=revolving, annual_rate=Decimal("0.046"),
                     start_date=date(2026, 1, 1), expiry_date=date(2029, 1, 1), max_term_months=36,
                     drawn_total=Decimal(drawn), outstanding_principal=Decimal(outstanding), created_at=now())
    with session_scope(engine) as s:
        s.add(row)
    return row


def staff_headers(settings: Settings, user: StaffUser) -> dict[str, str]:
    principal = Principal(kind="staff", id=user.id, role=user.role, branch_code=user.branch_code)
    return {"Authorization": f"Bearer {tokens.issue(settings, principal, now())}"}


def customer_headers(settings: Settings, customer: Customer) -> dict[str, str]:
    principal = Principal(kind="customer", id=customer.id, role=CUSTOMER)
    return {"Authorization": f"Bearer {tokens.issue(settings, principal, now())}"}


def key(**headers: str) -> dict[str, str]:
    """Headers plus a fresh Idempotency-Key."""
    return {**headers, "Idempotency-Key": f"k-{next(_seq)}-{now().timestamp()}"}
