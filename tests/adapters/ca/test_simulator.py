"""CA simulator: a real two-level PKI, PAdES signatures applied incrementally, CRL, evidence chain."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from adapters.ca import pades, pki
from adapters.ca.evidence import chain_intact, entry_hash
from adapters.ca.port import PersonSigner, SealSigner
from adapters.ca.simulator import CaSimulator
from adapters.ca.tables import CaAuthority, CaSignature
from adapters.errors import AdapterUnavailable, OutcomeUnknown, Refused
from db.engine import make_engine, session_scope
from db.metadata import metadata
from documents.models import LoanContractData
from documents.render import render_loan_contract
from tests.documents.contract_data import make_loan_fields

SEAL = SealSigner(signer_ref="SEAL-350582101", organisation="福建省晋江农村商业银行股份有限公司", branch="安海支行")
EVIDENCE = {"channel": "h5", "otp_ref": "OTP-REF-1", "at": "2025-06-01T10:00:00+08:00"}


@pytest.fixture(scope="module")
def contract_pdf() -> bytes:
    return render_loan_contract(LoanContractData(**make_loan_fields())).pdf


@pytest.fixture
def ca(db_engine: Engine):
    sim = CaSimulator(db_engine)
    sim.clear_faults()
    yield sim
    sim.clear_faults()


def person() -> PersonSigner:
    return PersonSigner(signer_ref=f"C{uuid.uuid4().hex[:12].upper()}", name="林秀英", resident_id="350582199503121238")


def sign_both(ca: CaSimulator, pdf: bytes, ref: str | None = None):
    ref = ref or f"HT{uuid.uuid4().hex[:12]}"
    borrower = ca.sign_pdf(idempotency_key=f"{ref}:sign", document_ref=ref, pdf=pdf, signer=person(),
                           field_name="borrower", evidence=EVIDENCE)
    seal = ca.sign_pdf(idempotency_key=f"{ref}:seal", document_ref=ref, pdf=borrower.pdf, signer=SEAL,
                       field_name="lender_seal", evidence={"channel": "system"}, archive=True)
    return borrower, seal


def test_borrower_then_seal_are_incremental_pades_signatures_that_verify(ca: CaSimulator, contract_pdf: bytes) -> None:
    borrower, seal = sign_both(ca, contract_pdf)
    # Incremental: each signature only appends, so what was signed before is still a prefix.
    assert borrower.pdf.startswith(contract_pdf) and seal.pdf.startswith(borrower.pdf)
    assert borrower.document_sha256 == hashlib.sha256(contract_pdf).hexdigest()
    assert seal.document_sha256 == borrower.signed_sha256 == hashlib.sha256(borrower.pdf).hexdigest()
    result = ca.verify_pdf(seal.pdf)
    assert result.valid and not result.tampered and result.problem is None
    assert [(s.field_name, s.signer_kind, s.valid) for s in result.signatures] == [
        ("borrower", "person", True), ("lender_seal", "seal", True)]
    assert [s.signed_at for s in result.signatures] == [borrower.signed_at, seal.signed_at]
    assert result.signatures[0].signer_name == "林秀英" and result.signatures[0].signer_ref == borrower.signer_ref
    assert result.signatures[1].certificate_serial == seal.certificate_serial


def test_the_signature_verifies_with_pyhanko_and_only_the_root_certificate(ca: CaSimulator,
                                                                           contract_pdf: bytes) -> None:
    # An outside verifier holds just the root certificate and the CRL: the chain travels in the PDF.
    _, seal = sign_both(ca, contract_pdf)
    root = x509.load_pem_x509_certificate(ca.root_certificate_pem().encode())
    check = pades.verify(seal.pdf, root=root, crls=[ca.crl_der()])
    assert check.valid and all(s.trusted and s.intact and s.signed_at for s in check.signatures)
    # Chain and CRL in the document's security store, then a document timestamp over all of it.
    assert [s.level for s in check.signatures] == ["B-LTA", "B-LTA"] and check.level == "B-LTA"
    assert [t.field_name for t in check.archive_timestamps] == ["lender_seal_archive"]
    assert check.archive_timestamps[0].valid and check.archive_timestamps[0].at >= check.signatures[1].signed_at


def test_each_signature_has_its_own_event_certificate_naming_the_verified_person(ca: CaSimulator,
                                                                                  db_engine: Engine,
                                                                                  contract_pdf: bytes) -> None:
    signer = person()
    first = ca.sign_pdf(idempotency_key=uuid.uuid4().hex, document_ref="HT-A", pdf=contract_pdf, signer=signer,
                        field_name="borrower", evidence={})
    second = ca.sign_pdf(idempotency_key=uuid.uuid4().hex, document_ref="HT-B", pdf=contract_pdf, signer=signer,
                         field_name="borrower", evidence={})
    assert first.certificate_serial != second.certificate_serial
    with Session(db_engine) as session:
        pem = session.exec(select(CaSignature.certificate_pem).where(
            CaSignature.signature_id == first.signature_id)).one()
        authorities = {r.name: pki.load_cert(r.cert_pem) for r in session.exec(select(CaAuthority)).all()}
    cert = x509.load_pem_x509_certificate(pem.encode())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "林秀英"
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "350582199503121238"
    assert cert.extensions.get_extension_for_class(x509.KeyUsage).value.content_commitment
    crl_url = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value[0].full_name[0].value
    assert crl_url.endswith("/v1/ca/crl")
    # root -> issuing CA -> event certificate
    cert.verify_directly_issued_by(authorities["issuing"])
    authorities["issuing"].verify_directly_issued_by(authorities["root"])
    assert authorities["issuing"].extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_any_changed_byte_is_reported_as_tampering(ca: CaSimulator, contract_pdf: bytes) -> None:
    _, seal = sign_both(ca, contract_pdf)
    data = seal.pdf
    # Every signature's and the archive timestamp's hex blob (its padding too), and a byte in each revision:
    # the contract, each signature, each block of validation data and the document timestamp.
    blobs = [m.end() for m in re.finditer(rb"/Contents <", data)]
    ends = [m.end() for m in re.finditer(rb"%%EOF\n", data)]
    assert len(blobs) == 3 and len(ends) >= 5
    positions = sorted({0, 100, len(contract_pdf) // 2, len(contract_pdf) - 5, len(data) - 3,
                        *(at + k for at in blobs for k in (*range(0, 3000, 211), 9000)),
                        *((a + b) // 2 for a, b in zip(ends, ends[1:], strict=False))})
    positions = [p for p in positions if p < len(data)]
    for pos in positions:
        changed = bytearray(data)
        changed[pos] = ord("1") if changed[pos] != ord("1") else ord("2")
        result = ca.verify_pdf(bytes(changed))
        assert not result.valid and result.tampered, pos


def test_bytes_appended_after_the_last_signature_are_reported(ca: CaSimulator, contract_pdf: bytes) -> None:
    _, seal = sign_both(ca, contract_pdf)
    for extra in (b"\n% appended\n", b"\n"):
        result = ca.verify_pdf(seal.pdf + extra)
        assert not result.valid and result.tampered


def test_an_unsigned_or_unreadable_file_is_not_valid(ca: CaSimulator, contract_pdf: bytes) -> None:
    unsigned = ca.verify_pdf(contract_pdf)
    assert (unsigned.valid, unsigned.tampered, unsigned.problem) == (False, False, "NOT_SIGNED")
    garbage = ca.verify_pdf(b"not a pdf at all")
    assert not garbage.valid and garbage.problem.startswith("UNREADABLE_PDF")


def test_a_signature_from_another_pki_is_not_trusted(ca: CaSimulator, db_engine: Engine, contract_pdf: bytes) -> None:
    # A forger runs the same software with their own root: the names match, the keys do not.
    now = datetime.now(UTC)
    root = pki.issue_root(now)
    issuing = pki.issue_issuing_ca(root, now)
    rogue = pades.Authorities(root=root.cert, issuing=issuing.cert,
                              tsa=pki.issue_tsa_certificate(issuing, now, "http://rogue/crl"))
    event = pki.issue_event_certificate(issuing, pki.PersonSubject("C1", "林秀英", "350582199503121238"), now,
                                        pki.ISSUING_VALIDITY, "http://rogue/crl")
    forged = pades.sign(contract_pdf, signer=event, authorities=rogue, field_name="borrower", reason="x", location="y")
    result = ca.verify_pdf(forged)
    assert not result.valid and result.signatures[0].problem == "CERTIFICATE_NOT_TRUSTED"


def test_a_revocation_after_signing_leaves_the_signature_valid_online_and_offline(ca: CaSimulator,
                                                                                  contract_pdf: bytes) -> None:
    borrower, seal = sign_both(ca, contract_pdf)
    ca.revoke(certificate_serial=borrower.certificate_serial, reason="keyCompromise")
    ca.revoke(certificate_serial=borrower.certificate_serial, reason="keyCompromise")  # no-op the second time
    crl = x509.load_der_x509_crl(ca.crl_der())
    assert crl.get_revoked_certificate_by_serial_number(int(borrower.certificate_serial, 16)) is not None
    # Checked at its signing time: the key was good then, and the CRL says when it stopped being good.
    for offline in (False, True):
        result = ca.verify_pdf(seal.pdf, offline=offline)
        assert result.valid and result.level == "B-LTA", offline
        assert [s.problem for s in result.signatures] == [None, None]
    online = ca.verify_pdf(seal.pdf).signatures[0]
    assert online.revoked_at is not None and online.revoked_at > online.signed_at
    assert ca.verify_pdf(seal.pdf, offline=True).signatures[0].revoked_at is None  # the embedded CRL predates it
    with pytest.raises(Refused) as refused:
        ca.revoke(certificate_serial="ABCDEF", reason="x")
    assert refused.value.code == "CERTIFICATE_NOT_FOUND"


def test_a_revocation_effective_before_the_signing_time_invalidates(ca: CaSimulator, contract_pdf: bytes) -> None:
    borrower, seal = sign_both(ca, contract_pdf)
    # A key compromise found later, dated back to before the signature.
    ca.revoke(certificate_serial=borrower.certificate_serial, reason="keyCompromise",
              effective_at=borrower.signed_at - timedelta(minutes=1))
    result = ca.verify_pdf(seal.pdf)
    assert not result.valid and not result.tampered and result.level is None
    assert [s.problem for s in result.signatures] == ["CERTIFICATE_REVOKED", None]
    assert [s.level for s in result.signatures] == [None, "B-LTA"]
    with pytest.raises(Refused) as refused:
        ca.revoke(certificate_serial=seal.certificate_serial, reason="x",
                  effective_at=datetime.now(UTC) + timedelta(days=1))
    assert refused.value.code == "INVALID_REVOCATION_TIME"


def test_an_expired_event_certificate_still_verifies_at_its_signing_time(db_engine: Engine,
                                                                         contract_pdf: bytes) -> None:
    ca = CaSimulator(db_engine, event_validity=timedelta(seconds=1))
    _, seal = sign_both(ca, contract_pdf)
    time.sleep(1.5)
    for offline in (False, True):
        result = ca.verify_pdf(seal.pdf, offline=offline)
        assert result.valid and result.level == "B-LTA", offline


def test_levels_reached_by_what_a_signature_carries(ca: CaSimulator, contract_pdf: bytes) -> None:
    now = datetime.now(UTC)
    root = x509.load_pem_x509_certificate(ca.root_certificate_pem().encode())
    authorities = ca._pades_authorities()
    event = pki.issue_event_certificate(ca._keys()["issuing"], pki.PersonSubject("C1", "林秀英", "350582199503121238"),
                                        now, pki.ISSUING_VALIDITY, "http://127.0.0.1:8000/v1/ca/crl")
    timestamped = pades.sign(contract_pdf, signer=event, authorities=authorities, field_name="borrower", reason="r",
                             location="l", at=now)
    long_term = pades.sign(contract_pdf, signer=event, authorities=authorities, field_name="borrower", reason="r",
                           location="l", at=now, crls=[ca.crl_der()])
    archived = pades.sign(contract_pdf, signer=event, authorities=authorities, field_name="borrower", reason="r",
                          location="l", at=now, crls=[ca.crl_der()], archive=True)
    levels = [pades.verify(pdf, root=root, crls=[ca.crl_der()]).level for pdf in (timestamped, long_term, archived)]
    assert levels == ["B-T", "B-LT", "B-LTA"]
    # Without the CA's CRL a B-T signature cannot be checked for revocation; B-LT carries its own.
    assert not pades.verify(timestamped, root=root, crls=[]).valid
    assert pades.verify(long_term, root=root, crls=[]).valid
    # The platform's way: the signer adds no store of their own, the seal right after embeds chain and CRL
    # for the document and timestamps it all; the signer's signature reaches B-LTA with it, offline too.
    sealed = ca.sign_pdf(idempotency_key=uuid.uuid4().hex, document_ref="HT-LVL", pdf=timestamped, signer=SEAL,
                         field_name="lender_seal", evidence={}, archive=True)
    check = pades.verify(sealed.pdf, root=root, crls=[])
    assert check.valid and [s.level for s in check.signatures] == ["B-LTA", "B-LTA"]


def test_a_revoked_seal_cannot_sign(db_engine: Engine, contract_pdf: bytes) -> None:
    ca = CaSimulator(db_engine)
    seal = SealSigner(signer_ref=f"SEAL-{uuid.uuid4().hex[:10]}", organisation="某农商行", branch="某支行")
    done = ca.sign_pdf(idempotency_key=uuid.uuid4().hex, document_ref="HT-R", pdf=contract_pdf, signer=seal,
                       field_name="lender_seal", evidence={})
    ca.revoke(certificate_serial=done.certificate_serial, reason="cessationOfOperation")
    with pytest.raises(Refused) as refused:
        ca.sign_pdf(idempotency_key=uuid.uuid4().hex, document_ref="HT-R2", pdf=contract_pdf, signer=seal,
                    field_name="lender_seal", evidence={})
    assert refused.value.code == "CERTIFICATE_REVOKED"


def test_signing_is_idempotent_by_key_even_when_racing(ca: CaSimulator, contract_pdf: bytes) -> None:
    key, signer = uuid.uuid4().hex, person()
    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda _: ca.sign_pdf(idempotency_key=key, document_ref="HT-I", pdf=contract_pdf,
                                                   signer=signer, field_name="borrower", evidence=EVIDENCE), range(4)))
    assert len({d.signature_id for d in done}) == 1 and len({d.signed_sha256 for d in done}) == 1
    with pytest.raises(Refused) as refused:
        ca.sign_pdf(idempotency_key=key, document_ref="HT-I", pdf=contract_pdf + b"\n", signer=signer,
                    field_name="borrower", evidence=EVIDENCE)
    assert refused.value.code == "IDEMPOTENCY_MISMATCH"


def test_the_evidence_log_is_a_hash_chain_per_document(ca: CaSimulator, db_engine: Engine,
                                                       contract_pdf: bytes) -> None:
    ref = f"HT{uuid.uuid4().hex[:12]}"
    borrower, seal = sign_both(ca, contract_pdf, ref)
    log = ca.evidence_log(ref)
    assert [e.signature_id for e in log] == [borrower.signature_id, seal.signature_id]
    first, second = log
    assert first.evidence == EVIDENCE and first.document_sha256 == borrower.document_sha256
    assert first.prev_hash is None and second.prev_hash == first.entry_hash
    assert all(entry_hash(e) == e.entry_hash for e in log) and chain_intact(log)
    with session_scope(db_engine) as session:
        session.exec(update(CaSignature).where(CaSignature.signature_id == first.signature_id)
                     .values(evidence={**EVIDENCE, "otp_ref": "FORGED"}))
    edited = ca.evidence_log(ref)
    assert entry_hash(edited[0]) != edited[0].entry_hash and not chain_intact(edited)
    assert not chain_intact(log[1:])  # a dropped first entry breaks the chain too


def test_workers_starting_together_on_a_new_database_share_one_hierarchy(tmp_path) -> None:
    fresh = make_engine(f"sqlite:///{tmp_path / 'ca.db'}")
    metadata.create_all(fresh)
    try:
        barrier = threading.Barrier(4)

        def start(_: int) -> str:
            barrier.wait()
            return CaSimulator(fresh).root_certificate_pem()

        with ThreadPoolExecutor(4) as pool:
            roots = set(pool.map(start, range(4)))
        assert len(roots) == 1
        with Session(fresh) as session:
            assert sorted(r.name for r in session.exec(select(CaAuthority)).all()) == ["issuing", "root", "tsa"]
    finally:
        fresh.dispose()


@pytest.mark.parametrize(("field", "pdf", "code"), [("Borrower!", b"%PDF-1.7", "INVALID_FIELD"),
                                                    ("borrower", b"hello", "NOT_A_PDF"),
                                                    ("borrower", b"%PDF-1.7 broken", "PDF_NOT_SIGNABLE")])
def test_bad_requests_are_refused(ca: CaSimulator, field: str, pdf: bytes, code: str) -> None:
    with pytest.raises(Refused) as refused:
        ca.sign_pdf(idempotency_key=uuid.uuid4().hex, document_ref="HT-X", pdf=pdf, signer=person(),
                    field_name=field, evidence={})
    assert refused.value.code == code


def test_faults(ca: CaSimulator, contract_pdf: bytes) -> None:
    signer, key = person(), uuid.uuid4().hex
    ca.inject_fault(operation="sign", kind="unavailable")
    with pytest.raises(AdapterUnavailable):
        ca.sign_pdf(idempotency_key=key, document_ref="HT-F", pdf=contract_pdf, signer=signer,
                    field_name="borrower", evidence={})
    ca.inject_fault(operation="sign", kind="timeout_after_commit")
    with pytest.raises(OutcomeUnknown):
        ca.sign_pdf(idempotency_key=key, document_ref="HT-F", pdf=contract_pdf, signer=signer,
                    field_name="borrower", evidence={})
    # The timed-out call went through: the retry gets the same signature.
    again = ca.sign_pdf(idempotency_key=key, document_ref="HT-F", pdf=contract_pdf, signer=signer,
                        field_name="borrower", evidence={})
    assert ca.evidence_log("HT-F")[-1].signature_id == again.signature_id
    ca.inject_fault(operation="verify", kind="unavailable")
    with pytest.raises(AdapterUnavailable):
        ca.verify_pdf(again.pdf)


def test_failed_checks_log_no_personal_data(ca: CaSimulator, contract_pdf: bytes,
                                            caplog: pytest.LogCaptureFixture) -> None:
    borrower, seal = sign_both(ca, contract_pdf)
    ca.revoke(certificate_serial=borrower.certificate_serial, reason="keyCompromise",
              effective_at=borrower.signed_at - timedelta(seconds=1))
    changed = bytearray(seal.pdf)
    changed[200] ^= 0x01
    with caplog.at_level(logging.DEBUG):
        assert not ca.verify_pdf(seal.pdf).valid and not ca.verify_pdf(bytes(changed)).valid
    logged = caplog.text + "".join(str(r.exc_info) for r in caplog.records)
    assert "350582199503121238" not in logged and "林秀英" not in logged
