"""Demo household archives, villages and data-warehouse contribution facts for the five demo farmers, so the
real-time rating reads archives as it does in production (idempotent: adds only what is missing). Each
archive is complete, as a submitted one must be: the head's address and three members besides the head
here; the ID card and house photos come from services/demo_archives.py, through the imaging adapter.

With the shipped scorecard a 50,000 credit loan still comes out as db/seed.py promises: 陈建国 and 林秀英 AA
(credit village, own house), 黄志明 AAA, 郑小红 B (low net income: an approver decides), 吴大勇 blacklisted.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from db.models import (
    ContributionFacts,
    Customer,
    Household,
    HouseholdFinance,
    HouseholdMember,
    HouseholdProduction,
    StaffUser,
)
from domain.identity import resident_id_for

D = Decimal
# The villages come from db/archive_seed.py (坝下村 350322101201 is a credit village, 紫泽村 ...202 is not).
# Each archive's totals are its items' sums, as the archive service keeps them: one production item for the
# main business and one line per finance category.
PRODUCTION = {"crop": ("crop", "rice", "亩"), "livestock": ("livestock", "pig", "头"),
              "business": ("business", "furniture", "家")}
# customer_no: village, business, years, acreage, livestock, income, expenses, assets, liabilities, house,
#              (avg daily assets, the year before, avg loan balance, settlement txns, months, products)
HOUSEHOLDS = {
    "C0000000001": ("350322101201", "crop", 15, "12", 0, "96000", "20000", "420000", "30000", True,
                    ("180000", "150000", "0", 120, 96, 3)),
    "C0000000002": ("350322101201", "crop", 8, "6", 0, "72000", "12000", "260000", "20000", True,
                    ("60000", "58000", "0", 40, 60, 2)),
    "C0000000003": ("350322101201", "livestock", 12, "20", 300, "135000", "15000", "780000", "50000", True,
                    ("420000", "300000", "80000", 260, 120, 4)),
    "C0000000004": ("350322101202", "crop", 4, "3", 0, "24000", "4000", "150000", "20000", True,
                    ("8000", "9000", "0", 12, 18, 1)),
    "C0000000005": ("350322101202", "business", 10, "0", 0, "88000", "30000", "350000", "40000", True,
                    ("30000", "60000", "50000", 30, 40, 2)),
}
# customer_no: address, then the members besides the head: (relation, name, birth date, ID sequence (odd =
# male), labourer, occupation). Two labourers per household (the head and one more), as the archives say.
MEMBERS = {
    "C0000000001": ("榜头镇坝下村 12 号", [("spouse", "林美华", date(1985, 4, 2), 12, True, "务农"),
                                      ("child", "陈志远", date(2010, 9, 1), 13, False, "学生"),
                                      ("parent", "陈德福", date(1956, 1, 20), 15, False, "退休")]),
    "C0000000002": ("榜头镇坝下村 27 号", [("spouse", "吴建华", date(1983, 2, 14), 21, True, "务农"),
                                      ("child", "吴佳怡", date(2011, 6, 30), 24, False, "学生"),
                                      ("child", "吴佳豪", date(2014, 3, 8), 25, False, "学生")]),
    "C0000000003": ("榜头镇坝下村 3 号", [("spouse", "郑丽娟", date(1991, 12, 5), 32, True, "养殖"),
                                     ("child", "黄子轩", date(2016, 5, 19), 33, False, "学生"),
                                     ("parent", "黄秀兰", date(1962, 8, 11), 34, False, "务农")]),
    "C0000000004": ("榜头镇紫泽村 8 号", [("spouse", "方国强", date(1990, 10, 1), 41, True, "务工"),
                                     ("child", "方雨桐", date(2017, 1, 26), 44, False, "学生"),
                                     ("parent", "郑玉梅", date(1965, 4, 4), 46, False, "务农")]),
    "C0000000005": ("榜头镇紫泽村 15 号", [("spouse", "蔡秋月", date(1986, 7, 7), 52, True, "家具厂帮工"),
                                      ("child", "吴俊杰", date(2009, 11, 3), 53, False, "学生"),
                                      ("child", "吴欣怡", date(2013, 2, 17), 54, False, "学生")]),
}
REGION = "350322"  # 福建省莆田市仙游县: the demo branches' county, its customers' and members' IDs


def seed_demo_archives(session: Session, *, branch_code: str, now: datetime) -> dict[str, int]:
    added = {"household": 0, "household_member": 0, "contribution_facts": 0}
    manager = session.exec(select(StaffUser.id).where(StaffUser.username == "manager01")).first()
    for customer_no, spec in HOUSEHOLDS.items():
        customer = session.exec(select(Customer).where(Customer.customer_no == customer_no)).first()
        if customer is None or customer.id is None:
            continue
        village, business, years, acreage, heads, income, expenses, assets, liabilities, house, dw = spec
        household = session.exec(select(Household).where(Household.customer_id == customer.id)).first()
        if household is None:
            household = Household(
                customer_id=customer.id, village_code=village, branch_code=branch_code, manager_staff_id=manager,
                status="archived", member_count=4, labour_count=2, main_business=business, acreage_mu=D(acreage),
                livestock_heads=heads, business_years=years, house_owned=house, annual_income=D(income),
                annual_expenses=D(expenses), total_assets=D(assets), total_liabilities=D(liabilities),
                archived_at=now, created_at=now, updated_at=now)
            session.add(household)
            session.flush()
            _add_items(session, household, business)
            added["household"] += 1
        added["household_member"] += _add_members(session, customer, household, customer_no)
        if session.get(ContributionFacts, customer.id) is None:
            avg, prev, loans, txns, months, products = dw
            session.add(ContributionFacts(
                customer_id=customer.id, as_of=date(now.year, now.month, 1), avg_daily_assets=D(avg),
                avg_daily_assets_prev=D(prev), avg_loan_balance=D(loans), settlement_txns=txns,
                months_as_customer=months, products_held=products))
            added["contribution_facts"] += 1
    return added


def _add_members(session: Session, customer: Customer, household: Household, customer_no: str) -> int:
    """The head's address and the members besides the head, where the archive has none yet."""
    if household.id is None or customer_no not in MEMBERS:
        return 0
    address, members = MEMBERS[customer_no]
    if not customer.address:
        customer.address = "福建省莆田市仙游县" + address
        session.add(customer)
    if session.exec(select(HouseholdMember.id).where(HouseholdMember.household_id == household.id)).first():
        return 0
    for seq, (relation, name, born, id_seq, labour, occupation) in enumerate(members, start=1):
        session.add(HouseholdMember(household_id=household.id, seq=seq, relation=relation, name=name,
                                    resident_id=resident_id_for(REGION, born, id_seq), birth_date=born,
                                    is_labour=labour, occupation=occupation,
                                    mobile=f"139{int(customer_no[1:]):04d}{seq:04d}" if relation == "spouse" else None))
    return len(members)


def _add_items(session: Session, household: Household, business: str) -> None:
    assert household.id is not None
    kind, code, unit = PRODUCTION[business]
    quantity = D(household.livestock_heads) if kind == "livestock" else household.acreage_mu if kind == "crop" else D(1)
    session.add(HouseholdProduction(household_id=household.id, seq=1, kind=kind, code=code, quantity=quantity,
                                    unit=unit, acreage_mu=household.acreage_mu, annual_revenue=household.annual_income))
    lines = [("income", business, household.annual_income), ("expense", "production", household.annual_expenses),
             ("asset", "house" if household.house_owned else "other", household.total_assets),
             ("liability", "bank_loan", household.total_liabilities)]
    for seq, (category, finance_kind, amount) in enumerate((line for line in lines if line[2] > 0), start=1):
        session.add(HouseholdFinance(household_id=household.id, seq=seq, category=category, kind=finance_kind,
                                     amount=amount))
