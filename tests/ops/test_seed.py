"""The demo seed: valid identifiers, the intended credit outcomes, and safe to run on every `up`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func
from sqlmodel import Session, select
from stdnum.cn import ric

from cli.migrate import upgrade
from db.engine import make_engine
from db.models import Branch, Customer, Product, StaffUser
from db.rule_store import shipped
from db.seed import DEMO_PASSWORD, demo_customer_specs, demo_staff_specs, seed_demo
from domain.approval import decide
from domain.identity import normalise_mobile, normalise_resident_id, resident_id_for
from domain.products import nongedai_default
from services.ratings import rate_customer

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_resident_id_check_character_matches_gb11643() -> None:
    # The worked example of GB 11643-1999.
    assert resident_id_for("110105", date(1949, 12, 31), 2) == "11010519491231002X"


def test_demo_identifiers_are_valid() -> None:
    specs = demo_customer_specs()
    for c in specs:
        assert ric.is_valid(c.resident_id) and normalise_resident_id(c.resident_id) == c.resident_id
        assert normalise_mobile(c.mobile) == c.mobile
        assert len(c.customer_no) == 11 and c.customer_no[0] == "C" and c.customer_no[1:].isdigit()
        assert 1970 <= c.birth_date.year <= 1995
    assert [c.mobile for c in specs] == [f"1380000000{i}" for i in range(1, len(specs) + 1)]


def _decisions(engine, amount: str) -> dict[str, tuple[str, str]]:
    """Each demo farmer rated in real time from the seeded archive, then the shipped approval rule set."""
    product = nongedai_default()
    rule_set, _ = shipped("NONG_E_DAI", "approval")
    out = {}
    with Session(engine) as s:
        for c in s.exec(select(Customer).order_by(Customer.id)).all():
            _, rating = rate_customer(s, c.id, terms=product, as_of=NOW.date(), now=NOW)
            out[c.name] = (rating.grade, decide(product, Decimal(amount), "credit", rating, rule_set=rule_set).decision)
        s.commit()
    return out


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'seed.db'}"
    upgrade(url, quiet=True)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {m.__name__: s.exec(select(func.count()).select_from(m)).one() for m in (Product, Branch, StaffUser, Customer)}


def test_demo_customers_cover_each_outcome_of_a_50000_credit_loan(sqlite_engine) -> None:
    seed_demo(sqlite_engine, now=NOW)
    assert _decisions(sqlite_engine, "50000") == {
        "陈建国": ("AA", "approve"), "林秀英": ("AA", "approve"), "黄志明": ("AAA", "approve"),
        "郑小红": ("B", "manual_review"), "吴大勇": ("C", "reject")}


def test_seed_is_idempotent(sqlite_engine) -> None:
    assert seed_demo(sqlite_engine, now=NOW) == {"product": 1, "rule_set": 5, "lpr_rate": 4, "branch": 2, "staff": 6,
                                                 "customer": 5, "village": 5, "archive_code": 20, "rating_model": 2, "household": 5,
                                                 "household_member": 15, "contribution_facts": 5}
    first = _counts(sqlite_engine)
    assert seed_demo(sqlite_engine, now=NOW) == {"product": 0, "rule_set": 0, "lpr_rate": 0, "branch": 0, "staff": 0,
                                                 "customer": 0, "village": 0, "archive_code": 0, "rating_model": 0, "household": 0,
                                                 "household_member": 0, "contribution_facts": 0}
    assert _counts(sqlite_engine) == first == {"Product": 1, "Branch": 2, "StaffUser": 6, "Customer": 5}


def test_seeded_rows(sqlite_engine) -> None:
    seed_demo(sqlite_engine, now=NOW)
    with Session(sqlite_engine) as s:
        product = s.get(Product, "NONG_E_DAI")
        assert product.terms == nongedai_default().model_dump(mode="json")
        assert s.get(Branch, "350322101").parent_code == "350322000"
        assert s.get(Branch, "350322000").name == "仙游县农村信用合作联社"
        staff = {u.username: u for u in s.exec(select(StaffUser))}
        assert {u: (staff[u].role, staff[u].branch_code, staff[u].authority_limit) for u in staff} == {
            s_.username: (s_.role, s_.branch_code, s_.authority_limit) for s_ in demo_staff_specs()}
        assert staff["approver01"].authority_limit == Decimal("100000")
        assert staff["approver02"].authority_limit == Decimal("300000")
        assert PasswordHasher().verify(staff["manager01"].password_hash, DEMO_PASSWORD)
        blacklisted = s.exec(select(Customer).where(Customer.blacklisted)).all()
        assert [c.name for c in blacklisted] == ["吴大勇"]
        assert {c.branch_code for c in s.exec(select(Customer))} == {"350322101"}


def test_seed_on_postgresql(fresh_pg_url: str) -> None:
    upgrade(fresh_pg_url, quiet=True)
    engine = make_engine(fresh_pg_url)
    try:
        seed_demo(engine, now=NOW)
        assert seed_demo(engine, now=NOW)["customer"] == 0
        with Session(engine) as s:
            assert s.exec(select(Customer).where(Customer.mobile == "13800000004")).one().name == "郑小红"
    finally:
        engine.dispose()


def test_demo_archives_are_complete_with_members_and_photos(sqlite_engine) -> None:
    """As a submitted archive must be: `nongedai seed` / `up` add members, the head's address and the ID card
    and house photos (placeholders, through the imaging simulator), once."""
    from adapters.imaging.simulator import ImagingSimulator
    from cli.demo import seed_demo_data
    from db.models import Household, HouseholdImage, HouseholdMember
    from services.households import completeness_of

    assert seed_demo_data(sqlite_engine)["household_image"] == 15
    assert seed_demo_data(sqlite_engine)["household_image"] == 0
    imaging = ImagingSimulator(sqlite_engine)
    with Session(sqlite_engine) as s:
        for household in s.exec(select(Household)).all():
            head = s.get(Customer, household.customer_id)
            assert completeness_of(s, household, head).missing == [], head.customer_no
            members = s.exec(select(HouseholdMember).where(HouseholdMember.household_id == household.id)).all()
            assert len(members) == household.member_count - 1
            assert sum(m.is_labour for m in members) + 1 == household.labour_count
            # normalise_resident_id, not ric.is_valid: stdnum refuses parents born before the county code existed
            assert all(normalise_resident_id(m.resident_id) == m.resident_id
                       and ric.get_birth_date(m.resident_id) == m.birth_date for m in members)
            photos = s.exec(select(HouseholdImage).where(HouseholdImage.household_id == household.id)).all()
            assert sorted(p.kind for p in photos) == ["house", "id_back", "id_front"]
            assert all(imaging.get(p.sha256).startswith(b"\x89PNG") for p in photos)
