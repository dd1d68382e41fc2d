"""Verifying signed contracts through the API: the QR page, an uploaded file, the evidence log, the CRL.

The documents here are real: a rendered contract, signed by SigningActivities through the CA simulator
(borrower, then the cooperative's seal), stored in the imaging simulator.
"""

from __future__ import annotations

from datetime import timedelta

from cryptography import x509
from sqlalchemy import update
from sqlalchemy.engine import Engine

from activities.signing import SigningActivities
from adapters.ca.simulator import CaSimulator
from adapters.imaging.simulator import ImagingSimulator
from db.engine import session_scope
from db.models import Customer, Document
from documents.models import LoanContractData
from documents.render import render_loan_contract
from tests.api import data
from tests.api.asserts import assert_problem
from tests.documents.contract_data import make_loan_fields
from workflows.messages import SignDocumentInput

_PDF: list[bytes] = []


def contract_pdf() -> bytes:
    if not _PDF:
        _PDF.append(render_loan_contract(LoanContractData(**make_loan_fields())).pdf)
    return _PDF[0]


def signed_document(engine: Engine) -> tuple[Customer, Document]:
    customer = data.add_customer(engine, name="郑秋菊")
    app = data.add_application(engine, customer, stage="awaiting_signatures")
    imaging = ImagingSimulator(engine)
    doc = data.add_document(engine, app, customer, sha256=imaging.put(contract_pdf(), content_type="application/pdf"))
    SigningActivities(engine, CaSimulator(engine), imaging).sign_document(SignDocumentInput(
        document_id=doc.id, signer_customer_id=customer.id, otp_ref="OTP-TEST-1", channel="self_service"))
    with session_scope(engine) as s:
        stored = s.get(Document, doc.id)
        s.expunge(stored)
    return customer, stored


def test_the_qr_page_checks_every_signature_in_the_signed_pdf_and_names_no_person(client, engine) -> None:
    customer, doc = signed_document(engine)
    r = client.get(f"/v1/documents/{doc.doc_no}/verification")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["status"], body["signature_valid"], body["signature_problem"]) == ("signed", True, None)
    assert body["signed_sha256"] == doc.signed_sha256 != body["sha256"]
    assert [(s["field_name"], s["signer_kind"], s["valid"]) for s in body["signatures"]] == [
        ("borrower", "person", True), ("lender_seal", "seal", True)]
    assert body["signatures"][0]["organisation"] is None and body["signatures"][1]["organisation"]
    assert body["signatures"][0]["signed_at"] is not None
    assert customer.name not in r.text and customer.resident_id not in r.text and customer.customer_no not in r.text


def test_the_signed_pdf_is_the_issued_one_with_signatures_appended(client, engine, api_settings) -> None:
    customer, doc = signed_document(engine)
    pdf = client.get(f"/v1/documents/{doc.doc_no}/pdf", headers=data.customer_headers(api_settings, customer)).content
    assert pdf.startswith(contract_pdf()) and len(pdf) > len(contract_pdf())


