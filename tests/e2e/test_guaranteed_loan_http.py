"""A guaranteed loan through HTTP only: a customer manager applies for a farmer on a tablet, the farmer
confirms by SMS code, the guarantor consents, everyone signs, the line opens, money reaches the ledger."""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import uuid
from decimal import Decimal

import httpx
import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from adapters.sms.tables import SmsMessage
from db.engine import make_engine
from db.seed import DEMO_PASSWORD, demo_customer_specs

pytestmark = pytest.mark.e2e

BORROWER, GUARANTOR = demo_customer_specs()[0], demo_customer_specs()[1]


async def poll(fetch, done, *, timeout: float = 60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await fetch()
        if done(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"gave up waiting; last value: {value}")
        await asyncio.sleep(0.3)


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


async def staff_token(http: httpx.AsyncClient, username: str) -> dict:
    body = ok(await http.post("/v1/auth/staff/login", json={"username": username, "password": DEMO_PASSWORD}))
    return {"Authorization": f"Bearer {body['access_token']}"}


async def customer_token(http: httpx.AsyncClient, mobile: str) -> dict:
    sent = ok(await http.post("/v1/auth/otp", json={"mobile": mobile}), 202)
    body = ok(await http.post("/v1/auth/otp/verify", json={"mobile": mobile, "code": sent["dev_code"]}))
    return {"Authorization": f"Bearer {body['access_token']}"}


def key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


def phone_inbox(db_url: str, mobile: str, template: str) -> str | None:
    """The code in the newest SMS of `template` the simulated gateway delivered to `mobile`."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            body = s.exec(select(SmsMessage.body).where(SmsMessage.mobile == mobile, SmsMessage.template == template)
                          .order_by(SmsMessage.id.desc())).first()
    finally:
        engine.dispose()
    match = re.search(r"验证码(?:为)?(\d{6})", body or "")
    return match.group(1) if match else None


async def test_guaranteed_loan_from_tablet_to_ledger(product_stack, dev_env, e2e_db):
    async with httpx.AsyncClient(base_url=product_stack, timeout=30) as http:
        manager = await staff_token(http, "manager01")
        found = ok(await http.post("/v1/customers/search", json={"q": BORROWER.name}, headers=manager))
        borrower_id = found["items"][0]["id"]

        # The manager starts it on the tablet; a retry with the same key creates nothing new.
        request = {"product_code": "NONG_E_DAI", "amount": "80000.00", "term_months": 12,
                   "repayment_method": "equal_installment", "guarantee_type": "guaranteed", "purpose": "茶叶种植",
                   "customer_id": borrower_id,
                   "guarantors": [{"name": GUARANTOR.name, "resident_id": GUARANTOR.resident_id,
                                   "mobile": GUARANTOR.mobile}]}
        idem = key()
        created = ok(await http.post("/v1/applications", json=request, headers={**manager, **idem}), 201)
        again = ok(await http.post("/v1/applications", json=request, headers={**manager, **idem}), 201)
        app_no = created["app_no"]
        assert again["app_no"] == app_no

        async def application(headers=manager):
            return ok(await http.get(f"/v1/applications/{app_no}", headers=headers))

        await poll(application, lambda a: a["stage"] == "awaiting_confirmation")
        # The farmer reads the code from the SMS on their phone and tells it to the manager, who types it in.
        code = await poll(lambda: asyncio.to_thread(phone_inbox, e2e_db, BORROWER.mobile, "otp_confirm"),
                          lambda c: c is not None)
        wrong = await http.post(f"/v1/applications/{app_no}/confirm", json={"code": "000000"},
                                headers={**manager, **key()})
        assert wrong.status_code == 422 and wrong.json()["code"].startswith("OTP_")
        ok(await http.post(f"/v1/applications/{app_no}/confirm", json={"code": code}, headers={**manager, **key()}))

        guarantor = await customer_token(http, GUARANTOR.mobile)

        async def invitations():
            return ok(await http.get("/v1/guarantees/mine", headers=guarantor))

        invitation = (await poll(invitations, lambda rows: any(r["app_no"] == app_no for r in rows)))[0]
        assert "*" in invitation["borrower_name"]
        ok(await http.post(f"/v1/guarantees/{invitation['id']}/consent", json={"accept": True},
                           headers={**guarantor, **key()}))

        state = await poll(application, lambda a: a["stage"] == "awaiting_signatures")
        assert state["status"] == "approved"

        borrower = await customer_token(http, BORROWER.mobile)
        docs = ok(await http.get(f"/v1/applications/{app_no}/documents", headers=borrower))
        contract = next(d for d in docs if d["kind"] == "loan_contract")
        pdf = await http.get(f"/v1/documents/{contract['doc_no']}/pdf", headers=borrower)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "借款合同" in text and "人民币捌万元整" in text and contract["doc_no"] in text

        sign_code = ok(await http.post(f"/v1/documents/{contract['doc_no']}/signing-code", headers=borrower), 202)
        ok(await http.post(f"/v1/documents/{contract['doc_no']}/sign", json={"code": sign_code["dev_code"]},
                           headers={**borrower, **key()}))
        # Anyone scanning the contract's QR code (no login) sees that it is signed and unaltered, not who signed.
        check = await http.get(f"/v1/documents/{contract['doc_no']}/verification")
        verified = ok(check)
        assert verified["status"] == "signed" and verified["signature_valid"] is True
        assert verified["sha256"] == hashlib.sha256(pdf.content).hexdigest()
        assert BORROWER.name not in check.text and BORROWER.mobile not in check.text
        invitation = (await poll(invitations, lambda rows: rows and rows[0]["documents"]))[0]
        guarantee_doc = invitation["documents"][0]["doc_no"]
        sign_code = ok(await http.post(f"/v1/documents/{guarantee_doc}/signing-code", headers=guarantor), 202)
        ok(await http.post(f"/v1/documents/{guarantee_doc}/sign", json={"code": sign_code["dev_code"]},
                           headers={**guarantor, **key()}))

        state = await poll(application, lambda a: a["status"] == "active")
        line_no = state["line_no"]

        drawdown = {"amount": "30000.00", "term_months": 12, "repayment_method": "equal_installment"}
        over = await http.post(f"/v1/credit-lines/{line_no}/drawdowns", json={**drawdown, "amount": "80000.01"},
                               headers={**borrower, **key()})
        assert over.status_code == 422 and over.json()["code"] == "LIMIT_EXCEEDED", over.text
        accepted = ok(await http.post(f"/v1/credit-lines/{line_no}/drawdowns", json=drawdown,
                                      headers={**borrower, **key()}), 202)

        # No money moves until the borrower signs the note (借据) with a fresh code.
        async def note_meta():
            return await http.get(f"/v1/documents/{accepted['note_no']}", headers=borrower)

        await poll(note_meta, lambda r: r.status_code == 200)
        code = ok(await http.post(f"/v1/documents/{accepted['note_no']}/signing-code", headers=borrower), 202)

        async def sign_note():
            signed = await http.post(f"/v1/documents/{accepted['note_no']}/sign", json={"code": code["dev_code"]},
                                     headers={**borrower, **key()})
            # 409 for the moment between the note's issue and the wait for its signature; the code stays usable.
            return None if signed.status_code == 409 else ok(signed)

        signed_note = await poll(sign_note, lambda r: r is not None)
        assert signed_note["kind"] == "drawdown_note" and signed_note["drawdown"]["signed"] is True

        async def notes():
            return ok(await http.get(f"/v1/credit-lines/{line_no}/notes", headers=borrower))

        disbursed = await poll(notes, lambda rows: any(n["status"] == "disbursed" for n in rows))
        note = next(n for n in disbursed if n["note_no"] == accepted["note_no"])
        assert Decimal(note["amount"]) == Decimal("30000.00")

        ops = await staff_token(http, "ops01")
        postings = ok(await http.get("/v1/ops/ledger/postings", params={"reference": note["note_no"]}, headers=ops))
        assert [p["kind"] for p in postings] == ["disbursement"]
        trial = ok(await http.get("/v1/ops/ledger/trial-balance", headers=ops))
        assert trial["balanced"] and Decimal(trial["debit_minus_credit"]) == 0
        outbox = ok(await http.get("/v1/ops/sms-outbox", headers=ops))
        assert {"drawdown_disbursed", "line_activated", "guarantor_invite"} <= {m["template"] for m in outbox}

    # Ops find the loan in the Temporal UI by its search attributes.
    query = f'LoanStage = "completed" AND BranchCode = "350322101" AND WorkflowId = "loan-app-{app_no}"'

    async def listed():
        return [w async for w in dev_env.client.list_workflows(query)]

    assert await poll(listed, lambda ws: len(ws) == 1, timeout=30)
