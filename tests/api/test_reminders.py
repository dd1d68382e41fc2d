"""The staff task list over HTTP: each of the five kinds of reminder, and masking in it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from db.engine import session_scope
from db.models import Customer, CustomerRating, RatingRecord
from domain.identity import resident_id_for
from services.clock import business_date
from tests.api import archives, data
from tests.api.asserts import assert_problem


@pytest.fixture(autouse=True)
def reference(engine):
    archives.ensure_reference(engine)


def _staff(engine, api_settings, role: str = "customer_manager", branch: str = data.BRANCH_A):
    user = data.add_staff(engine, role, branch=branch)
    return user, data.staff_headers(api_settings, user)


def _today() -> date:
    return business_date(datetime.now(UTC))


def _archive(client, headers, body: dict | None = None) -> dict:
    r = client.post("/v1/households", json=body or {**archives.form(), "head": archives.person()}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _tasks(client, headers, days: int = 7) -> list[dict]:
    r = client.get("/v1/reminders", params={"days": days}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert sum(body["counts"].values()) == len(body["items"])
    return body["items"]


def _rate(engine, customer_id: int, grade: str) -> None:
    with session_scope(engine) as s:
        record = RatingRecord(customer_id=customer_id, model_version="test-1", score=85, grade=grade,
                              credit_limit=Decimal("100000"), rated_at=datetime.now(UTC), source="batch")
        s.add(record)
        s.flush()
        s.add(CustomerRating(customer_id=customer_id, rating_record_id=record.id, model_version="test-1", score=85,
                             grade=grade, stars=4, source="batch", rated_at=datetime.now(UTC)))


def test_incomplete_archives_list_what_is_missing(client, engine, api_settings):
    _, headers = _staff(engine, api_settings)
    view = _archive(client, headers, {**archives.form(production=[], business_years=0), "head": archives.person()})
    tasks = [t for t in _tasks(client, headers) if t["kind"] == "incomplete"]
    assert [t["household_id"] for t in tasks] == [view["id"]]
    assert tasks[0]["missing"] == ["production", "business_years", "images.id_front", "images.id_back", "images.house"]
    assert tasks[0]["kind_zh"] == "信息不完整" and "生产经营信息" in tasks[0]["title_zh"]
    assert tasks[0]["name"] == view["head"]["name"][0] + "**"


def test_self_set_reminders_within_the_horizon_until_done(client, engine, api_settings):
    _, headers = _staff(engine, api_settings)
    view = _archive(client, headers)
    today = _today()
    soon = client.post("/v1/reminders", json={"due_date": str(today + timedelta(days=2)), "note": "回访茶园长势",
                                              "household_id": view["id"]}, headers=headers)
    assert soon.status_code == 201, soon.text
    later = client.post("/v1/reminders", json={"due_date": str(today + timedelta(days=30)), "note": "续贷"}, headers=headers)
    assert_problem(client.post("/v1/reminders", json={"due_date": str(today - timedelta(days=1)), "note": "x"},
                               headers=headers), 422, "DUE_DATE_PAST", "due_date")
    mine = [t["reminder_id"] for t in _tasks(client, headers) if t["kind"] == "self_set"]
    assert mine == [soon.json()["id"]]
    assert [t["reminder_id"] for t in _tasks(client, headers, days=30) if t["kind"] == "self_set"] == [
        soon.json()["id"], later.json()["id"]]
    assert client.post(f"/v1/reminders/{soon.json()['id']}/done", headers=headers).json()["done_at"]
    assert_problem(client.post(f"/v1/reminders/{soon.json()['id']}/done", headers=headers), 409, "REMINDER_DONE")
    _, colleague = _staff(engine, api_settings)
    assert_problem(client.post(f"/v1/reminders/{later.json()['id']}/done", headers=colleague), 404, "REMINDER_NOT_FOUND")
    assert [t for t in _tasks(client, headers) if t["kind"] == "self_set"] == []


def test_marketing_lists_well_rated_customers_without_credit(client, engine, api_settings):
    _, headers = _staff(engine, api_settings)
    rated_aa, rated_b, applying = (_archive(client, headers) for _ in range(3))
    _rate(engine, rated_aa["head"]["customer_id"], "AA")
    _rate(engine, rated_b["head"]["customer_id"], "B")
    _rate(engine, applying["head"]["customer_id"], "AAA")
    with session_scope(engine) as s:
        borrower = s.get(Customer, applying["head"]["customer_id"])
        s.expunge(borrower)
    data.add_application(engine, borrower, stage="reviewing")
    tasks = [t for t in _tasks(client, headers) if t["kind"] == "marketing"]
    assert [t["household_id"] for t in tasks] == [rated_aa["id"]]
    assert "AA" in tasks[0]["title_zh"]


def test_care_lists_birthdays_of_heads_and_members_in_the_next_days(client, engine, api_settings):
    _, headers = _staff(engine, api_settings)
    today = _today()
    birthday = today + timedelta(days=3)
    body = archives.form()
    body["members"][1]["birth_date"] = str(birthday.replace(year=2016))  # 2016 is a leap year: 29 February exists
    # The head's and the spouse's birthdays are half a year away, outside every window asked for here.
    far = today + timedelta(days=180)
    far = far.replace(year=1980) if far.strftime("%m%d") != "0229" else date(1980, 3, 1)
    body["members"][0] |= {"resident_id": None, "birth_date": str(far)}
    head = {**archives.person("郑大海"), "resident_id": resident_id_for("350102", far, 17)}
    view = _archive(client, headers, {**body, "head": head})
    care = [t for t in _tasks(client, headers, days=5) if t["kind"] == "care" and t["household_id"] == view["id"]]
    assert [(t["name"], t["due_date"], t["title_en"]) for t in care] == [
        ("林**", str(birthday), "a household member's birthday")]
    assert [t for t in _tasks(client, headers, days=2) if t["kind"] == "care" and t["household_id"] == view["id"]] == []
    far_ahead = [t for t in _tasks(client, headers, days=90) if t["kind"] == "care" and t["household_id"] == view["id"]]
    assert [t["due_date"] for t in far_ahead] == [str(birthday)]


def test_pending_approvals_for_the_manager_and_for_the_approver(client, engine, api_settings):
    manager, headers = _staff(engine, api_settings)
    other, _ = _staff(engine, api_settings)
    approver, approver_h = _staff(engine, api_settings, "approver")
    view = _archive(client, headers)
    with session_scope(engine) as s:
        borrower = s.get(Customer, view["head"]["customer_id"])
        s.expunge(borrower)
    waiting = data.add_application(engine, borrower, stage="awaiting_approval", initiator=manager,
                                   assignee=f"approver@{data.BRANCH_A}")
    data.add_application(engine, data.add_customer(engine), stage="completed", status="active", initiator=manager)
    mine = [t for t in _tasks(client, headers) if t["kind"] == "pending_approval"]
    assert [t["app_no"] for t in mine] == [waiting.app_no] and "等待审批" in mine[0]["title_zh"]
    transfer = client.post(f"/v1/households/{view['id']}/transfers", json={"kind": "share", "to_staff_id": other.id},
                           headers=headers).json()
    theirs = [t for t in _tasks(client, approver_h) if t["kind"] == "pending_approval"]
    assert waiting.app_no in [t["app_no"] for t in theirs]
    assert transfer["id"] in [t["transfer_id"] for t in theirs]
    text = client.get("/v1/reminders", headers=approver_h).text
    assert view["head"]["name"] not in text and view["head"]["resident_id"] not in text
