"""Ratings: the facts a rating reads (archive, village, customer flags, data-warehouse contribution), the
rating records with the customer's current rating, and the manual overrides waiting for a second person."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import (
    ContributionFacts,
    Customer,
    CustomerRating,
    Household,
    RatingOverride,
    RatingRecord,
    Village,
)
from domain.identity import age_on
from domain.money import to_fen
from domain.rating.scoring import HouseholdFacts


class RatingInputs(NamedTuple):
    facts: HouseholdFacts
    policy_tags: list[str]
    archived: bool  # an archived household was found; else the customer's own columns stood in
    contribution_facts: bool  # the data warehouse has sent this customer's figures; else they count as 0


def household_facts(session: Session, customer: Customer, as_of: date) -> RatingInputs:
    """What a rating reads. Without an archived household the customer's own income and asset columns
    stand in, as the spine's scorecard read them; without contribution facts the contribution is 0."""
    assert customer.id is not None
    household = session.exec(select(Household).where(Household.customer_id == customer.id,
                                                     Household.status == "archived")).first()
    dw = session.get(ContributionFacts, customer.id)
    common: dict[str, Any] = dict(
        customer_id=customer.id, age=age_on(customer.birth_date, as_of), customer_type=customer.customer_type,
        blacklisted=customer.blacklisted, currently_overdue=customer.currently_overdue,
        bad_history=customer.bad_history, court_dishonest=customer.court_dishonest)
    if dw is not None:
        common.update(avg_daily_assets=dw.avg_daily_assets, avg_daily_assets_prev=dw.avg_daily_assets_prev,
                      avg_loan_balance=dw.avg_loan_balance, settlement_txns=dw.settlement_txns,
                      months_as_customer=dw.months_as_customer, products_held=dw.products_held)
    if household is None:
        return RatingInputs(_facts(**common, annual_income=customer.annual_income, total_assets=customer.total_assets,
                                   total_liabilities=customer.total_liabilities), [], False, dw is not None)
    village = session.get(Village, household.village_code)
    facts = _facts(
        **common, annual_income=household.annual_income, annual_expenses=household.annual_expenses,
        total_assets=household.total_assets, total_liabilities=household.total_liabilities,
        acreage_mu=household.acreage_mu, livestock_heads=household.livestock_heads,
        business_years=household.business_years, labour_count=household.labour_count,
        house_owned=household.house_owned, credit_village=bool(village and village.credit_village))
    return RatingInputs(facts, [str(t) for t in household.policy_tags], True, dw is not None)


def _facts(**values: Any) -> HouseholdFacts:
    # Two decimals always, as the columns hold them: the same facts read fresh or from an object just
    # written make the same snapshot (an approved override holds while the snapshot is unchanged).
    return HouseholdFacts(**{k: to_fen(v) if isinstance(v, Decimal) else v for k, v in values.items()})


def by_request_key(session: Session, key: str) -> RatingRecord | None:
    return session.exec(select(RatingRecord).where(RatingRecord.request_key == key)).first()


def insert_record(session: Session, *, customer_id: int, model_version: str, score: int, grade: str,
                  credit_limit: Decimal, stars: int, reasons: list[str], inputs: dict[str, Any],
                  detail: dict[str, Any], source: str, now: datetime, application_id: int | None = None,
                  request_key: str | None = None) -> RatingRecord:
    """A rating record, and the customer's current rating pointed at it (flushes, does not commit)."""
    row = RatingRecord(customer_id=customer_id, application_id=application_id, model_version=model_version,
                       score=score, grade=grade, credit_limit=credit_limit, stars=stars, reasons=reasons,
                       inputs=inputs, detail=detail, source=source, rated_at=now, request_key=request_key)
    session.add(row)
    session.flush()
    assert row.id is not None
    current = session.get(CustomerRating, customer_id, with_for_update=True)
    if current is None:
        try:
            with session.begin_nested():  # two first ratings at once: the second updates the first's row
                session.add(CustomerRating(customer_id=customer_id, rating_record_id=row.id,
                                           model_version=model_version, score=score, grade=grade, stars=stars,
                                           source=source, rated_at=now))
            return row
        except IntegrityError:
            current = session.get(CustomerRating, customer_id, with_for_update=True, populate_existing=True)
            assert current is not None
    current.rating_record_id, current.model_version, current.score = row.id, model_version, score
    current.grade, current.stars, current.source, current.rated_at = grade, stars, source, now
    session.add(current)
    session.flush()
    return row


