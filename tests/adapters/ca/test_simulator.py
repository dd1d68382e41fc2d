"""CA simulator: per-signer certificates under one persisted root, idempotent signing, verification, tampering."""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from adapters.ca import pki
from adapters.ca.simulator import CaSimulator
from adapters.ca.tables import CaAuthority, CaSignature, CaSigner
from adapters.errors import AdapterUnavailable, OutcomeUnknown, Refused
from db.engine import make_engine, session_scope
from db.metadata import metadata


@pytest.fixture
def ca(db_engine: Engine):
    sim = CaSimulator(db_engine)
    sim.clear_faults()
    yield sim
    sim.clear_faults()


def digest() -> str:
    return hashlib.sha256(os.urandom(32)).hexdigest()


def signer() -> str:
    return f"C{uuid.uuid4().hex[:12].upper()}"


EVIDENCE = {"channel": "h5", "otp_ref": "OTP-REF-1", "at": "2025-06-01T10:00:00+08:00"}


def test_sign_then_verify(ca: CaSimulator) -> None:
    doc, who = digest(), signer()
    record = ca.sign(idempotency_key=f"{doc}:{who}", document_sha256=doc, signer_ref=who, evidence=EVIDENCE)
    assert (record.document_sha256, record.signer_ref, record.evidence) == (doc, who, EVIDENCE)
    result = ca.verify(signature_id=record.signature_id, document_sha256=doc)
    assert result.valid and result.signer_ref == who and result.signed_at == record.signed_at


def test_signature_verifies_over_the_document_itself_with_the_certificate(ca: CaSimulator, db_engine: Engine) -> None:
    # Anyone holding the certificate can check the signature against the document bytes, without the CA.
    document = os.urandom(1000)
    doc, who = hashlib.sha256(document).hexdigest(), signer()
    record = ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=doc, signer_ref=who, evidence={})
    with Session(db_engine) as session:
        signature = session.exec(select(CaSignature.signature).where(
            CaSignature.signature_id == record.signature_id)).one()
    pem = ca.certificate_pem(who)
    assert pem is not None
    cert = x509.load_pem_x509_certificate(pem.encode())
    cert.public_key().verify(signature, document, ec.ECDSA(hashes.SHA256()))
    assert cert.serial_number == int(record.certificate_serial, 16)
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == who
    root = x509.load_pem_x509_certificate(ca.root_certificate_pem().encode())
    cert.verify_directly_issued_by(root)


def test_each_signer_gets_one_certificate_and_the_root_is_shared(ca: CaSimulator, db_engine: Engine) -> None:
    who = signer()
    first = ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=digest(), signer_ref=who, evidence={})
    second = ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=digest(), signer_ref=who, evidence={})
    other = ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=digest(), signer_ref=signer(), evidence={})
    assert first.certificate_serial == second.certificate_serial != other.certificate_serial
    assert CaSimulator(db_engine).root_certificate_pem() == ca.root_certificate_pem()
    with Session(db_engine) as session:
        assert len(session.exec(select(CaAuthority)).all()) == 1


def test_signing_is_idempotent_by_key_even_when_racing(ca: CaSimulator) -> None:
    doc, who, key = digest(), signer(), uuid.uuid4().hex
    with ThreadPoolExecutor(6) as pool:
        records = list(pool.map(lambda _: ca.sign(
            idempotency_key=key, document_sha256=doc, signer_ref=who, evidence=EVIDENCE), range(6)))
    assert len({r.signature_id for r in records}) == 1
    assert len({r.certificate_serial for r in records}) == 1
    with pytest.raises(Refused) as refused:
        ca.sign(idempotency_key=key, document_sha256=digest(), signer_ref=who, evidence=EVIDENCE)
    assert refused.value.code == "IDEMPOTENCY_MISMATCH"


def test_wrong_hash_is_invalid_with_a_reason(ca: CaSimulator) -> None:
    doc = digest()
    record = ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=doc, signer_ref=signer(), evidence={})
    result = ca.verify(signature_id=record.signature_id, document_sha256=digest())
    assert (result.valid, result.reason) == (False, "HASH_MISMATCH")
    assert ca.verify(signature_id=record.signature_id, document_sha256="not-a-hash").reason == "INVALID_HASH"
    assert ca.verify(signature_id="SIG-NONE", document_sha256=doc).reason == "SIGNATURE_NOT_FOUND"


def test_tampered_signature_bytes_are_detected(ca: CaSimulator, db_engine: Engine) -> None:
    doc = digest()
    record = ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=doc, signer_ref=signer(), evidence={})
    other = ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=digest(), signer_ref=record.signer_ref,
                    evidence={})
    with Session(db_engine) as session:
        foreign = session.exec(select(CaSignature.signature).where(
            CaSignature.signature_id == other.signature_id)).one()
    with session_scope(db_engine) as session:
        session.exec(update(CaSignature).where(CaSignature.signature_id == record.signature_id)
                     .values(signature=foreign))
    result = ca.verify(signature_id=record.signature_id, document_sha256=doc)
    assert (result.valid, result.reason) == (False, "SIGNATURE_INVALID")


def test_an_edited_record_is_detected(ca: CaSimulator, db_engine: Engine) -> None:
    doc = digest()
    record = ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=doc, signer_ref=signer(), evidence={})
    with session_scope(db_engine) as session:
        session.exec(update(CaSignature).where(CaSignature.signature_id == record.signature_id)
                     .values(document_sha256=digest()))
    result = ca.verify(signature_id=record.signature_id, document_sha256=doc)
    assert (result.valid, result.reason) == (False, "RECORD_TAMPERED")


