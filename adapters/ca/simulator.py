"""CA e-signature simulator behind adapters.ca.port: a small real PKI persisted in its own ca_ tables."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import uuid4

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from adapters.ca import pki
from adapters.ca.port import SignatureRecord, Verification
from adapters.ca.tables import CaAuthority, CaFault, CaSignature, CaSigner
from adapters.errors import Refused
from adapters.simkit import SimulatedLink, utcnow
from db.engine import session_scope

OPERATIONS = frozenset({"sign", "verify"})
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
ROOT = "root"
DEFAULT_SIGNER_VALIDITY = timedelta(days=5 * 365)


class CaSimulator:
    def __init__(
        self, engine: Engine, *, latency_s: float = 0.0, signer_validity: timedelta = DEFAULT_SIGNER_VALIDITY
    ) -> None:
        if signer_validity <= timedelta(0):
            raise ValueError("signer_validity must be positive")
        self._engine = engine
        self._signer_validity = signer_validity
        self._root: pki.KeyPair | None = None
        self.link = SimulatedLink(engine, system="CA", fault_table=CaFault, operations=OPERATIONS,
                                  latency_s=latency_s)

    def sign(self, *, idempotency_key: str, document_sha256: str, signer_ref: str, evidence: dict) -> SignatureRecord:
        with self.link.call("sign"):
            document_sha256 = document_sha256.lower()
            if not SHA256_HEX.match(document_sha256):
                raise Refused("INVALID_HASH", "文件摘要不是SHA-256")
            if not 0 < len(idempotency_key) <= 128:
                raise Refused("INVALID_REQUEST", "请求参数长度不正确")
            if not signer_ref or len(signer_ref) > 40:
                raise Refused("INVALID_SIGNER", "签署人编号不正确")
            done = self._replay(idempotency_key, document_sha256, signer_ref)
            if done is not None:
                return done
            signer = self._signer(signer_ref)
            now = utcnow()
            if not signer.cert.not_valid_before_utc <= now <= signer.cert.not_valid_after_utc:
                # One certificate per signer (ca_signer.signer_ref is unique): renewal is not simulated.
                raise Refused("CERTIFICATE_EXPIRED", "签署人证书不在有效期内")
            row = CaSignature(
                signature_id=f"SIG{uuid4().hex.upper()}", idempotency_key=idempotency_key,
                document_sha256=document_sha256, signer_ref=signer_ref, certificate_serial=signer.serial,
                signature=pki.sign_digest(signer, bytes.fromhex(document_sha256)), signed_at=now,
                evidence=dict(evidence),
            )
            try:
                with session_scope(self._engine) as session:
                    session.add(row)
            except IntegrityError:
                done = self._replay(idempotency_key, document_sha256, signer_ref)
                if done is None:
                    raise
                return done
            return _record(row)

    def verify(self, *, signature_id: str, document_sha256: str) -> Verification:
        with self.link.call("verify"):
            document_sha256 = document_sha256.lower()
            with Session(self._engine) as session:
                row = session.exec(select(CaSignature).where(CaSignature.signature_id == signature_id)).first()
                signer = None if row is None else session.exec(
                    select(CaSigner).where(CaSigner.signer_ref == row.signer_ref)).first()
            if row is None:
                return Verification(valid=False, reason="SIGNATURE_NOT_FOUND")
            if not SHA256_HEX.match(document_sha256):
                return Verification(valid=False, reason="INVALID_HASH")
            if signer is None or signer.serial != row.certificate_serial:
                return Verification(valid=False, reason="CERTIFICATE_NOT_FOUND")
            cert = pki.load_cert(signer.cert_pem)
            if pki.serial_hex(cert) != row.certificate_serial or not pki.chains_to(cert, self._root_pair().cert):
                return Verification(valid=False, reason="CERTIFICATE_NOT_TRUSTED")
            if not cert.not_valid_before_utc <= row.signed_at <= cert.not_valid_after_utc:
                return Verification(valid=False, reason="CERTIFICATE_NOT_VALID_AT_SIGNING")
            if not pki.signature_matches(cert, bytes.fromhex(document_sha256), row.signature):
                tampered = document_sha256 == row.document_sha256
                return Verification(valid=False, reason="SIGNATURE_INVALID" if tampered else "HASH_MISMATCH")
            if document_sha256 != row.document_sha256:
                # The bytes sign the given hash, yet the record names another document: the record was edited.
                return Verification(valid=False, reason="RECORD_TAMPERED")
            return Verification(valid=True, signer_ref=row.signer_ref, signed_at=row.signed_at)

    def root_certificate_pem(self) -> str:
        return self._root_pair().cert_pem

    def certificate_pem(self, signer_ref: str) -> str | None:
        with Session(self._engine) as session:
            return session.exec(select(CaSigner.cert_pem).where(CaSigner.signer_ref == signer_ref)).first()

    def inject_fault(self, *, operation: str = "sign", kind: str, times: int = 1) -> None:
        self.link.inject_fault(operation=operation, kind=kind, times=times)

    def clear_faults(self) -> None:
        self.link.clear_faults()

    def _replay(self, key: str, document_sha256: str, signer_ref: str) -> SignatureRecord | None:
        with Session(self._engine) as session:
            row = session.exec(select(CaSignature).where(CaSignature.idempotency_key == key)).first()
        if row is None:
            return None
        if (row.document_sha256, row.signer_ref) != (document_sha256, signer_ref):
            raise Refused("IDEMPOTENCY_MISMATCH", "同一幂等键的签署请求内容不一致")
        return _record(row)

    def _root_pair(self) -> pki.KeyPair:
        # Created once per database and then only read, so one copy per process is enough.
        if self._root is None:
            self._root = self._load_or_create_root()
        return self._root

    def _load_or_create_root(self) -> pki.KeyPair:
        stored = self._stored_root()
        if stored is not None:
            return stored
        root = pki.issue_root(utcnow())
        try:
            with session_scope(self._engine) as session:
                session.add(CaAuthority(name=ROOT, serial=root.serial, cert_pem=root.cert_pem, key_pem=root.key_pem,
                                        created_at=utcnow()))
        except IntegrityError:
            stored = self._stored_root()
            if stored is None:
                raise
            return stored
        return root

    def _stored_root(self) -> pki.KeyPair | None:
        with Session(self._engine) as session:
            row = session.exec(select(CaAuthority).where(CaAuthority.name == ROOT)).first()
        return None if row is None else pki.load(row.cert_pem, row.key_pem)

    def _signer(self, signer_ref: str) -> pki.KeyPair:
        """The signer's key pair, issued on first use."""
        stored = self._stored_signer(signer_ref)
        if stored is not None:
            return stored
        pair = pki.issue_signer(self._root_pair(), signer_ref, utcnow(), self._signer_validity)
        try:
            with session_scope(self._engine) as session:
                session.add(CaSigner(signer_ref=signer_ref, serial=pair.serial, cert_pem=pair.cert_pem,
                                     key_pem=pair.key_pem, issued_at=utcnow()))
        except IntegrityError:
            stored = self._stored_signer(signer_ref)
            if stored is None:
                raise
            return stored
        return pair

    def _stored_signer(self, signer_ref: str) -> pki.KeyPair | None:
        with Session(self._engine) as session:
            row = session.exec(select(CaSigner).where(CaSigner.signer_ref == signer_ref)).first()
        return None if row is None else pki.load(row.cert_pem, row.key_pem)


def _record(row: CaSignature) -> SignatureRecord:
    return SignatureRecord(signature_id=row.signature_id, document_sha256=row.document_sha256,
                           signer_ref=row.signer_ref, certificate_serial=row.certificate_serial,
                           signed_at=row.signed_at, evidence=row.evidence)
