"""Demo data for `nongedai up` and tests: the 农e贷 product, two branches, staff and farmers (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from argon2 import PasswordHasher
from sqlalchemy.engine import Engine
from sqlmodel import select

from db import archive_seed, lpr_store, rule_store
from db.engine import session_scope
from db.models import Branch, Customer, Product, StaffUser
from db.repositories import rating_models
from db.seed_archives import REGION, seed_demo_archives
from domain.identity import resident_id_for
from domain.products import nongedai_default

# Printed by `nongedai up`; the CLI refuses to seed in production, so this never guards real accounts.
DEMO_PASSWORD = "nongedai-demo"

COUNTY_BRANCH = "350322000"
TOWNSHIP_BRANCH = "350322101"

@dataclass(frozen=True)
class BranchSpec:
    code: str
    name: str
    region_code: str
    parent_code: str | None


@dataclass(frozen=True)
class StaffSpec:
    username: str
    display_name: str
    role: str
    branch_code: str
    authority_limit: Decimal = Decimal("0")


@dataclass(frozen=True)
class CustomerSpec:
    customer_no: str
    name: str
    mobile: str
    birth_date: date
    sequence: int
    annual_income: Decimal
    total_assets: Decimal
    total_liabilities: Decimal
    blacklisted: bool
    demo_role: str

    @property
    def resident_id(self) -> str:
        return resident_id_for(REGION, self.birth_date, self.sequence)


def demo_branch_specs() -> list[BranchSpec]:
    return [
        BranchSpec(COUNTY_BRANCH, "仙游县农村信用合作联社", REGION, None),
        BranchSpec(TOWNSHIP_BRANCH, "榜头信用社", REGION, COUNTY_BRANCH),
    ]


def demo_staff_specs() -> list[StaffSpec]:
    return [
        StaffSpec("manager01", "王磊", "customer_manager", TOWNSHIP_BRANCH),
        StaffSpec("manager02", "陈晨", "customer_manager", TOWNSHIP_BRANCH),
        StaffSpec("approver01", "李娜", "approver", TOWNSHIP_BRANCH, Decimal("100000")),
        StaffSpec("approver02", "张伟", "approver", COUNTY_BRANCH, Decimal("300000")),
        StaffSpec("ops01", "刘洋", "ops", COUNTY_BRANCH),
        StaffSpec("admin01", "赵敏", "admin", COUNTY_BRANCH),
    ]


def demo_customer_specs() -> list[CustomerSpec]:
    """Farmers of 榜头. With the spine scorecard a 50,000 credit loan is approved automatically for the
    first three, goes to an approver for 郑小红 (grade B, low income) and is refused for 吴大勇 (blacklist)."""

    def spec(n: int, name: str, birth: date, seq: int, income: int, assets: int, liabilities: int,
             role: str, blacklisted: bool = False) -> CustomerSpec:
        return CustomerSpec(customer_no=f"C{n:010d}", name=name, mobile=f"138{n:08d}", birth_date=birth,
                            sequence=seq, annual_income=Decimal(income), total_assets=Decimal(assets),
                            total_liabilities=Decimal(liabilities), blacklisted=blacklisted, demo_role=role)

    return [
        spec(1, "陈建国", date(1983, 3, 15), 11, 96_000, 420_000, 30_000, "borrower: auto-approved (AA)"),
        spec(2, "林秀英", date(1985, 7, 22), 22, 72_000, 260_000, 20_000, "borrower or guarantor (AA)"),
        spec(3, "黄志明", date(1990, 11, 8), 31, 135_000, 780_000, 50_000,
             "guarantor; above 100,000 goes to an approver (AAA)"),
        spec(4, "郑小红", date(1992, 5, 30), 42, 24_000, 150_000, 20_000, "low income: manual review (B)"),
        spec(5, "吴大勇", date(1984, 9, 12), 53, 88_000, 350_000, 40_000, "blacklisted: refused", blacklisted=True),
    ]


def seed_demo(engine: Engine, *, now: datetime) -> dict[str, int]:
    """Insert whatever demo rows are missing; existing rows are left as they are. Returns rows added per kind."""
    added = {"product": 0, "rule_set": 0, "lpr_rate": 0, "branch": 0, "staff": 0, "customer": 0,
             "village": 0, "archive_code": 0}
    hasher = PasswordHasher()
    terms = nongedai_default()
    with session_scope(engine) as session:
        product = session.get(Product, terms.code)
        if product is None:
            session.add(Product(code=terms.code, version=terms.version, name=terms.name,
                                terms=terms.model_dump(mode="json")))
            added["product"] += 1
        elif product.version < terms.version:
            # A newer default in code replaces an older seeded one; same-version edits made by staff stay.
            product.version, product.name, product.terms = terms.version, terms.name, terms.model_dump(mode="json")
            session.add(product)
        added["rule_set"] = len(rule_store.install_shipped(session, terms.code, now))
        added["lpr_rate"] = lpr_store.install_defaults(session, now)
        for b in demo_branch_specs():
            if session.get(Branch, b.code) is None:
                session.add(Branch(code=b.code, name=b.name, region_code=b.region_code, parent_code=b.parent_code))
                added["branch"] += 1
        session.flush()  # branches before the rows that reference them
        added["village"] = archive_seed.install_villages(session, TOWNSHIP_BRANCH)
        added["archive_code"] = archive_seed.install_codes(session)
        for s in demo_staff_specs():
            if session.exec(select(StaffUser).where(StaffUser.username == s.username)).first() is None:
                session.add(StaffUser(username=s.username, display_name=s.display_name, role=s.role,
                                      branch_code=s.branch_code, password_hash=hasher.hash(DEMO_PASSWORD),
                                      authority_limit=s.authority_limit))
                added["staff"] += 1
        for c in demo_customer_specs():
            if session.exec(select(Customer).where(Customer.customer_no == c.customer_no)).first() is None:
                session.add(Customer(customer_no=c.customer_no, resident_id=c.resident_id, name=c.name,
                                     mobile=c.mobile, birth_date=c.birth_date, region_code=REGION,
                                     branch_code=TOWNSHIP_BRANCH, customer_type="farmer",
                                     annual_income=c.annual_income, total_assets=c.total_assets,
                                     total_liabilities=c.total_liabilities, blacklisted=c.blacklisted,
                                     created_at=now))
                added["customer"] += 1
        session.flush()
        added["rating_model"] = rating_models.install_shipped(session, now)
        added.update(seed_demo_archives(session, branch_code=TOWNSHIP_BRANCH, now=now))
    return added
