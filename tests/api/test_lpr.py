"""The LPR table over HTTP: staff read it, an administrator adds a rate from today on, and pricing uses it.
Rates are added far in the future so the other tests' prices (priced today) never move."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session

from db import lpr_store
from domain.pricing import price
from domain.products import nongedai_default
from tests.api import data
from tests.api.asserts import assert_problem

_day = itertools.count(0)


def test_staff_read_the_table_and_an_admin_adds_a_future_rate(client, engine, api_settings):
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    admin = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    listed = client.get("/v1/lpr", headers=manager).json()
    published = {(r["tenor"], r["effective_from"]): Decimal(r["rate"]) for r in listed}
    assert published[("1Y", "2025-05-20")] == Decimal("0.03") and published[("5Y", "2024-10-21")] == Decimal("0.036")

    day = date(2099, 1, 1) + timedelta(days=next(_day))
    body = {"tenor": "1Y", "effective_from": day.isoformat(), "rate": "0.0285"}
    assert_problem(client.post("/v1/lpr", json=body, headers=manager), 403, "ROLE_FORBIDDEN")
    r = client.post("/v1/lpr", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert Decimal(r.json()["rate"]) == Decimal("0.0285") and r.json()["created_by"].startswith("staff:")
    assert_problem(client.post("/v1/lpr", json=body, headers=admin), 409, "LPR_EXISTS", field="effective_from")
    assert day.isoformat() in {x["effective_from"] for x in client.get("/v1/lpr", headers=manager).json()}

    with Session(engine) as s:
        table = lpr_store.table(s)
    on_the_day = price(nongedai_default(), "credit", "AA", day, table)
    assert (on_the_day.lpr, on_the_day.lpr_date, on_the_day.annual_rate) == (Decimal("0.0285"), day,
                                                                            Decimal("0.046500"))
    assert price(nongedai_default(), "credit", "AA", date(2026, 6, 1), table).annual_rate == Decimal("0.048000")


def test_a_rate_cannot_take_effect_in_the_past(client, engine, api_settings):
    admin = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    r = client.post("/v1/lpr", json={"tenor": "5Y", "effective_from": "2025-01-01", "rate": "0.0300"}, headers=admin)
    assert_problem(r, 422, "LPR_IN_THE_PAST", field="effective_from")
    r = client.post("/v1/lpr", json={"tenor": "5Y", "effective_from": "2099-06-01", "rate": "0.3"}, headers=admin)
    assert_problem(r, 422, "VALIDATION_FAILED")