def test_an_uploaded_file_is_checked_and_any_changed_byte_is_tampering(client, engine) -> None:
    _, doc = signed_document(engine)
    pdf = ImagingSimulator(engine).get(doc.signed_sha256)
    r = client.post("/v1/documents/verify", content=pdf, headers={"Content-Type": "application/pdf"})
    assert r.status_code == 200, r.text
    assert (r.json()["valid"], r.json()["tampered"], r.json()["doc_no"]) == (True, False, doc.doc_no)
    changed = bytearray(pdf)
    changed[len(pdf) // 3] ^= 0x01
    r = client.post("/v1/documents/verify", content=bytes(changed), headers={"Content-Type": "application/pdf"})
    body = r.json()
    assert (body["valid"], body["tampered"], body["doc_no"]) == (False, True, None)
    assert "DOCUMENT_TAMPERED" in {s["problem"] for s in body["signatures"]}


def test_a_stored_file_swapped_for_an_altered_copy_fails_verification(client, engine) -> None:
    _, doc = signed_document(engine)
    imaging = ImagingSimulator(engine)
    altered = imaging.get(doc.signed_sha256) + b"\n% appended after signing\n"
    with session_scope(engine) as s:
        s.exec(update(Document).where(Document.id == doc.id)
               .values(signed_sha256=imaging.put(altered, content_type="application/pdf")))
    body = client.get(f"/v1/documents/{doc.doc_no}/verification").json()
    assert body["signature_valid"] is False and body["signature_problem"]


def test_an_unsigned_document_has_no_signatures_to_check(client, engine) -> None:
    customer = data.add_customer(engine)
    doc = data.add_document(engine, data.add_application(engine, customer), customer)
    body = client.get(f"/v1/documents/{doc.doc_no}/verification").json()
    assert (body["status"], body["signature_valid"], body["signatures"]) == ("issued", None, [])


def test_the_evidence_log_is_for_the_signer_and_staff_only(client, engine, api_settings) -> None:
    customer, doc = signed_document(engine)
    r = client.get(f"/v1/documents/{doc.doc_no}/evidence", headers=data.customer_headers(api_settings, customer))
    assert r.status_code == 200, r.text
    log = r.json()
    assert log["chain_intact"] is True
    first, seal = log["entries"]
    assert (first["field_name"], first["evidence"]["otp_ref"], first["evidence"]["channel"]) == (
        "borrower", "OTP-TEST-1", "self_service")
    assert first["document_sha256"] == doc.sha256 and seal["signed_sha256"] == doc.signed_sha256
    assert seal["evidence"]["after_signature"] == first["signature_id"] == doc.signature_id
    manager = data.add_staff(engine, "customer_manager")
    assert client.get(f"/v1/documents/{doc.doc_no}/evidence",
                      headers=data.staff_headers(api_settings, manager)).status_code == 200
    stranger = data.customer_headers(api_settings, data.add_customer(engine))
    assert_problem(client.get(f"/v1/documents/{doc.doc_no}/evidence", headers=stranger), 404, "DOCUMENT_NOT_FOUND")
    assert client.get(f"/v1/documents/{doc.doc_no}/evidence").status_code == 401


def test_the_crl_and_root_are_public_and_a_revocation_shows_in_verification(client, engine) -> None:
    _, doc = signed_document(engine)
    root = x509.load_pem_x509_certificate(client.get("/v1/ca/root.pem").content)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca = CaSimulator(engine)
    borrower = ca.evidence_log(doc.doc_no)[0]
    ca.revoke(certificate_serial=borrower.certificate_serial, reason="keyCompromise")
    r = client.get("/v1/ca/crl")
    assert r.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(r.content)
    assert crl.get_revoked_certificate_by_serial_number(int(borrower.certificate_serial, 16)) is not None
    # Revoked after it signed: the signature was made with a good key and still holds, at level B-LTA.
    body = client.get(f"/v1/documents/{doc.doc_no}/verification").json()
    assert (body["signature_valid"], body["signature_level"]) == (True, "B-LTA")
    assert [(s["field_name"], s["revoked_later"]) for s in body["signatures"]] == [("borrower", True),
                                                                                  ("lender_seal", False)]
    # Another borrower's key known compromised since before they signed: that signature no longer holds.
    # (Not the seal's: the cooperative's seal signs every other test's documents.)
    _, other = signed_document(engine)
    signer = ca.evidence_log(other.doc_no)[0]
    ca.revoke(certificate_serial=signer.certificate_serial, reason="keyCompromise",
              effective_at=signer.signed_at - timedelta(minutes=1))
    body = client.get(f"/v1/documents/{other.doc_no}/verification").json()
    assert (body["signature_valid"], body["signature_problem"], body["signature_level"]) == (
        False, "CERTIFICATE_REVOKED", None)


def test_a_superseded_document_says_so_and_names_its_replacement(client, engine) -> None:
    _, doc = signed_document(engine)
    with session_scope(engine) as s:
        s.exec(update(Document).where(Document.id == doc.id).values(
            status="void", void_reason="AMENDED:CUSTOMER_REQUESTED", superseded_by=f"{doc.doc_no}-R2"))
    body = client.get(f"/v1/documents/{doc.doc_no}/verification").json()
    assert (body["status"], body["superseded"], body["superseded_by"]) == ("void", True, f"{doc.doc_no}-R2")
    assert body["void_reason"] == "AMENDED:CUSTOMER_REQUESTED" and f"{doc.doc_no}-R2" in body["notice"]
    pdf = ImagingSimulator(engine).get(doc.signed_sha256)
    upload = client.post("/v1/documents/verify", content=pdf, headers={"Content-Type": "application/pdf"}).json()
    assert (upload["doc_no"], upload["document_status"], upload["superseded_by"]) == (
        doc.doc_no, "void", f"{doc.doc_no}-R2")


def test_a_drawdown_note_is_signed_by_the_borrower_only_and_its_schedule_not_at_all(client, engine,
                                                                                   api_settings) -> None:
    customer = data.add_customer(engine)
    app = data.add_application(engine, customer)
    schedule = data.add_document(engine, app, customer, kind="repayment_schedule")
    r = client.post(f"/v1/documents/{schedule.doc_no}/signing-code", headers=data.customer_headers(api_settings, customer))
    assert_problem(r, 409, "DOCUMENT_NOT_SIGNABLE", "doc_no")
    note = data.add_document(engine, app, customer, kind="drawdown_note")
    manager = data.staff_headers(api_settings, data.add_staff(engine, "customer_manager"))
    assert_problem(client.post(f"/v1/documents/{note.doc_no}/signing-code", headers=manager), 403, "ROLE_FORBIDDEN")
    r = client.post(f"/v1/documents/{note.doc_no}/signing-code", headers=data.customer_headers(api_settings, customer))
    assert r.status_code == 202, r.text
