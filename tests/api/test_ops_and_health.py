"""Ops read views (masked, codes redacted) and the health probes."""

from __future__ import annotations

from decimal import Decimal

from adapters.sms.simulator import SmsSimulator
from tests.api import data
from tests.api.asserts import assert_problem


def test_the_outbox_masks_numbers_and_redacts_codes(client, engine, api_settings):
    customer = data.add_customer(engine)
    code = client.post("/v1/auth/otp", json={"mobile": customer.mobile}).json()["dev_code"]
    sms = SmsSimulator(engine)
    sms.send(idempotency_key=f"t-{customer.mobile}", mobile=customer.mobile, template="approved",
             body="【农e贷】您的申请 LA20260101000001 已获批准")
    sms.send(idempotency_key=f"c-{customer.mobile}", mobile=customer.mobile, template="otp_confirm",
             body="代办贷款申请LA20260101000002,验证码654321,5分钟内有效【农e贷】")
    ops = data.staff_headers(api_settings, data.add_staff(engine, "ops"))
    messages = client.get("/v1/ops/sms-outbox?limit=500", headers=ops).json()
    mine = [m for m in messages if m["mobile"] == customer.mobile[:3] + "****" + customer.mobile[-4:]]
    assert {m["template"] for m in mine} == {"otp_login", "approved", "otp_confirm"}
    assert all(customer.mobile not in m["body"] and code not in m["body"] and "654321" not in m["body"] for m in mine)
    # Only the code is redacted: the application number beside it stays readable.
    assert any("LA20260101000001" in m["body"] for m in mine) and any("LA20260101000002" in m["body"] for m in mine)


def test_ledger_views(client, engine, api_settings):
    ops = data.staff_headers(api_settings, data.add_staff(engine, "admin"))
    trial = client.get("/v1/ops/ledger/trial-balance", headers=ops).json()
    assert Decimal(trial["debit_minus_credit"]) == 0 and trial["balanced"] is True
    assert client.get("/v1/ops/ledger/postings", headers=ops).status_code == 200
    assert_problem(client.get("/v1/ops/ledger/accounts/0000", headers=ops), 404, "ACCOUNT_NOT_FOUND")


def test_health_and_readiness(client, workflows):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["temporal"] == "ok" and r.json()["database"] == "ok"
    workflows.reachable = False
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["temporal"] == "TemporalUnavailable"


def test_the_openapi_document_is_served(client):
    spec = client.get("/v1/openapi.json").json()
    assert "/v1/applications/{app_no}/confirm" in spec["paths"]
    assert spec["components"]["schemas"]["ApplicationIn"]["properties"]["amount"]["type"] == "string"
