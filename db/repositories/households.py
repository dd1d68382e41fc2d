"""Household archives (一户一档): the household row with its members, production items, finance lines and
images, the versioned update, the change history, and the masked search. Every archive query lives here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, or_, update
from sqlmodel import Session, col, func, select

from db.models import (
    ArchiveTransfer,
    Customer,
    Household,
    HouseholdChange,
    HouseholdFinance,
    HouseholdImage,
    HouseholdMember,
    HouseholdProduction,
    Village,
)


@dataclass(frozen=True)
class ArchiveScope:
    """Which archives a caller sees: all, one branch's, or (a customer manager) those they manage or share."""

    branch_code: str | None = None
    staff_id: int | None = None


def shared_with(staff_id: int) -> Any:
    """Ids of the archives an approved, unrevoked share gives this staff member."""
    return select(ArchiveTransfer.household_id).where(
        ArchiveTransfer.kind == "share", ArchiveTransfer.status == "approved", ArchiveTransfer.to_staff_id == staff_id)


def scope_clause(scope: ArchiveScope) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if scope.branch_code is not None:
        where.append(Household.branch_code == scope.branch_code)
    if scope.staff_id is not None:
        where.append(or_(Household.manager_staff_id == scope.staff_id,
                         col(Household.id).in_(shared_with(scope.staff_id))))
    return where


def get(session: Session, household_id: int) -> Household | None:
    return session.get(Household, household_id)


def visible(session: Session, scope: ArchiveScope, household_id: int) -> Household | None:
    return session.exec(select(Household).where(Household.id == household_id, *scope_clause(scope))).first()


def by_customer(session: Session, customer_id: int) -> Household | None:
    return session.exec(select(Household).where(Household.customer_id == customer_id)).first()


def insert(session: Session, **fields: Any) -> Household:
    row = Household(**fields)
    session.add(row)
    session.flush()
    return row


def update_if_version(session: Session, household_id: int, expected_version: int, **values: Any) -> bool:
    """Optimistic lock: write and bump the version only if nobody else did since `expected_version` was read."""
    result = session.execute(
        update(Household).where(col(Household.id) == household_id, col(Household.version) == expected_version)
        .values(version=expected_version + 1, **values))
    session.expire_all()
    return result.rowcount == 1  # type: ignore[attr-defined]


def members(session: Session, household_id: int) -> Sequence[HouseholdMember]:
    return session.exec(select(HouseholdMember).where(HouseholdMember.household_id == household_id)
                        .order_by(col(HouseholdMember.seq))).all()


def production(session: Session, household_id: int) -> Sequence[HouseholdProduction]:
    return session.exec(select(HouseholdProduction).where(HouseholdProduction.household_id == household_id)
                        .order_by(col(HouseholdProduction.seq))).all()


def finance(session: Session, household_id: int) -> Sequence[HouseholdFinance]:
    return session.exec(select(HouseholdFinance).where(HouseholdFinance.household_id == household_id)
                        .order_by(col(HouseholdFinance.seq))).all()


def images(session: Session, household_id: int) -> Sequence[HouseholdImage]:
    return session.exec(select(HouseholdImage).where(HouseholdImage.household_id == household_id)
                        .order_by(col(HouseholdImage.id))).all()


def image(session: Session, household_id: int, image_id: int) -> HouseholdImage | None:
    return session.exec(select(HouseholdImage).where(HouseholdImage.household_id == household_id,
                                                     HouseholdImage.id == image_id)).first()


def replace_items(session: Session, household_id: int, *, member_rows: Iterable[HouseholdMember],
                  production_rows: Iterable[HouseholdProduction], finance_rows: Iterable[HouseholdFinance]) -> None:
    """The form is edited as a whole: its item lists replace the stored ones in the same transaction."""
    for table in (HouseholdMember, HouseholdProduction, HouseholdFinance):
        session.execute(delete(table).where(col(table.household_id) == household_id))  # type: ignore[attr-defined]
    for row in (*member_rows, *production_rows, *finance_rows):
        row.household_id = household_id
        session.add(row)
    session.flush()


def add_changes(session: Session, rows: Iterable[HouseholdChange]) -> None:
    session.add_all(list(rows))
    session.flush()


def changes(session: Session, household_id: int, *, limit: int, offset: int) -> tuple[Sequence[HouseholdChange], int]:
    where = HouseholdChange.household_id == household_id
    total = session.exec(select(func.count()).select_from(HouseholdChange).where(where)).one()
    rows = session.exec(select(HouseholdChange).where(where)
                        .order_by(col(HouseholdChange.id).desc()).offset(offset).limit(limit)).all()
    return rows, total


