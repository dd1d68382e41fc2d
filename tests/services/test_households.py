"""The archive services and repositories on PostgreSQL and SQLite: totals, versions, history, search, scope."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from adapters.imaging.simulator import ImagingSimulator
from db import archive_seed
from db.engine import session_scope
from db.models import CustomerRating, Household, HouseholdChange, RatingRecord, StaffUser, Village
from db.repositories import households as repo
from db.repositories.households import ArchiveScope, SearchCriteria
from services import archive_images, households, transfers
from services.errors import ProblemError
from services.principal import Principal
from services.schemas.households import HouseholdSearchIn, TransferDecisionIn, TransferIn, VersionIn
from tests import factories
from tests.api import archives

NOW = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)
BRANCH, VILLAGE = "350322101", "350322101201"


@pytest.fixture
def world(own_engine):
    factories.ensure_reference_data(own_engine)  # the branch, and the product the real-time rating prices for
    with session_scope(own_engine) as s:
        archive_seed.install_codes(s)
        archive_seed.install_villages(s, BRANCH)
        for name, role in (("m1", "customer_manager"), ("m2", "customer_manager"), ("a1", "approver")):
            s.add(StaffUser(username=name, display_name=name, role=role, branch_code=BRANCH, password_hash="x"))
    with Session(own_engine) as s:
        staff = {u.username: Principal(kind="staff", id=u.id, role=u.role, branch_code=BRANCH)
                 for u in s.exec(select(StaffUser))}
    return own_engine, staff


def _form(**override):
    return {**archives.form(village_code=VILLAGE, **override), "head": archives.person()}


def _update(view, **override):
    body = archives.form(village_code=VILLAGE, **override)
    body["members"][0] |= {"resident_id": view.members[0].resident_id, "mobile": view.members[0].mobile}
    return {**body, "version": view.version}


def test_create_edit_and_submit_keep_totals_versions_and_history(world):
    engine, staff = world
    with Session(engine) as s:
        view = households.create(s, staff["m1"], _form(), NOW)
    assert view.policy_tags == ["credit_village"]  # 坝下村 is a credit village
    with Session(engine) as s:
        body = _update(view, labour_count=1)
        body["production"].append({"kind": "livestock", "code": "chicken", "quantity": "200"})
        body["finance"].append({"category": "liability", "kind": "private_loan", "amount": "5000.00"})
        edited = households.update(s, staff["m1"], view.id, body, NOW)
    assert (edited.version, edited.livestock_heads, edited.total_liabilities) == (2, 212, Decimal("25000.00"))
    with Session(engine) as s:
        row = s.get(Household, view.id)
        assert (row.version, row.livestock_heads, row.acreage_mu, row.total_liabilities) == (
            2, 212, Decimal("11.75"), Decimal("25000.00"))
        assert s.exec(select(HouseholdChange).where(HouseholdChange.household_id == view.id,
                                                    HouseholdChange.action == "edit",
                                                    HouseholdChange.field == "livestock_heads")).one().new_value == "212"
    with Session(engine) as s, pytest.raises(ProblemError) as caught:
        households.submit(s, staff["m1"], view.id, VersionIn(version=2), NOW)
    assert caught.value.code == "ARCHIVE_INCOMPLETE"


def test_only_one_of_two_writers_holding_the_same_version_wins(world):
    engine, staff = world
    with Session(engine) as s:
        view = households.create(s, staff["m1"], _form(), NOW)
    with Session(engine) as first, Session(engine) as second:
        assert repo.update_if_version(first, view.id, 1, business_years=3)
        first.commit()
        assert not repo.update_if_version(second, view.id, 1, business_years=4)
        second.rollback()
    with Session(engine) as s:
        assert (s.get(Household, view.id).version, s.get(Household, view.id).business_years) == (2, 3)
        with pytest.raises(ProblemError) as caught:
            households.update(s, staff["m1"], view.id, _update(view, business_years=9), NOW)
    assert (caught.value.status, caught.value.code, caught.value.extra) == (409, "VERSION_CONFLICT", {"current_version": 2})


def test_search_finds_heads_and_members_within_scope(world):
    engine, staff = world
    with Session(engine) as s:
        mine = households.create(s, staff["m1"], _form(), NOW)
        theirs = households.create(s, staff["m2"], _form(), NOW)
    with Session(engine) as s:
        member_mobile = mine.members[0].mobile
        rows, total = repo.search(s, ArchiveScope(), SearchCriteria(mobile=member_mobile), limit=10, offset=0)
        assert total == 1 and rows[0][0].id == mine.id
        page = households.search(s, staff["m1"], HouseholdSearchIn(village_code=VILLAGE))
        assert [i.id for i in page.items] == [mine.id]
        assert {i.id for i in households.search(s, staff["a1"], HouseholdSearchIn()).items} == {mine.id, theirs.id}
        with pytest.raises(ProblemError) as caught:
            households.get(s, staff["m2"], mine.id)
        assert caught.value.status == 404


def test_a_share_and_a_transfer_change_who_sees_the_archive(world):
    engine, staff = world
    with Session(engine) as s:
        view = households.create(s, staff["m1"], _form(), NOW)
        share = transfers.request(s, staff["m1"], view.id, TransferIn(kind="share", to_staff_id=staff["m2"].id), NOW)
        transfers.decide(s, staff["a1"], share.id, TransferDecisionIn(approve=True), NOW)
    with Session(engine) as s:
        assert households.get(s, staff["m2"], view.id).shared_with_staff_ids == [staff["m2"].id]
        move = transfers.request(s, staff["m1"], view.id, TransferIn(kind="transfer", to_staff_id=staff["m2"].id), NOW)
        transfers.decide(s, staff["a1"], move.id, TransferDecisionIn(approve=True), NOW)
    with Session(engine) as s:
        assert s.get(Household, view.id).manager_staff_id == staff["m2"].id
        with pytest.raises(ProblemError):
            households.get(s, staff["m1"], view.id)


def test_completeness_of_many_equals_one_by_one(world):
    engine, staff = world
    with Session(engine) as s:
        full = households.create(s, staff["m1"], _form(), NOW)
        bare = households.create(s, staff["m1"], _form(production=[], finance=[], members=[]), NOW)
    with Session(engine) as s:
        portfolio = repo.in_scope_with_heads(s, households.archive_scope(staff["m1"]))
        many = households.completeness_of_many(s, portfolio)
        for h, c in portfolio:
            assert many[h.id] == households.completeness_of(s, h, c)
        assert many[full.id].score > many[bare.id].score
        assert {m.field for m in many[bare.id].missing} >= {"members", "production", "finance.income"}


def test_villages_of_the_demo_branch_are_seeded(world):
    engine, _ = world
    with Session(engine) as s:
        assert len(s.exec(select(Village).where(Village.branch_code == BRANCH)).all()) == len(archive_seed.DEMO_VILLAGES)


def test_submission_calls_on_archived_once_the_archive_is_committed(world, monkeypatch):
    engine, staff = world
    imaging = ImagingSimulator(engine)
    seen: list[tuple[int, str]] = []

    def hook(session, household_id, *, now):
        with Session(engine) as other:  # another connection sees it archived: the hook runs after the commit
            seen.append((household_id, other.get(Household, household_id).status))

    monkeypatch.setattr(households, "on_archived", hook)
    with Session(engine) as s:
        view = households.create(s, staff["m1"], _form(), NOW)
        for n, kind in enumerate(("id_front", "id_back")):
            archive_images.add(s, imaging, staff["m1"], view.id, kind=kind, data=archives.png(n), now=NOW)
        with pytest.raises(ProblemError):
            households.submit(s, staff["m1"], view.id, VersionIn(version=2), NOW)
        assert seen == []
        archived = households.submit(s, staff["m1"], view.id, VersionIn(version=1), NOW)
    assert archived.status == "archived" and seen == [(view.id, "archived")]


def test_submission_rates_the_head_in_real_time(world):
    engine, staff = world
    imaging = ImagingSimulator(engine)
    with Session(engine) as s:
        view = households.create(s, staff["m1"], _form(), NOW)
        for n, kind in enumerate(("id_front", "id_back")):
            archive_images.add(s, imaging, staff["m1"], view.id, kind=kind, data=archives.png(n), now=NOW)
        customer_id = s.get(Household, view.id).customer_id
        assert s.get(CustomerRating, customer_id) is None
        households.submit(s, staff["m1"], view.id, VersionIn(version=1), NOW)
    with Session(engine) as s:
        current = s.get(CustomerRating, customer_id)
        record = s.get(RatingRecord, current.rating_record_id)
    assert current.source == record.source == "realtime"
    # The snapshot is the archive's: the credit-village tag and the totals the form's items add up to.
    assert record.inputs["credit_village"] is True
    assert Decimal(record.inputs["annual_income"]) == Decimal(view.annual_income)


def test_a_failed_rating_never_loses_the_submission(world, monkeypatch):
    engine, staff = world
    imaging = ImagingSimulator(engine)

    def down(session, customer_id, *, now):
        raise RuntimeError("rating unavailable")

    monkeypatch.setattr(households.rating_service, "on_archived", down)
    with Session(engine) as s:
        view = households.create(s, staff["m1"], _form(), NOW)
        for n, kind in enumerate(("id_front", "id_back")):
            archive_images.add(s, imaging, staff["m1"], view.id, kind=kind, data=archives.png(n), now=NOW)
        archived = households.submit(s, staff["m1"], view.id, VersionIn(version=1), NOW)
    with Session(engine) as s:
        assert archived.status == s.get(Household, view.id).status == "archived"
        assert s.get(CustomerRating, s.get(Household, view.id).customer_id) is None
