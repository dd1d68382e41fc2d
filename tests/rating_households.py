"""Household archives for the rating batch tests: a village, households with their facts, contribution
facts from the data warehouse, and a current rating to migrate from."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from db.engine import session_scope
from db.models import ContributionFacts, CustomerRating, Household, RatingRecord, Village
from tests import factories

VILLAGE, CREDIT_VILLAGE = "350322101001", "350322101002"
AS_OF = date(2026, 12, 1)  # the rating date the tests use


def villages(engine: Engine) -> None:
    factories.ensure_reference_data(engine)
    with session_scope(engine) as s:
        if s.get(Village, VILLAGE) is None:
            s.add(Village(code=VILLAGE, name="坝下村", branch_code=factories.BRANCH))
            s.add(Village(code=CREDIT_VILLAGE, name="榜头村", branch_code=factories.BRANCH, credit_village=True))


def household(engine: Engine, *, born: date = date(1980, 3, 1), status: str = "archived", blacklisted: bool = False,
              contribution: dict[str, Any] | None = None, no_contribution: bool = False,
              credit_village: bool = False, **facts: Any) -> Household:
    """An archived household with sensible facts; keyword arguments override Household columns."""
    person = factories.customer(engine, born=born, blacklisted=blacklisted)
    now = datetime.now(UTC)
    values: dict[str, Any] = dict(member_count=4, labour_count=2, acreage_mu=Decimal("8.5"), livestock_heads=20,
                                  business_years=6, house_owned=True, annual_income=Decimal("90000"),
                                  annual_expenses=Decimal("20000"), total_assets=Decimal("300000"),
                                  total_liabilities=Decimal("60000"))
    values.update(facts)
    row = Household(customer_id=person.id, village_code=CREDIT_VILLAGE if credit_village else VILLAGE,
                    branch_code=factories.BRANCH, status=status, archived_at=now if status == "archived" else None,
                    created_at=now, updated_at=now, **values)
    with session_scope(engine) as s:
        s.add(row)
        if not no_contribution:
            s.add(ContributionFacts(customer_id=person.id, as_of=date(2026, 9, 30),
                                    **({"avg_daily_assets": Decimal("150000"), "avg_loan_balance": Decimal("20000"),
                                        "settlement_txns": 120} | (contribution or {}))))
    return row


def current_rating(engine: Engine, customer_id: int, grade: str, *, score: int = 75) -> None:
    """A real-time rating in force before the batch runs."""
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        record = RatingRecord(customer_id=customer_id, model_version="NONG_E_DAI_CREDIT@v1", score=score, grade=grade,
                              credit_limit=Decimal("0"), rated_at=now, stars=3, source="realtime")
        s.add(record)
        s.flush()
        s.add(CustomerRating(customer_id=customer_id, rating_record_id=record.id, model_version=record.model_version,
                             score=score, grade=grade, stars=3, source="realtime", rated_at=now))


def archive(engine):
    """Six households to rate (grades worked out in the comments), a draft and four that cannot be rated."""
    villages(engine)
    h = {}
    # 30 base + age 46: 8 + net income 70,000: 14 + net assets 240,000: 12 + debt 0.2: 12 + 6 years: 4
    # + house 3 + contribution 150 + 10 + 24 = 184 points: 3 stars: 1  -> 84 AA
    h["new"] = household(engine)
    h["up"] = household(engine, credit_village=True, annual_income=Decimal("200000"))  # 84 + 6 + 3 = 93 AAA
    h["down"] = household(engine, annual_income=Decimal("30000"))  # 84 - 14 = 70 A
    h["same"] = household(engine)  # 84 AA
    h["black"] = household(engine, blacklisted=True)
    h["old"] = household(engine, born=date(1950, 5, 5))  # 76: AGE_OUT_OF_RANGE
    h["draft"] = household(engine, status="draft")
    h["negative"] = household(engine, annual_income=Decimal("-5"))
    h["future"] = household(engine, born=date(2027, 1, 1))
    h["no_facts"] = household(engine, no_contribution=True)
    h["labour"] = household(engine, labour_count=6, member_count=4, acreage_mu=Decimal("-1"))
    for key, grade in (("up", "A"), ("down", "AA"), ("same", "AA"), ("black", "AA"), ("draft", "B")):
        current_rating(engine, h[key].customer_id, grade)
    return h