def current(session: Session, customer_id: int) -> CustomerRating | None:
    return session.get(CustomerRating, customer_id)


def record(session: Session, record_id: int) -> RatingRecord | None:
    return session.get(RatingRecord, record_id)


def history(session: Session, customer_id: int, *, limit: int, offset: int) -> Sequence[RatingRecord]:
    return session.exec(select(RatingRecord).where(RatingRecord.customer_id == customer_id)
                        .order_by(col(RatingRecord.id).desc()).offset(offset).limit(limit)).all()


def insert_override(session: Session, **fields: Any) -> RatingOverride:
    row = RatingOverride(**fields)
    session.add(row)
    session.flush()
    return row


def override(session: Session, override_id: int, *, lock: bool = False) -> RatingOverride | None:
    return session.get(RatingOverride, override_id, with_for_update=lock)


def latest_approved_override(session: Session, customer_id: int) -> RatingOverride | None:
    return session.exec(select(RatingOverride).where(RatingOverride.customer_id == customer_id,
                                                     RatingOverride.status == "approved")
                        .order_by(col(RatingOverride.id).desc())).first()


def pending_override(session: Session, customer_id: int) -> RatingOverride | None:
    return session.exec(select(RatingOverride).where(RatingOverride.customer_id == customer_id,
                                                     RatingOverride.status == "pending")).first()


def overrides(session: Session, *, status: str | None, branch_code: str | None, limit: int,
              offset: int) -> Sequence[RatingOverride]:
    query = select(RatingOverride)
    if status:
        query = query.where(RatingOverride.status == status)
    if branch_code is not None:
        query = query.join(Customer, col(Customer.id) == RatingOverride.customer_id).where(
            Customer.branch_code == branch_code)
    return session.exec(query.order_by(col(RatingOverride.id).desc()).offset(offset).limit(limit)).all()


def customer_ids_by_number(session: Session, numbers: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(numbers), 1000):
        chunk = list(numbers[start:start + 1000])
        found.update({no: cid for no, cid in session.exec(select(Customer.customer_no, Customer.id).where(
            col(Customer.customer_no).in_(chunk))).all() if cid is not None})
    return found


def contribution_as_of(session: Session, customer_ids: Sequence[int]) -> dict[int, date]:
    found: dict[int, date] = {}
    for start in range(0, len(customer_ids), 1000):
        chunk = list(customer_ids[start:start + 1000])
        found.update(dict(session.exec(select(ContributionFacts.customer_id, ContributionFacts.as_of).where(
            col(ContributionFacts.customer_id).in_(chunk))).all()))
    return found


def replace_contribution_facts(session: Session, rows: Sequence[dict[str, Any]]) -> set[int]:
    """Set-based, in the caller's transaction: each customer's facts replaced unless newer ones are stored. The
    date is compared in the write itself (INSERT .. ON CONFLICT DO UPDATE .. WHERE), so of two feeds at once an
    older one never overwrites a newer one that committed after it was read. Returns the customers written."""
    dialect = session.get_bind().dialect.name
    upsert: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    table = ContributionFacts.__table__  # type: ignore[attr-defined]
    written: set[int] = set()
    # In key order: two feeds at once then lock their common rows in the same order and cannot deadlock.
    rows = sorted(rows, key=lambda row: row["customer_id"])
    for start in range(0, len(rows), 1000):
        stmt = upsert(table).values(list(rows[start:start + 1000]))
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.customer_id],
            set_={c.name: stmt.excluded[c.name] for c in table.columns if c.name != "customer_id"},
            where=table.c.as_of <= stmt.excluded.as_of)
        written.update(session.execute(stmt.returning(table.c.customer_id)).scalars())
    return written