def shared_staff_ids(session: Session, household_id: int) -> list[int]:
    return list(session.exec(select(ArchiveTransfer.to_staff_id).where(
        ArchiveTransfer.household_id == household_id, ArchiveTransfer.kind == "share",
        ArchiveTransfer.status == "approved").order_by(col(ArchiveTransfer.id))).all())


@dataclass(frozen=True)
class SearchCriteria:
    name_prefix: str | None = None
    resident_id: str | None = None
    mobile: str | None = None
    customer_no: str | None = None
    village_code: str | None = None
    status: str | None = None


def _criteria_clause(c: SearchCriteria) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []

    def member_has(condition: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists().where(HouseholdMember.household_id == Household.id, condition)

    # A person is found whether they head the household or are listed in it.
    if c.name_prefix:
        where.append(or_(col(Customer.name).startswith(c.name_prefix, autoescape=True),
                         member_has(col(HouseholdMember.name).startswith(c.name_prefix, autoescape=True))))
    if c.resident_id:
        where.append(or_(Customer.resident_id == c.resident_id, member_has(HouseholdMember.resident_id == c.resident_id)))
    if c.mobile:
        where.append(or_(Customer.mobile == c.mobile, member_has(HouseholdMember.mobile == c.mobile)))
    if c.customer_no:
        where.append(Customer.customer_no == c.customer_no)
    if c.village_code:
        where.append(Household.village_code == c.village_code)
    if c.status:
        where.append(Household.status == c.status)
    return where


def search(session: Session, scope: ArchiveScope, criteria: SearchCriteria, *, limit: int,
           offset: int) -> tuple[Sequence[tuple[Household, Customer, Village]], int]:
    joined = and_(Customer.id == Household.customer_id)
    where = [*scope_clause(scope), *_criteria_clause(criteria)]
    total = session.exec(select(func.count()).select_from(Household).join(Customer, joined).where(*where)).one()
    rows = session.exec(select(Household, Customer, Village).join(Customer, joined)
                        .join(Village, col(Village.code) == Household.village_code)
                        .where(*where).order_by(col(Household.id).desc()).offset(offset).limit(limit)).all()
    return rows, total


@dataclass(frozen=True)
class ItemCounts:
    members: int = 0
    production: int = 0
    income: int = 0
    expense: int = 0
    asset: int = 0
    image_kinds: frozenset[str] = frozenset()


def item_counts(session: Session, household_ids: Sequence[int]) -> dict[int, ItemCounts]:
    """Counts per archive for the completeness of many archives at once: four grouped queries, not one per row."""
    if not household_ids:
        return {}
    ids = list(household_ids)
    found: dict[int, dict[str, Any]] = {i: {} for i in ids}
    for table, key in ((HouseholdMember, "members"), (HouseholdProduction, "production")):
        hid = col(table.household_id)  # type: ignore[attr-defined]
        for household_id, n in session.exec(select(hid, func.count()).where(hid.in_(ids)).group_by(hid)):
            found[household_id][key] = n
    for household_id, category, n in session.exec(
            select(HouseholdFinance.household_id, HouseholdFinance.category, func.count())
            .where(col(HouseholdFinance.household_id).in_(ids))
            .group_by(HouseholdFinance.household_id, HouseholdFinance.category)):
        found[household_id][category] = n
    kinds: dict[int, set[str]] = {i: set() for i in ids}
    for household_id, kind in session.exec(select(HouseholdImage.household_id, HouseholdImage.kind).distinct()
                                           .where(col(HouseholdImage.household_id).in_(ids))):
        kinds[household_id].add(kind)
    return {i: ItemCounts(members=v.get("members", 0), production=v.get("production", 0), income=v.get("income", 0),
                          expense=v.get("expense", 0), asset=v.get("asset", 0), image_kinds=frozenset(kinds[i]))
            for i, v in found.items()}


def in_scope_with_heads(session: Session, scope: ArchiveScope) -> Sequence[tuple[Household, Customer]]:
    """Every archive in scope with its head: the task list's portfolio (one manager's is hundreds at most)."""
    return session.exec(select(Household, Customer).join(Customer, col(Customer.id) == Household.customer_id)
                        .where(*scope_clause(scope)).order_by(col(Household.id))).all()
