"""The LPR table over HTTP: staff read it, an administrator adds a rate from today on, and pricing uses it.
Rates are added far in the future so the other tests' prices (priced today) never move."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session

from db import lpr_store
from db.engine import session_scope
from domain.pricing import price
from domain.products import nongedai_default
from tests.api import data
from tests.api.asserts import assert_problem

_day = itertools.count(0)


def test_staff_read_the_table_an_entry_is_a_draft_until_a_second_admin_approves_it(client, engine, api_settings):
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    maker = data.staff_headers(api_settings, data.add_staff(engine, "ops"))
    checker = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    listed = client.get("/v1/lpr", headers=manager).json()
    published = {(r["tenor"], r["effective_from"]): Decimal(r["rate"]) for r in listed}
    assert published[("1Y", "2025-05-20")] == Decimal("0.03") and published[("5Y", "2024-10-21")] == Decimal("0.036")

    day = date(2099, 1, 1) + timedelta(days=next(_day))
    body = {"tenor": "1Y", "effective_from": day.isoformat(), "rate": "0.0285"}
    assert_problem(client.post("/v1/lpr", json=body, headers=manager), 403, "ROLE_FORBIDDEN")
    r = client.post("/v1/lpr", json=body, headers=maker)
    assert r.status_code == 201, r.text
    entry = r.json()
    assert Decimal(entry["rate"]) == Decimal("0.0285") and entry["created_by"].startswith("staff:")
    assert entry["status"] == "draft" and entry["decided_by"] is None
    assert_problem(client.post("/v1/lpr", json=body, headers=maker), 409, "LPR_EXISTS", field="effective_from")
    with Session(engine) as s:  # a draft prices nothing
        assert price(nongedai_default(), "credit", "AA", day, lpr_store.table(s)).lpr == Decimal("0.0300")

    # The maker may not approve: ops lacks the role, and an admin who entered a rate may not approve theirs.
    assert_problem(client.post(f"/v1/lpr/{entry['id']}/approval", headers=maker), 403, "ROLE_FORBIDDEN")
    approved = client.post(f"/v1/lpr/{entry['id']}/approval", headers=checker)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["decided_by"].startswith("staff:")
    assert_problem(client.post(f"/v1/lpr/{entry['id']}/approval", headers=checker), 409, "LPR_NOT_DRAFT")
    shown = {x["id"]: x["status"] for x in client.get("/v1/lpr", headers=manager).json()}
    assert shown[entry["id"]] == "approved"

    with Session(engine) as s:
        table = lpr_store.table(s)
    on_the_day = price(nongedai_default(), "credit", "AA", day, table)
    assert (on_the_day.lpr, on_the_day.lpr_date, on_the_day.annual_rate) == (Decimal("0.0285"), day,
                                                                            Decimal("0.046500"))
    assert price(nongedai_default(), "credit", "AA", date(2026, 6, 1), table).annual_rate == Decimal("0.048000")


def test_the_maker_cannot_approve_their_own_entry_and_a_rejection_is_recorded(client, engine, api_settings):
    admin = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    other = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    day = date(2099, 1, 1) + timedelta(days=next(_day))
    body = {"tenor": "5Y", "effective_from": day.isoformat(), "rate": "0.0350"}
    entry = client.post("/v1/lpr", json=body, headers=admin).json()
    assert_problem(client.post(f"/v1/lpr/{entry['id']}/approval", headers=admin), 409, "MAKER_CHECKER")
    assert_problem(client.post(f"/v1/lpr/{entry['id']}/rejection", json={"reason": "typo"}, headers=admin), 409,
                   "MAKER_CHECKER")
    assert_problem(client.post(f"/v1/lpr/{entry['id']}/rejection", json={"reason": ""}, headers=other), 422,
                   "VALIDATION_FAILED")
    rejected = client.post(f"/v1/lpr/{entry['id']}/rejection", json={"reason": "应为 3.45%"}, headers=other)
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["status"], rejected.json()["reject_reason"]) == ("rejected", "应为 3.45%")
    assert_problem(client.post(f"/v1/lpr/{entry['id']}/approval", headers=other), 409, "LPR_NOT_DRAFT")
    with Session(engine) as s:
        assert price(nongedai_default(), "credit", "AA", day, lpr_store.table(s)).lpr_date != day
    # The rejected entry stays on record and leaves the date free for the right rate.
    again = client.post("/v1/lpr", json=body | {"rate": "0.0345"}, headers=admin)
    assert again.status_code == 201, again.text
    statuses = sorted(x["status"] for x in client.get("/v1/lpr", headers=admin).json()
                      if x["effective_from"] == day.isoformat())
    assert statuses == ["draft", "rejected"]
    assert_problem(client.post("/v1/lpr/999999999/approval", headers=other), 404, "LPR_NOT_FOUND")


def test_a_rate_cannot_take_effect_in_the_past(client, engine, api_settings):
    admin = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    r = client.post("/v1/lpr", json={"tenor": "5Y", "effective_from": "2025-01-01", "rate": "0.0300"}, headers=admin)
    assert_problem(r, 422, "LPR_IN_THE_PAST", field="effective_from")
    r = client.post("/v1/lpr", json={"tenor": "5Y", "effective_from": "2099-06-01", "rate": "0.3"}, headers=admin)
    assert_problem(r, 422, "VALIDATION_FAILED")


def test_a_draft_whose_date_passed_before_approval_cannot_be_approved(client, engine, api_settings):
    """Approved late, it would change the rate of loans priced meanwhile: it must be entered again."""
    checker = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    with session_scope(engine) as s:
        stale = lpr_store.add(s, tenor="1Y", effective_from=date(2026, 1, 2) - timedelta(days=next(_day)),
                              rate=Decimal("0.0290"), by="staff:someone", now=datetime.now(UTC))
    assert_problem(client.post(f"/v1/lpr/{stale.id}/approval", headers=checker), 422, "LPR_IN_THE_PAST",
                   field="effective_from")
    with Session(engine) as s:
        assert lpr_store.get(s, stale.id).status == "draft"

