"""Loan notes through the API: scope, servicing views, payoff quotes checked against domain.servicing,
repayments (validation before anything is written, Idempotency-Key dedup), reversal, the business date
and end of day. The last tests run the real workflows on a worker against the core-banking simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlmodel import Session, func, select
from temporalio.service import RPCError, RPCStatusCode

from adapters.core_banking.simulator import CoreBankingSimulator
from db import eod
from db.engine import session_scope
from db.models import CreditLine, Customer, LoanNote, Repayment
from db.servicing_store import installment_rows, save_state, to_state
from domain.servicing import allocate, dues, project, quote
from services.clock import business_date, utcnow
from services.gateway import TemporalGateway, TemporalUnavailable
from tests import factories
from tests.api import data
from tests.api.asserts import assert_problem
from tests.workflows.support import running_worker, until
from workflows import names
from workflows.messages import EodInput, EodProgress, RepaymentInput, ReversalInput

D = Decimal


def _today() -> date:
    return business_date(utcnow())


def note_for(engine, *, start: date | None = None, amount: str = "12000", months: int = 12,
             method: str = "equal_principal") -> tuple[LoanNote, Customer]:
    borrower = factories.customer(engine)
    note = factories.disbursed_note(engine, borrower=borrower, amount=amount, months=months, method=method,
                                    start=start or date(2026, 1, 10))
    return note, borrower


def state_of(engine, note_no: str):
    with Session(engine) as s:
        note = s.exec(select(LoanNote).where(LoanNote.note_no == note_no)).one()
        return to_state(note, installment_rows(s, note.id)), note.allocation_order


def line_workflow_id(engine, note: LoanNote) -> str:
    with Session(engine) as s:
        return s.get(CreditLine, note.line_id).workflow_id


def repayment_count(engine, note: LoanNote) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(Repayment).where(Repayment.note_id == note.id)).one()


def set_note(engine, note: LoanNote, **values) -> None:
    with session_scope(engine) as s:
        row = s.get(LoanNote, note.id)
        for k, v in values.items():
            setattr(row, k, v)
        s.add(row)


def add_repayment(engine, note: LoanNote, n: int, *, status: str, amount: str = "100.00",
                  posted_minutes_ago: int | None = None) -> Repayment:
    row = Repayment(repayment_no=f"RP{note.note_no}-{n:03d}", note_id=note.id, customer_id=note.customer_id,
                    request_key=f"seed-{n}", amount=D(amount), requested_by="customer", status=status,
                    created_at=utcnow(), kind="partial" if status != "requested" else None,
                    principal=D("0"), interest=D(amount),
                    posted_at=utcnow() - timedelta(minutes=posted_minutes_ago or 0) if status == "posted" else None)
    with session_scope(engine) as s:
        s.add(row)
    return row


# ---- reading ----

def test_notes_are_seen_by_their_borrower_and_their_branch_only(client, engine, api_settings):
    note, borrower = note_for(engine)
    mine = data.customer_headers(api_settings, borrower)
    listed = client.get("/v1/loans", headers=mine).json()
    assert [i["note_no"] for i in listed["items"]] == [note.note_no] and listed["total"] == 1
    view = client.get(f"/v1/loans/{note.note_no}", headers=mine).json()
    assert view["status"] == "disbursed" and view["status_zh"] == "还款中"
    assert view["servicing"]["outstanding_principal"] == "12000.00"
    assert view["servicing"]["classification"] == "normal" and view["servicing"]["classification_zh"] == "正常"
    assert view["servicing"]["last_closed_date"] is None

    stranger = data.customer_headers(api_settings, data.add_customer(engine))
    for path in ("", "/schedule", "/statement", "/payoff-quote"):
        assert_problem(client.get(f"/v1/loans/{note.note_no}{path}", headers=stranger), 404, "LOAN_NOTE_NOT_FOUND",
                       "note_no")
    assert client.get("/v1/loans", headers=stranger).json()["total"] == 0
    other_branch = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager", branch=data.BRANCH_A))
    assert_problem(client.get(f"/v1/loans/{note.note_no}", headers=other_branch), 404, "LOAN_NOTE_NOT_FOUND")
    own_branch = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager", branch=factories.BRANCH))
    assert client.get(f"/v1/loans/{note.note_no}", headers=own_branch).status_code == 200
    assert note.note_no in {i["note_no"] for i in client.get("/v1/loans?status=disbursed&limit=200",
                                                             headers=own_branch).json()["items"]}
    ops = data.staff_headers(api_settings, data.add_staff(engine, "ops"))
    assert client.get(f"/v1/loans/{note.note_no}", headers=ops).status_code == 200
    assert_problem(client.get(f"/v1/loans/{note.note_no}"), 401, "NOT_AUTHENTICATED")


def test_the_schedule_shows_what_is_paid_and_overdue(client, engine, api_settings):
    note, borrower = note_for(engine)
    with session_scope(engine) as s:
        first, second = installment_rows(s, note.id)[:2]
        first.paid_principal, first.paid_interest, first.status = first.principal, first.interest, "paid"
        second.status = "overdue"
        s.add_all([first, second])
    view = client.get(f"/v1/loans/{note.note_no}/schedule", headers=data.customer_headers(api_settings, borrower))
    rows = view.json()["rows"]
    assert len(rows) == 12 and [r["period"] for r in rows] == list(range(1, 13))
    assert (rows[0]["status"], rows[0]["status_zh"], rows[0]["unpaid"]) == ("paid", "已还清", "0.00")
    assert (rows[1]["status"], rows[1]["status_zh"]) == ("overdue", "逾期")
    assert (rows[2]["status"], rows[2]["status_zh"]) == ("pending", "未到期")
    assert D(rows[1]["unpaid"]) == D(rows[1]["principal"]) + D(rows[1]["interest"]) == D(rows[1]["total"])
    assert rows[0]["accrual_start"] == "2026-01-10" and rows[0]["accrual_end"] == rows[0]["due_date"]
    assert sum(D(r["principal"]) for r in rows) == D("12000")


def test_the_statement_runs_the_outstanding_principal_in_date_order(client, engine, api_settings):
    note, borrower = note_for(engine)
    set_note(engine, note, disbursement_ref="P-TEST")
    with session_scope(engine) as s:
        for n, (status, principal, on) in enumerate([("posted", "1000.00", date(2026, 2, 10)),
                                                     ("failed", "0", None),
                                                     ("reversed", "500.00", date(2026, 3, 10)),
                                                     ("posted", "700.00", date(2026, 3, 11))], start=1):
            s.add(Repayment(repayment_no=f"RP{note.note_no}-{n:03d}", note_id=note.id, customer_id=borrower.id,
                            request_key=f"st-{n}", amount=D(principal) + D("40"), requested_by="customer",
                            status=status, kind="due" if on else None, value_date=on, principal=D(principal),
                            interest=D("40") if on else D("0"), posting_id=f"P{n}" if on else None,
                            reversal_posting_id="PR3" if status == "reversed" else None, created_at=utcnow(),
                            reversed_at=utcnow() if status == "reversed" else None))
    body = client.get(f"/v1/loans/{note.note_no}/statement",
                      headers=data.customer_headers(api_settings, borrower)).json()
    entries = [(e["kind"], e["repayment_no"] and e["repayment_no"][-3:], e["status"], e["outstanding_principal"])
               for e in body["entries"]]
    assert entries == [("disbursement", None, "posted", "12000.00"),
                       ("repayment", "001", "posted", "11000.00"),
                       ("repayment", "003", "reversed", "10500.00"),
                       ("repayment", "004", "posted", "9800.00"),
                       ("repayment", "002", "failed", "9800.00"),  # never valued: listed on the day it was asked
                       ("reversal", "003", "posted", "10300.00")]
    assert [e["date"] for e in body["entries"]] == sorted(e["date"] for e in body["entries"])
    reversal = body["entries"][-1]
    assert reversal["principal"] == "-500.00" and reversal["posting_id"] == "PR3"
    assert body["entries"][1]["interest"] == "40.00" and body["entries"][1]["posting_id"] == "P1"


def test_a_payoff_quote_is_domain_servicing_quote(client, engine, api_settings):
    note, borrower = note_for(engine)
    headers = data.customer_headers(api_settings, borrower)
    value_date = date.fromisoformat(client.get(f"/v1/loans/{note.note_no}", headers=headers)
                                    .json()["servicing"]["value_date"])
    state, _ = state_of(engine, note.note_no)
    for on, query in ((value_date, ""), (value_date + timedelta(days=17), f"?date={value_date + timedelta(days=17)}")):
        got = client.get(f"/v1/loans/{note.note_no}/payoff-quote{query}", headers=headers)
        assert got.status_code == 200, got.text
        want = quote(state, on)
        body = got.json()
        assert body["date"] == on.isoformat()
        for field in ("penalty", "compound", "overdue_interest", "overdue_principal", "due_today_interest",
                      "due_today_principal", "principal_not_due", "interest_to_date"):
            assert D(body[field]) == getattr(want, field), field
        assert (D(body["total_due"]), D(body["payoff"])) == (want.total_due, want.payoff)
        assert D(body["payoff"]) > D("12000")  # eleven months of it are overdue or due by now
    assert_problem(client.get(f"/v1/loans/{note.note_no}/payoff-quote?date={value_date - timedelta(days=1)}",
                              headers=headers), 422, "DATE_CLOSED", "date")
    assert_problem(client.get(f"/v1/loans/{note.note_no}/payoff-quote?date=2026-13-01", headers=headers),
                   422, "VALIDATION_FAILED", "date")
    assert_problem(client.get(f"/v1/loans/{note.note_no}/payoff-quote?date={value_date + timedelta(days=400)}",
                              headers=headers), 422, "QUOTE_DATE_TOO_FAR", "date")
    set_note(engine, note, status="settled")
    body = assert_problem(client.get(f"/v1/loans/{note.note_no}/payoff-quote", headers=headers), 409, "NOTE_CLOSED")
    assert "已结清" in body["zh"]


def test_a_quote_on_a_note_with_overdue_days_charges_penalty(client, engine, api_settings):
    """End of day has closed this note up to ten days ago (it lags, or the note is new to it): the value
    date is still today, and the quote projects penalty from the last closed date."""
    today = _today()
    note, borrower = note_for(engine, start=today - timedelta(days=80))
    state, _ = state_of(engine, note.note_no)
    closed = project(state, today - timedelta(days=10))  # two installments overdue for a while
    with session_scope(engine) as s:
        row = s.get(LoanNote, note.id)
        save_state(s, row, installment_rows(s, note.id), closed)
    headers = data.customer_headers(api_settings, borrower)
    view = client.get(f"/v1/loans/{note.note_no}", headers=headers).json()["servicing"]
    assert view["last_closed_date"] == str(today - timedelta(days=10)) and view["value_date"] == str(today)
    assert view["dpd"] == closed.dpd > 0 and view["classification"] == "special_mention"
    assert D(view["penalty_owed"]) == closed.penalty_owed > 0
    on = today + timedelta(days=5)
    body = client.get(f"/v1/loans/{note.note_no}/payoff-quote?date={on}", headers=headers).json()
    assert D(body["penalty"]) == quote(closed, on).penalty > closed.penalty_owed
    assert D(body["payoff"]) == quote(closed, on).payoff


# ---- repaying ----

def test_bad_amounts_are_refused_naming_the_field_and_write_nothing(client, engine, api_settings, workflows):
    # Started five days ago: nothing due yet, five days of interest used in the first period.
    note, borrower = note_for(engine, start=_today() - timedelta(days=5))
    headers = data.customer_headers(api_settings, borrower)
    url = f"/v1/loans/{note.note_no}/repayments"
    for amount, code in (("-1", "AMOUNT_NOT_POSITIVE"), ("0", "AMOUNT_NOT_POSITIVE"), ("0.001", "AMOUNT_SUB_FEN"),
                         (12.5, "AMOUNT_NOT_STRING"), ("abc", "AMOUNT_FORMAT")):
        body = assert_problem(client.post(url, json={"amount": amount}, headers=data.key(**headers)),
                              422, "VALIDATION_FAILED", "amount")
        assert body["errors"][0]["code"] == code and body["errors"][0]["zh"], body
    assert_problem(client.post(url, json={}, headers=data.key(**headers)), 422, "VALIDATION_FAILED", "amount")
    assert_problem(client.post(url, json={"amount": "10.00", "extra": 1}, headers=data.key(**headers)),
                   422, "VALIDATION_FAILED", "extra")
    assert_problem(client.post(url, json={"amount": "10.00"}, headers=headers), 400, "IDEMPOTENCY_KEY_REQUIRED")

    state, order = state_of(engine, note.note_no)
    value_date = date.fromisoformat(client.get(f"/v1/loans/{note.note_no}", headers=headers)
                                    .json()["servicing"]["value_date"])
    owed = dues(state, value_date)  # what allocate measures the amount against
    body = assert_problem(client.post(url, json={"amount": str(owed.payoff + D("0.01"))}, headers=data.key(**headers)),
                          422, "EXCEEDS_PAYOFF", "amount")
    assert f"{owed.payoff:,.2f}" in body["zh"] and str(owed.payoff) in body["en"]
    # Beyond what is due, but neither the payoff nor less than the principal not yet due.
    between = owed.total_due + owed.principal_not_due
    assert owed.interest_to_date > 0
    body = assert_problem(client.post(url, json={"amount": str(between)}, headers=data.key(**headers)),
                          422, "PAYOFF_AMOUNT", "amount")
    assert f"{owed.payoff:,.2f}" in body["zh"]
    assert repayment_count(engine, note) == 0 and workflows.starts == []


def test_a_repayment_is_recorded_then_its_workflow_started(client, engine, api_settings, workflows):
    note, borrower = note_for(engine)
    headers = data.key(**data.customer_headers(api_settings, borrower))
    r = client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "1000.00"}, headers=headers)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["repayment_no"] == f"RP{note.note_no}-001" and body["status"] == "requested"
    assert r.headers["location"] == f"/v1/loans/{note.note_no}/repayments/{body['repayment_no']}"
    [start] = workflows.starts
    with Session(engine) as s:
        row = s.exec(select(Repayment).where(Repayment.note_id == note.id)).one()
    assert (start.name, start.workflow_id) == (names.REPAYMENT, names.repayment_workflow_id(row.repayment_no))
    assert start.arg == RepaymentInput(repayment_id=row.id, repayment_no=row.repayment_no, note_no=note.note_no,
                                       customer_id=borrower.id,
                                       line_workflow_id=line_workflow_id(engine, note))
    assert (row.amount, row.status, row.request_key, row.requested_by) == (
        D("1000.00"), "requested", headers["Idempotency-Key"], f"customer:{borrower.id}")

    # The same key and body: the first answer again, one row, no second start.
    again = client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "1000.00"}, headers=headers)
    assert again.status_code == 202 and again.json()["repayment_no"] == body["repayment_no"]
    assert again.headers.get("idempotent-replayed") == "true"
    assert repayment_count(engine, note) == 1 and len(workflows.starts) == 1
    # The same key with another body is refused.
    assert_problem(client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "1000.01"}, headers=headers),
                   422, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key")
    # While it runs, another repayment of the note waits.
    body = assert_problem(client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "5.00"},
                                      headers=data.key(**data.customer_headers(api_settings, borrower))),
                          409, "REPAYMENT_IN_PROGRESS")
    assert body["repayment_no"] == f"RP{note.note_no}-001"
    assert repayment_count(engine, note) == 1

    view = client.get(f"/v1/loans/{note.note_no}/repayments/{row.repayment_no}", headers=headers).json()
    assert (view["status"], view["status_zh"], view["amount"], view["lines"]) == ("requested", "已受理", "1000.00", [])
    assert_problem(client.get(f"/v1/loans/{note.note_no}/repayments/RPX-001", headers=headers), 404,
                   "REPAYMENT_NOT_FOUND", "repayment_no")


def test_the_same_key_from_the_branch_finds_the_same_repayment(client, engine, api_settings, workflows):
    """The key is unique per note in the database too: a manager retrying the borrower's request with its
    key gets that repayment back, not a second one."""
    note, borrower = note_for(engine)
    mine = data.key(**data.customer_headers(api_settings, borrower))
    first = client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "300.00"}, headers=mine).json()
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager", branch=factories.BRANCH))
    same = client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "300.00"},
                       headers={**manager, "Idempotency-Key": mine["Idempotency-Key"]})
    assert same.status_code == 202 and same.json()["repayment_no"] == first["repayment_no"]
    assert_problem(client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "301.00"},
                               headers={**manager, "Idempotency-Key": mine["Idempotency-Key"]}),
                   422, "IDEMPOTENCY_KEY_REUSED")
    assert repayment_count(engine, note) == 1


def test_who_may_repay(client, engine, api_settings, workflows):
    note, borrower = note_for(engine)
    url = f"/v1/loans/{note.note_no}/repayments"
    stranger = data.customer_headers(api_settings, data.add_customer(engine))
    assert_problem(client.post(url, json={"amount": "10.00"}, headers=data.key(**stranger)), 404,
                   "LOAN_NOTE_NOT_FOUND", "note_no")
    other_branch = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    assert_problem(client.post(url, json={"amount": "10.00"}, headers=data.key(**other_branch)), 404,
                   "LOAN_NOTE_NOT_FOUND")
    approver = data.staff_headers(api_settings, data.add_staff(engine, "approver", branch=factories.BRANCH))
    assert_problem(client.post(url, json={"amount": "10.00"}, headers=data.key(**approver)), 403, "ROLE_FORBIDDEN")
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager", branch=factories.BRANCH))
    r = client.post(url, json={"amount": "10.00"}, headers=data.key(**manager))
    assert r.status_code == 202, r.text
    with Session(engine) as s:
        assert s.exec(select(Repayment).where(Repayment.note_id == note.id)).one().requested_by.startswith("staff:")


def test_a_closed_note_takes_no_repayment(client, engine, api_settings, workflows):
    note, borrower = note_for(engine)
    headers = data.customer_headers(api_settings, borrower)
    for status in ("settled", "pending", "failed"):
        set_note(engine, note, status=status)
        body = assert_problem(client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "10.00"},
                                          headers=data.key(**headers)), 409, "NOTE_CLOSED", "note_no")
        assert status in body["en"]
    assert repayment_count(engine, note) == 0 and workflows.starts == []


def test_a_repayment_the_domain_accepts_is_accepted(client, engine, api_settings, workflows):
    """The API runs domain.servicing.allocate: exactly what is due, and exactly the payoff, pass."""
    for pick in ("total_due", "payoff"):
        note, borrower = note_for(engine)
        headers = data.customer_headers(api_settings, borrower)
        value_date = date.fromisoformat(client.get(f"/v1/loans/{note.note_no}", headers=headers)
                                        .json()["servicing"]["value_date"])
        state, order = state_of(engine, note.note_no)
        amount = getattr(dues(state, value_date), pick)
        assert allocate(state, amount, value_date, order).kind == ("due" if pick == "total_due" else "payoff")
        r = client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": str(amount)},
                        headers=data.key(**headers))
        assert r.status_code == 202, r.text
        assert r.json()["value_date"] == value_date.isoformat()


def test_a_failed_start_keeps_the_row_and_a_retry_starts_it(client, engine, api_settings, workflows):
    note, borrower = note_for(engine)
    headers = data.key(**data.customer_headers(api_settings, borrower))
    workflows.start_error = TemporalUnavailable("down")
    body = assert_problem(client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "50.00"},
                                      headers=headers), 503, "WORKFLOW_START_FAILED")
    assert body["repayment_no"] == f"RP{note.note_no}-001"
    workflows.start_error = None
    r = client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "50.00"}, headers=headers)
    assert r.status_code == 202 and r.json()["repayment_no"] == body["repayment_no"]
    assert repayment_count(engine, note) == 1 and len(workflows.starts) == 2
    assert {s.workflow_id for s in workflows.starts} == {names.repayment_workflow_id(body["repayment_no"])}


def test_a_repayment_whose_start_failed_is_started_by_the_next_request_instead_of_blocking_the_note(
        client, engine, api_settings, workflows):
    note, borrower = note_for(engine)
    headers = data.customer_headers(api_settings, borrower)
    workflows.start_error = TemporalUnavailable("down")
    first = assert_problem(client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "50.00"},
                                       headers=data.key(**headers)), 503, "WORKFLOW_START_FAILED")
    workflows.start_error = None
    # Another key (the borrower gave up on the first): 409 names the one in progress, which now runs.
    body = assert_problem(client.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "80.00"},
                                      headers=data.key(**headers)), 409, "REPAYMENT_IN_PROGRESS")
    assert body["repayment_no"] == first["repayment_no"]
    assert [s.workflow_id for s in workflows.starts][-1] == names.repayment_workflow_id(first["repayment_no"])
    assert repayment_count(engine, note) == 1


# ---- reversing ----

def test_only_the_latest_posted_repayment_is_reversed_by_a_checker(client, engine, api_settings, workflows):
    note, borrower = note_for(engine)
    older = add_repayment(engine, note, 1, status="posted", posted_minutes_ago=10)
    latest = add_repayment(engine, note, 2, status="posted", posted_minutes_ago=1)
    failed = add_repayment(engine, note, 3, status="failed")
    url = f"/v1/loans/{note.note_no}/repayments/{{}}/reversal"
    approver = data.staff_headers(api_settings, data.add_staff(engine, "approver", branch=factories.BRANCH))
    assert_problem(client.post(url.format(latest.repayment_no), headers=data.customer_headers(api_settings, borrower)),
                   403, "ROLE_FORBIDDEN")
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager", branch=factories.BRANCH))
    assert_problem(client.post(url.format(latest.repayment_no), headers=manager), 403, "ROLE_FORBIDDEN")
    elsewhere = data.staff_headers(api_settings, data.add_staff(engine, "approver"))
    assert_problem(client.post(url.format(latest.repayment_no), headers=elsewhere), 404, "LOAN_NOTE_NOT_FOUND")
    body = assert_problem(client.post(url.format(older.repayment_no), headers=approver), 409,
                          "NOT_LATEST_REPAYMENT", "repayment_no")
    assert latest.repayment_no in body["zh"] and body["latest"] == latest.repayment_no
    assert_problem(client.post(url.format(failed.repayment_no), headers=approver), 409, "REPAYMENT_NOT_POSTED",
                   "repayment_no")
    assert_problem(client.post(url.format("RPX-9"), headers=approver), 404, "REPAYMENT_NOT_FOUND")
    assert workflows.starts == []

    r = client.post(url.format(latest.repayment_no), headers=approver)
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/v1/loans/{note.note_no}/repayments/{latest.repayment_no}"
    [start] = workflows.starts
    assert (start.name, start.workflow_id) == (names.REPAYMENT_REVERSAL,
                                               names.reversal_workflow_id(latest.repayment_no))
    assert start.arg == ReversalInput(repayment_no=latest.repayment_no, note_no=note.note_no, customer_id=borrower.id,
                                      line_workflow_id=line_workflow_id(engine, note),
                                      requested_by=start.arg.requested_by)
    assert start.arg.requested_by.startswith("staff:")

    # A repayment in flight is not overtaken by a reversal.
    add_repayment(engine, note, 4, status="requested")
    assert_problem(client.post(url.format(latest.repayment_no), headers=approver), 409, "REPAYMENT_IN_PROGRESS")


# ---- the business date and end of day ----

def test_the_business_date_and_the_running_end_of_day(client, engine, api_settings, workflows, monkeypatch):
    ops = data.staff_headers(api_settings, data.add_staff(engine, "ops"))
    assert_problem(client.get("/v1/ops/business-date",
                              headers=data.staff_headers(api_settings, data.add_staff(engine, "approver"))),
                   403, "ROLE_FORBIDDEN")
    monkeypatch.setattr(eod, "closed_date", lambda session: date(2026, 11, 20))
    workflows.query_outcomes[names.QUERY_PROGRESS] = EodProgress(
        business_date=date(2026, 11, 21), through=date(2026, 11, 25), chunks_done=1, chunks_total=4,
        notes_closed=5000, days_closed=[])
    body = client.get("/v1/ops/business-date", headers=ops).json()
    assert (body["closed_date"], body["open_date"], body["end_of_day_running"]) == ("2026-11-20", "2026-11-21", True)
    assert body["end_of_day"]["chunks_total"] == 4 and body["today"] == _today().isoformat()
    assert workflows.queries[-1].workflow_id == names.END_OF_DAY_WORKFLOW_ID

    workflows.query_outcomes[names.QUERY_PROGRESS] = RPCError("not found", RPCStatusCode.NOT_FOUND, b"")
    body = client.get("/v1/ops/business-date", headers=ops).json()
    assert body["end_of_day"] is None and body["end_of_day_running"] is False


def test_end_of_day_is_started_once_for_dates_that_have_ended(client, engine, api_settings, workflows, monkeypatch):
    ops = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    yesterday = _today() - timedelta(days=1)
    monkeypatch.setattr(eod, "closed_date", lambda session: yesterday - timedelta(days=3))
    assert_problem(client.post("/v1/ops/end-of-day", json={"through": "2026-02-30"}, headers=ops), 422,
                   "VALIDATION_FAILED", "through")
    runtime = client.app.state.runtime
    monkeypatch.setattr(runtime, "settings", runtime.settings.model_copy(update={"env": "production"}))
    assert_problem(client.post("/v1/ops/end-of-day", json={"through": _today().isoformat()}, headers=ops), 422,
                   "DATE_NOT_ENDED", "through")
    monkeypatch.undo()
    monkeypatch.setattr(eod, "closed_date", lambda session: yesterday - timedelta(days=3))
    body = assert_problem(client.post("/v1/ops/end-of-day",
                                      json={"through": (yesterday - timedelta(days=3)).isoformat()}, headers=ops),
                          422, "ALREADY_CLOSED", "through")
    assert "无需重复" in body["zh"] and "nothing to do" in body["en"]
    assert workflows.starts == []
    assert_problem(client.post("/v1/ops/end-of-day", json={},
                               headers=data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))),
                   403, "ROLE_FORBIDDEN")

    workflows.query_outcomes[names.QUERY_PROGRESS] = EodProgress(
        business_date=None, through=yesterday, chunks_done=0, chunks_total=0, notes_closed=0, days_closed=[])
    r = client.post("/v1/ops/end-of-day", json={}, headers=ops)
    assert r.status_code == 202, r.text
    assert r.json()["through"] == yesterday.isoformat() and r.json()["workflow_id"] == names.END_OF_DAY_WORKFLOW_ID
    [start] = workflows.starts
    assert (start.name, start.workflow_id, start.arg) == (names.END_OF_DAY, names.END_OF_DAY_WORKFLOW_ID,
                                                          EodInput(through=yesterday))
    # One is already closing through another date: the start attached to it, and the caller is told.
    workflows.query_outcomes[names.QUERY_PROGRESS] = EodProgress(
        business_date=yesterday - timedelta(days=2), through=yesterday - timedelta(days=1), chunks_done=0,
        chunks_total=1, notes_closed=0, days_closed=[])
    body = assert_problem(client.post("/v1/ops/end-of-day", json={"through": yesterday.isoformat()}, headers=ops),
                          409, "END_OF_DAY_RUNNING")
    assert body["running_through"] == (yesterday - timedelta(days=1)).isoformat()

    # A test system moves its business date forward.
    ahead = _today() + timedelta(days=30)
    workflows.query_outcomes[names.QUERY_PROGRESS] = EodProgress(
        business_date=None, through=ahead, chunks_done=0, chunks_total=0, notes_closed=0, days_closed=[])
    r = client.post("/v1/ops/end-of-day", json={"through": ahead.isoformat()}, headers=ops)
    assert r.status_code == 202 and workflows.starts[-1].arg == EodInput(through=ahead)


# ---- end to end: the real workflows on a worker, the core-banking simulator ----

@asynccontextmanager
async def real_workflows(app_client, dev_env, engine, settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a real gateway to a worker on its own task queue, called over ASGI from this loop (the
    worker runs on it too)."""
    async with running_worker(dev_env.client, engine, settings) as (queue, _):
        runtime = app_client.app.state.runtime
        before = runtime.workflows
        runtime.workflows = TemporalGateway(dev_env.client, task_queue=queue)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_client.app),
                                         base_url="http://api.test") as http:
                yield http
        finally:
            runtime.workflows = before


