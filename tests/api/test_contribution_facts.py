"""The data warehouse's contribution feed over HTTP: valid rows replace the facts the contribution engine
reads; every refused row is reported field by field; a dry run writes nothing; GBK files with Chinese
headings; a file without a required column is refused naming it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlmodel import Session

from db.models import ContributionFacts
from tests.api import data
from tests.api.asserts import assert_problem

HEADER = "customer_no,as_of,avg_daily_assets,avg_daily_assets_prev,avg_loan_balance,settlement_txns,months_as_customer,products_held\n"


def upload(client, headers, body: bytes, dry_run: bool = False):
    return client.post(f"/v1/contribution-facts?dry_run={str(dry_run).lower()}", headers=headers,
                       files={"file": ("dw.csv", body, "text/csv")})


def facts(engine, customer_id: int) -> ContributionFacts | None:
    with Session(engine) as s:
        return s.get(ContributionFacts, customer_id)


def test_valid_rows_load_and_refused_rows_are_reported_field_by_field(client, engine, api_settings):
    ops = data.staff_headers(api_settings, data.add_staff(engine, "ops"))
    a, b, c = (data.add_customer(engine) for _ in range(3))
    tomorrow = datetime.now(UTC).date() + timedelta(days=2)  # past the Beijing business date too
    body = (HEADER
            + f"{a.customer_no},2026-11-01,\"1,250,000.50\",1000000,0,120,96,3\n"
            + f"{b.customer_no},2026-11-31,-5,abc,0,1.5,12,x\n"
            + f"NOPE0000001,{tomorrow},100,100,0,1,1,1\n"
            + f"{a.customer_no},2026-11-01,1,1,1,1,1,1\n"
            + f"{c.customer_no},2026-10-01,8000,9000,0,12,18,1\n")
    dry = upload(client, ops, body.encode(), dry_run=True)
    assert dry.status_code == 200, dry.text
    assert (dry.json()["rows_loaded"], dry.json()["rows_refused"]) == (0, 3) and facts(engine, a.id) is None

    out = upload(client, ops, body.encode()).json()
    assert (out["rows_total"], out["rows_loaded"], out["rows_refused"]) == (5, 2, 3)
    refused = {r["row_no"]: {(p["field"], p["code"]) for p in r["problems"]} for r in out["refused"]}
    assert refused == {
        3: {("as_of", "DATE_INVALID"), ("avg_daily_assets", "AMOUNT_NEGATIVE"), ("avg_daily_assets_prev", "AMOUNT_INVALID"),
            ("settlement_txns", "COUNT_INVALID"), ("products_held", "COUNT_INVALID")},
        4: {("customer_no", "CUSTOMER_UNKNOWN"), ("as_of", "DATE_IN_FUTURE")},
        5: {("customer_no", "DUPLICATE")}}
    assert all(p["zh"] and p["en"] for r in out["refused"] for p in r["problems"])
    loaded = facts(engine, a.id)
    assert (loaded.avg_daily_assets, loaded.settlement_txns, loaded.products_held) == (Decimal("1250000.50"), 120, 3)
    assert facts(engine, b.id) is None and facts(engine, c.id).as_of == date(2026, 10, 1)

    # An older extract never replaces newer facts; a newer one does.
    again = upload(client, ops, (HEADER + f"{a.customer_no},2026-10-01,1,1,1,1,1,1\n"
                                 + f"{c.customer_no},2026-11-01,9000,8000,0,20,19,2\n").encode()).json()
    assert [(p["field"], p["code"]) for p in again["refused"][0]["problems"]] == [("as_of", "STALE")]
    assert facts(engine, a.id).settlement_txns == 120 and facts(engine, c.id).settlement_txns == 20


def test_an_older_feed_that_read_before_a_newer_one_committed_does_not_overwrite_it(client, engine, api_settings,
                                                                                  monkeypatch):
    """The STALE check reads the stored dates before writing: the write itself compares them again, so of two
    feeds at once the older never replaces what the newer stored in between; its row is reported STALE."""
    from db.repositories import ratings as store
    ops = data.staff_headers(api_settings, data.add_staff(engine, "ops"))
    a, b = data.add_customer(engine), data.add_customer(engine)
    newer = upload(client, ops, (HEADER + f"{a.customer_no},2026-11-01,5000,5000,0,50,50,5\n").encode()).json()
    assert newer["rows_loaded"] == 1
    real, calls = store.contribution_as_of, []

    def racing(session, ids):  # the check read the dates before the newer feed committed
        calls.append(1)
        return {} if len(calls) == 1 else real(session, ids)

    monkeypatch.setattr(store, "contribution_as_of", racing)
    out = upload(client, ops, (HEADER + f"{a.customer_no},2026-10-01,1,1,1,1,1,1\n"
                               + f"{b.customer_no},2026-10-01,8000,9000,0,12,18,1\n").encode()).json()
    assert (out["rows_total"], out["rows_loaded"], out["rows_refused"]) == (2, 1, 1)
    assert out["refused"][0]["row_no"] == 2
    assert [(p["field"], p["code"]) for p in out["refused"][0]["problems"]] == [("as_of", "STALE")]
    assert "2026-11-01" in out["refused"][0]["problems"][0]["en"]
    kept = facts(engine, a.id)
    assert (kept.as_of, kept.settlement_txns) == (date(2026, 11, 1), 50)
    assert facts(engine, b.id).as_of == date(2026, 10, 1)
    # the same date replaces, as before
    monkeypatch.setattr(store, "contribution_as_of", real)
    same = upload(client, ops, (HEADER + f"{a.customer_no},2026-11-01,6000,5000,0,60,50,5\n").encode()).json()
    assert same["rows_loaded"] == 1 and facts(engine, a.id).settlement_txns == 60


def test_gbk_with_chinese_headings(client, engine, api_settings):
    ops = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    farmer = data.add_customer(engine)
    body = ("客户号,数据日期,近12个月日均资产,前12个月日均资产,日均贷款余额,结算笔数,开户月数,持有产品数\n"
            f"{farmer.customer_no},2026-11-01,300000元,250000,100000,100,72,4\n").encode("gbk")
    out = upload(client, ops, body).json()
    assert (out["encoding"], out["rows_loaded"]) == ("gbk", 1)
    assert facts(engine, farmer.id).avg_loan_balance == Decimal("100000.00")


def test_a_missing_column_and_the_wrong_role_are_refused(client, engine, api_settings):
    ops = data.staff_headers(api_settings, data.add_staff(engine, "ops"))
    r = upload(client, ops, b"customer_no,as_of\nC1,2026-11-01\n")
    body = assert_problem(r, 422, "HEADER_MISSING", "avg_daily_assets")
    assert {e["field"] for e in body["errors"]} == {"avg_daily_assets", "avg_daily_assets_prev", "avg_loan_balance",
                                                    "settlement_txns", "months_as_customer", "products_held"}
    assert_problem(upload(client, ops, b""), 422, "FILE_EMPTY", "file")
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    assert_problem(upload(client, manager, HEADER.encode()), 403, "ROLE_FORBIDDEN")


def test_values_beyond_what_a_household_can_have_are_refused_by_field_not_failed_in_the_database(
        client, engine, api_settings):
    ops = data.staff_headers(api_settings, data.add_staff(engine, "ops"))
    a = data.add_customer(engine)
    out = upload(client, ops, (HEADER + f"{a.customer_no},2026-11-01,99999999999999999,1,0,"
                               f"9999999999999,1,1\n").encode())
    assert out.status_code == 200, out.text
    refused = {(p["field"], p["code"]) for p in out.json()["refused"][0]["problems"]}
    assert refused == {("avg_daily_assets", "AMOUNT_TOO_LARGE"), ("settlement_txns", "COUNT_TOO_LARGE")}
    assert facts(engine, a.id) is None