def test_a_certificate_not_issued_by_the_root_is_not_trusted(ca: CaSimulator, db_engine: Engine) -> None:
    doc, who = digest(), signer()
    record = ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=doc, signer_ref=who, evidence={})
    with Session(db_engine) as session:
        row = session.exec(select(CaSigner).where(CaSigner.signer_ref == who)).one()
    genuine = pki.load(row.cert_pem, row.key_pem)
    # A forger with their own "root" re-issues a certificate with the same key and serial.
    rogue_root = pki.issue_root(genuine.cert.not_valid_before_utc + timedelta(minutes=5))
    forged = (x509.CertificateBuilder().subject_name(genuine.cert.subject).issuer_name(genuine.cert.issuer)
              .public_key(genuine.key.public_key()).serial_number(genuine.cert.serial_number)
              .not_valid_before(genuine.cert.not_valid_before_utc).not_valid_after(genuine.cert.not_valid_after_utc)
              .sign(rogue_root.key, hashes.SHA256()))
    forged_pem = pki.KeyPair(serial=genuine.serial, cert=forged, key=genuine.key).cert_pem
    with session_scope(db_engine) as session:
        session.exec(update(CaSigner).where(CaSigner.signer_ref == who).values(cert_pem=forged_pem))
    result = ca.verify(signature_id=record.signature_id, document_sha256=doc)
    assert (result.valid, result.reason) == (False, "CERTIFICATE_NOT_TRUSTED")


def test_signature_outside_the_certificate_validity_is_invalid(ca: CaSimulator, db_engine: Engine) -> None:
    doc = digest()
    record = ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=doc, signer_ref=signer(), evidence={})
    with session_scope(db_engine) as session:
        session.exec(update(CaSignature).where(CaSignature.signature_id == record.signature_id)
                     .values(signed_at=record.signed_at + timedelta(days=6 * 365)))
    result = ca.verify(signature_id=record.signature_id, document_sha256=doc)
    assert (result.valid, result.reason) == (False, "CERTIFICATE_NOT_VALID_AT_SIGNING")


def test_an_expired_signer_certificate_cannot_sign(ca: CaSimulator, db_engine: Engine) -> None:
    who = signer()
    ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=digest(), signer_ref=who, evidence={})
    with Session(db_engine) as session:
        row = session.exec(select(CaSigner).where(CaSigner.signer_ref == who)).one()
    genuine = pki.load(row.cert_pem, row.key_pem)
    root = pki.load(*session_root(db_engine))
    expired = pki.issue_signer(root, who, genuine.cert.not_valid_before_utc - timedelta(days=30), timedelta(days=1))
    with session_scope(db_engine) as session:
        session.exec(update(CaSigner).where(CaSigner.signer_ref == who)
                     .values(cert_pem=expired.cert_pem, key_pem=expired.key_pem, serial=expired.serial))
    with pytest.raises(Refused) as refused:
        ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=digest(), signer_ref=who, evidence={})
    assert refused.value.code == "CERTIFICATE_EXPIRED"


def session_root(db_engine: Engine) -> tuple[str, str]:
    with Session(db_engine) as session:
        row = session.exec(select(CaAuthority)).one()
    return row.cert_pem, row.key_pem


def test_a_signature_whose_certificate_is_gone_is_invalid(ca: CaSimulator, db_engine: Engine) -> None:
    doc, who = digest(), signer()
    record = ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=doc, signer_ref=who, evidence={})
    with session_scope(db_engine) as session:
        session.exec(update(CaSigner).where(CaSigner.signer_ref == who).values(serial="0"))
    result = ca.verify(signature_id=record.signature_id, document_sha256=doc)
    assert (result.valid, result.reason) == (False, "CERTIFICATE_NOT_FOUND")


def test_workers_starting_together_on_a_new_database_share_one_root(tmp_path) -> None:
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
            assert len(session.exec(select(CaAuthority)).all()) == 1
    finally:
        fresh.dispose()


@pytest.mark.parametrize(("doc", "who", "code"), [("abc", "C1", "INVALID_HASH"), ("0" * 64, "", "INVALID_SIGNER")])
def test_bad_requests_are_refused(ca: CaSimulator, doc: str, who: str, code: str) -> None:
    with pytest.raises(Refused) as refused:
        ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=doc, signer_ref=who, evidence={})
    assert refused.value.code == code


def test_uppercase_hashes_are_the_same_document(ca: CaSimulator) -> None:
    doc = digest()
    record = ca.sign(idempotency_key=uuid.uuid4().hex, document_sha256=doc.upper(), signer_ref=signer(), evidence={})
    assert record.document_sha256 == doc
    assert ca.verify(signature_id=record.signature_id, document_sha256=doc.upper()).valid


def test_faults(ca: CaSimulator) -> None:
    doc, key = digest(), uuid.uuid4().hex
    ca.inject_fault(operation="sign", kind="unavailable")
    with pytest.raises(AdapterUnavailable):
        ca.sign(idempotency_key=key, document_sha256=doc, signer_ref=signer(), evidence={})
    who = signer()
    ca.inject_fault(operation="sign", kind="timeout_after_commit")
    with pytest.raises(OutcomeUnknown):
        ca.sign(idempotency_key=key, document_sha256=doc, signer_ref=who, evidence={})
    record = ca.sign(idempotency_key=key, document_sha256=doc, signer_ref=who, evidence={})
    ca.inject_fault(operation="verify", kind="unavailable")
    with pytest.raises(AdapterUnavailable):
        ca.verify(signature_id=record.signature_id, document_sha256=doc)
    assert ca.verify(signature_id=record.signature_id, document_sha256=doc).valid
