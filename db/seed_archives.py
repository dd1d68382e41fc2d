"""Demo household archives, villages and data-warehouse contribution facts for the five demo farmers, so the
real-time rating reads archives as it does in production (idempotent: adds only what is missing).

With the shipped scorecard a 50,000 credit loan still comes out as db/seed.py promises: 陈建国 and 林秀英 AA
(credit village, own house), 黄志明 AAA, 郑小红 B (low net income: an approver decides), 吴大勇 blacklisted.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from db.models import ContributionFacts, Customer, Household, HouseholdFinance, HouseholdProduction, StaffUser

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


def seed_demo_archives(session: Session, *, branch_code: str, now: datetime) -> dict[str, int]:
    added = {"household": 0, "contribution_facts": 0}
    manager = session.exec(select(StaffUser.id).where(StaffUser.username == "manager01")).first()
    for customer_no, spec in HOUSEHOLDS.items():
        customer = session.exec(select(Customer).where(Customer.customer_no == customer_no)).first()
        if customer is None or customer.id is None:
            continue
        village, business, years, acreage, heads, income, expenses, assets, liabilities, house, dw = spec
        if session.exec(select(Household.id).where(Household.customer_id == customer.id)).first() is None:
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
        if session.get(ContributionFacts, customer.id) is None:
            avg, prev, loans, txns, months, products = dw
            session.add(ContributionFacts(
                customer_id=customer.id, as_of=date(now.year, now.month, 1), avg_daily_assets=D(avg),
                avg_daily_assets_prev=D(prev), avg_loan_balance=D(loans), settlement_txns=txns,
                months_as_customer=months, products_held=products))
            added["contribution_facts"] += 1
    return added


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