def funded_note(engine, *, extra: str = "500") -> tuple[LoanNote, Customer, CoreBankingSimulator]:
    """A note disbursed in the core-banking simulator into the borrower's deposit account, plus `extra`."""
    note, borrower = note_for(engine, start=_today())
    bank = CoreBankingSimulator(engine)
    account = bank.open_deposit_account(customer_no=borrower.customer_no)
    with session_scope(engine) as s:
        row = s.get(Customer, borrower.id)
        row.settlement_account = account
        s.add(row)
    bank.disburse(idempotency_key=f"{note.note_no}:disburse", note_no=note.note_no, to_account=account,
                  amount=note.amount)
    bank.deposit(idempotency_key=f"cash-{note.note_no}", to_account=account, amount=D(extra))
    return note, borrower, bank


def repayment_row(engine, repayment_no: str) -> Repayment:
    with Session(engine) as s:
        return s.exec(select(Repayment).where(Repayment.repayment_no == repayment_no)).one()


@pytest.mark.timeout(120)
async def test_a_repayment_posts_end_to_end_and_is_reversed(app_client, dev_env, engine, settings, api_settings):
    data.ensure_reference(engine)
    note, borrower, bank = funded_note(engine)
    headers = data.customer_headers(api_settings, borrower)
    approver = data.staff_headers(api_settings, data.add_staff(engine, "approver", branch=factories.BRANCH))
    async with real_workflows(app_client, dev_env, engine, settings) as http:
        r = await http.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "2000.00"},
                            headers=data.key(**headers))
        assert r.status_code == 202, r.text
        repayment_no = r.json()["repayment_no"]
        await until(lambda: repayment_row(engine, repayment_no).status in ("posted", "failed"), timeout=60)
        row = repayment_row(engine, repayment_no)
        assert (row.status, row.kind, row.principal) == ("posted", "prepayment", D("2000.00")), row.failure_code
        view = (await http.get(f"/v1/loans/{note.note_no}/repayments/{repayment_no}", headers=headers)).json()
        assert view["posting_id"] == row.posting_id and [ln["bucket"] for ln in view["lines"]] == ["prepayment"]
        detail = (await http.get(f"/v1/loans/{note.note_no}", headers=headers)).json()
        assert detail["servicing"]["outstanding_principal"] == "10000.00"
        assert bank.loan_balance(note.note_no) == D("10000.00")
        statement = (await http.get(f"/v1/loans/{note.note_no}/statement", headers=headers)).json()
        assert [e["outstanding_principal"] for e in statement["entries"]] == ["12000.00", "10000.00"]

        r = await http.post(f"/v1/loans/{note.note_no}/repayments/{repayment_no}/reversal", headers=approver)
        assert r.status_code == 202, r.text
        await until(lambda: repayment_row(engine, repayment_no).status == "reversed", timeout=60)
        detail = (await http.get(f"/v1/loans/{note.note_no}", headers=headers)).json()
        assert detail["servicing"]["outstanding_principal"] == "12000.00"
        assert bank.loan_balance(note.note_no) == D("12000.00")
        statement = (await http.get(f"/v1/loans/{note.note_no}/statement", headers=headers)).json()
        assert [(e["kind"], e["outstanding_principal"]) for e in statement["entries"]] == [
            ("disbursement", "12000.00"), ("repayment", "10000.00"), ("reversal", "12000.00")]
    assert bank.trial_balance() == 0


@pytest.mark.timeout(120)
async def test_a_payoff_settles_the_note_end_to_end(app_client, dev_env, engine, settings, api_settings):
    data.ensure_reference(engine)
    note, borrower, bank = funded_note(engine)
    headers = data.customer_headers(api_settings, borrower)
    async with real_workflows(app_client, dev_env, engine, settings) as http:
        q = (await http.get(f"/v1/loans/{note.note_no}/payoff-quote", headers=headers)).json()
        r = await http.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": q["payoff"]},
                            headers=data.key(**headers))
        assert r.status_code == 202, r.text
        repayment_no = r.json()["repayment_no"]
        await until(lambda: repayment_row(engine, repayment_no).status in ("posted", "failed"), timeout=60)
        assert repayment_row(engine, repayment_no).status == "posted"
        detail = (await http.get(f"/v1/loans/{note.note_no}", headers=headers)).json()
        assert (detail["status"], detail["servicing"]["outstanding_principal"]) == ("settled", "0.00")
        assert bank.loan_balance(note.note_no) == 0
        assert_problem(await http.post(f"/v1/loans/{note.note_no}/repayments", json={"amount": "1.00"},
                                       headers=data.key(**headers)), 409, "NOTE_CLOSED")
