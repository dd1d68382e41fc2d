"""Guarantors' consent, contract PDFs and e-signing routed to the right workflow."""

from __future__ import annotations

import hashlib

from sqlmodel import Session, select

from adapters.imaging.simulator import ImagingSimulator
from adapters.sms.simulator import SmsSimulator
from db.models import OneTimeCode
from tests.api import data
from tests.api.asserts import assert_problem
from workflows import names
from workflows.messages import ConsentInput, SignInput


def test_a_guarantor_sees_and_answers_their_invitations(client, engine, api_settings, workflows):
    borrower, guarantor = data.add_customer(engine, name="蔡建华"), data.add_customer(engine)
    app = data.add_application(engine, borrower, stage="awaiting_guarantors")
    guarantee = data.add_guarantee(engine, app, guarantor)
    doc = data.add_document(engine, app, guarantor, kind="guarantee_contract")
    headers = data.customer_headers(api_settings, guarantor)
    [invitation] = client.get("/v1/guarantees/mine", headers=headers).json()
    assert (invitation["app_no"], invitation["borrower_name"], invitation["amount"]) == (app.app_no, "蔡**", "50000.00")
    assert [d["doc_no"] for d in invitation["documents"]] == [doc.doc_no]

    r = client.post(f"/v1/guarantees/{guarantee.id}/consent", json={"accept": True}, headers=data.key(**headers))
    assert r.status_code == 200, r.text
    assert workflows.updates[-1].workflow_id == guarantee.workflow_id
    assert workflows.updates[-1].arg == ConsentInput(customer_id=guarantor.id, accept=True)
    other = data.customer_headers(api_settings, borrower)
    assert_problem(client.post(f"/v1/guarantees/{guarantee.id}/consent", json={"accept": True}, headers=other),
                   404, "GUARANTEE_NOT_FOUND")


def test_the_pdf_is_the_signed_one_once_signed(client, engine, api_settings):
    customer = data.add_customer(engine)
    app = data.add_application(engine, customer)
    imaging = ImagingSimulator(engine)
    issued, signed = b"%PDF-1.7 issued " + app.app_no.encode(), b"%PDF-1.7 signed " + app.app_no.encode()
    unsigned_doc = data.add_document(engine, app, customer, sha256=imaging.put(issued, content_type="application/pdf"))
    signed_doc = data.add_document(engine, app, customer, sha256=hashlib.sha256(issued).hexdigest(),
                                   signed_sha256=imaging.put(signed, content_type="application/pdf"))
    headers = data.customer_headers(api_settings, customer)
    r = client.get(f"/v1/documents/{unsigned_doc.doc_no}/pdf", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content == issued
    assert client.get(f"/v1/documents/{signed_doc.doc_no}/pdf", headers=headers).content == signed
    meta = client.get(f"/v1/documents/{signed_doc.doc_no}", headers=headers).json()
    assert meta["status"] == "signed" and "data_snapshot" not in meta
    stranger = data.customer_headers(api_settings, data.add_customer(engine))
    assert_problem(client.get(f"/v1/documents/{signed_doc.doc_no}/pdf", headers=stranger), 404, "DOCUMENT_NOT_FOUND")


def _signing_code(client, headers, doc_no: str) -> str:
    r = client.post(f"/v1/documents/{doc_no}/signing-code", headers=headers)
    assert r.status_code == 202, r.text
    return r.json()["dev_code"]


def test_the_borrower_signs_the_loan_contract_through_the_application(client, engine, api_settings, workflows):
    customer = data.add_customer(engine)
    app = data.add_application(engine, customer, stage="awaiting_signatures")
    doc = data.add_document(engine, app, customer)
    headers = data.customer_headers(api_settings, customer)
    code = _signing_code(client, headers, doc.doc_no)
    [sms] = SmsSimulator(engine).outbox(mobile=customer.mobile)
    assert sms.template == "otp_sign" and doc.doc_no in sms.body

    r = client.post(f"/v1/documents/{doc.doc_no}/sign", json={"code": code}, headers=data.key(**headers))
    assert r.status_code == 200, r.text
    assert r.json()["application"]["app_no"] == app.app_no
    update = workflows.updates[-1]
    with Session(engine) as s:
        ref = s.exec(select(OneTimeCode.ref).where(OneTimeCode.purpose == f"sign:{doc.doc_no}")).one()
    assert (update.workflow_id, update.name) == (app.workflow_id, names.UPDATE_SIGN)
    assert update.arg == SignInput(document_id=doc.id, signer_customer_id=customer.id, otp_ref=ref)


def test_a_guarantor_signs_through_their_own_workflow(client, engine, api_settings, workflows):
    borrower, guarantor = data.add_customer(engine), data.add_customer(engine)
    app = data.add_application(engine, borrower, stage="awaiting_signatures")
    guarantee = data.add_guarantee(engine, app, guarantor, status="consented")
    doc = data.add_document(engine, app, guarantor, kind="guarantee_contract")
    headers = data.customer_headers(api_settings, guarantor)
    code = _signing_code(client, headers, doc.doc_no)
    r = client.post(f"/v1/documents/{doc.doc_no}/sign", json={"code": code}, headers=headers)
    assert r.status_code == 200, r.text
    assert (workflows.updates[-1].workflow_id, workflows.updates[-1].name) == (guarantee.workflow_id,
                                                                              names.UPDATE_GUARANTOR_SIGN)
    # The borrower may read the guarantee contract but not sign it.
    borrower_headers = data.customer_headers(api_settings, borrower)
    assert client.get(f"/v1/documents/{doc.doc_no}", headers=borrower_headers).status_code == 200
    assert_problem(client.post(f"/v1/documents/{doc.doc_no}/signing-code", headers=borrower_headers),
                   403, "NOT_SIGNER")


def test_a_signed_document_takes_no_more_codes(client, engine, api_settings):
    customer = data.add_customer(engine)
    doc = data.add_document(engine, data.add_application(engine, customer), customer, signed_sha256="1" * 64)
    r = client.post(f"/v1/documents/{doc.doc_no}/signing-code", headers=data.customer_headers(api_settings, customer))
    assert_problem(r, 409, "DOCUMENT_NOT_SIGNABLE", "doc_no")
