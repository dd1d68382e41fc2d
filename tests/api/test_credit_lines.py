"""Credit lines: the available amount, drawdown requests and loan notes with their schedules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from db.models import LoanNote, ScheduleInstallment
from tests.api import data
from tests.api.asserts import assert_problem
from workflows import names
from workflows.messages import DrawdownRequest


def test_available_depends_on_whether_the_line_revolves(client, engine, api_settings):
    customer = data.add_customer(engine)
    revolving = data.add_line(engine, data.add_application(engine, customer), drawn="60000", outstanding="20000")
    one_off = data.add_line(engine, data.add_application(engine, customer), drawn="60000", outstanding="20000",
                            revolving=False)
    headers = data.customer_headers(api_settings, customer)
    assert client.get(f"/v1/credit-lines/{revolving.line_no}", headers=headers).json()["available"] == "80000.00"
    assert client.get(f"/v1/credit-lines/{one_off.line_no}", headers=headers).json()["available"] == "40000.00"
    listed = client.get("/v1/credit-lines", headers=headers).json()
    assert {i["line_no"] for i in listed["items"]} == {revolving.line_no, one_off.line_no}


def test_a_drawdown_is_an_update_on_the_line(client, engine, api_settings, workflows):
    customer = data.add_customer(engine)
    line = data.add_line(engine, data.add_application(engine, customer))
    headers = data.customer_headers(api_settings, customer)
    body = {"amount": "30000.00", "term_months": 6, "repayment_method": "equal_principal"}
    assert_problem(client.post(f"/v1/credit-lines/{line.line_no}/drawdowns", json=body, headers=headers),
                   400, "IDEMPOTENCY_KEY_REQUIRED")
    r = client.post(f"/v1/credit-lines/{line.line_no}/drawdowns", json=body, headers=data.key(**headers))
    assert r.status_code == 202, r.text
    assert r.json()["note_no"]
    update = workflows.updates[-1]
    assert (update.workflow_id, update.name) == (names.credit_line_workflow_id(line.line_no),
                                                 names.UPDATE_REQUEST_DRAWDOWN)
    assert update.arg == DrawdownRequest(amount=Decimal("30000.00"), term_months=6, repayment_method="equal_principal",
                                         requested_by=f"customer:{customer.id}")
    stranger = data.customer_headers(api_settings, data.add_customer(engine))
    assert_problem(client.post(f"/v1/credit-lines/{line.line_no}/drawdowns", json=body, headers=data.key(**stranger)),
                   404, "CREDIT_LINE_NOT_FOUND")
    # A customer manager cannot create a debt on the customer's behalf.
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    assert_problem(client.post(f"/v1/credit-lines/{line.line_no}/drawdowns", json=body, headers=data.key(**manager)),
                   403, "ROLE_FORBIDDEN")


def test_notes_come_with_their_schedule(client, engine, api_settings):
    customer = data.add_customer(engine)
    line = data.add_line(engine, data.add_application(engine, customer))
    with Session(engine) as s:
        note = LoanNote(note_no=f"LN-{line.line_no}", line_id=line.id, customer_id=customer.id, amount=Decimal("1200"),
                        term_months=2, repayment_method="equal_principal", annual_rate=Decimal("0.046"),
                        status="disbursed", start_date=date(2026, 1, 1), maturity_date=date(2026, 3, 1),
                        created_at=data.now())
        s.add(note)
        s.flush()
        s.add(ScheduleInstallment(note_id=note.id, period=2, due_date=date(2026, 3, 1), principal=Decimal("600"),
                                  interest=Decimal("2.30")))
        s.add(ScheduleInstallment(note_id=note.id, period=1, due_date=date(2026, 2, 1), principal=Decimal("600"),
                                  interest=Decimal("4.60")))
        s.commit()
    [view] = client.get(f"/v1/credit-lines/{line.line_no}/notes",
                        headers=data.customer_headers(api_settings, customer)).json()
    assert [(i["period"], i["total"]) for i in view["installments"]] == [(1, "604.60"), (2, "602.30")]
