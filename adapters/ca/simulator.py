"""CA e-signature simulator behind adapters.ca.port: a small real PKI persisted in its own ca_ tables.

Root -> issuing CA -> per-event personal certificates, seal certificates and a time-stamping authority;
PAdES signatures with pyhanko (adapters/ca/pades.py); a CRL built from ca_revocation on each request.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta, timezone
from uuid import uuid4

from cryptography.hazmat.primitives import serialization
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from adapters.ca import pades, pki
from adapters.ca.evidence import entry_hash
from adapters.ca.port import (
    EvidenceEntry,
    PdfVerification,
    PersonSigner,
    SealSigner,
    SignatureAppearance,
    SignatureFinding,
    SignedPdf,
)
from adapters.ca.tables import CaAuthority, CaFault, CaRevocation, CaSignature, CaSigner
from adapters.errors import Refused
from adapters.simkit import SimulatedLink, utcnow
from db.engine import session_scope

OPERATIONS = frozenset({"sign", "verify"})
ROOT, ISSUING, TSA = "root", "issuing", "tsa"
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
DEFAULT_CRL_URL = "http://127.0.0.1:8000/v1/ca/crl"
# Signatures are checked at their signing time with the validation data embedded then (PAdES B-LT/B-LTA),
# so an event certificate need only outlive the signing; a long validity costs nothing and keeps
# documents signed before the validation data was embedded (B-T) checkable during the loan.
DEFAULT_EVENT_VALIDITY = timedelta(days=10 * 365)
BEIJING = timezone(timedelta(hours=8))
SEAL_VALIDITY = timedelta(days=5 * 365)
TAMPER_PROBLEMS = ("DOCUMENT_TAMPERED", "SIGNATURE_INVALID", "SIGNATURE_UNREADABLE", "NOT_AS_SIGNED",
                   "MODIFIED_AFTER_SIGNING")
REASONS = {"person": "本人已阅读并同意本合同全部条款，以电子签名方式签署", "seal": "贷款人电子签章"}


class CaSimulator:
    def __init__(self, engine: Engine, *, latency_s: float = 0.0, crl_url: str = DEFAULT_CRL_URL,
                 event_validity: timedelta = DEFAULT_EVENT_VALIDITY) -> None:
        if event_validity <= timedelta(0):
            raise ValueError("event_validity must be positive")
        self._engine = engine
        self._crl_url = crl_url
        self._event_validity = event_validity
        self._authorities: dict[str, pki.KeyPair] | None = None
        self._pades: pades.Authorities | None = None
        self.link = SimulatedLink(engine, system="CA", fault_table=CaFault, operations=OPERATIONS,
                                  latency_s=latency_s)

    # ---- signing ------------------------------------------------------------------------------

    def sign_pdf(self, *, idempotency_key: str, document_ref: str, pdf: bytes, signer: PersonSigner | SealSigner,
                 field_name: str, evidence: dict, appearance: SignatureAppearance | None = None,
                 long_term: bool = True, archive: bool = False) -> SignedPdf:
        with self.link.call("sign"):
            if not 0 < len(idempotency_key) <= 128 or not 0 < len(document_ref) <= 64:
                raise Refused("INVALID_REQUEST", "请求参数长度不正确")
            if not FIELD_NAME.match(field_name):
                raise Refused("INVALID_FIELD", "签名域名称不正确")
            if not pdf.startswith(b"%PDF-"):
                raise Refused("NOT_A_PDF", "待签署文件不是PDF")
            document_sha256 = hashlib.sha256(pdf).hexdigest()
            done = self._replay(idempotency_key, pdf, document_sha256, signer.signer_ref)
            if done is not None:
                return done
            authorities = self._keys()
            now = utcnow()
            if isinstance(signer, PersonSigner):
                pair = pki.issue_event_certificate(
                    authorities[ISSUING], pki.PersonSubject(signer.signer_ref, signer.name, signer.resident_id),
                    now, self._event_validity, self._crl_url)
            else:
                pair = self._seal(signer)
                if self._revoked(pair.serial):
                    raise Refused("CERTIFICATE_REVOKED", "签章证书已被吊销")
                if not pair.cert.not_valid_before_utc <= now <= pair.cert.not_valid_after_utc:
                    raise Refused("CERTIFICATE_EXPIRED", "签章证书不在有效期内")
            try:
                signed = pades.sign(pdf, signer=pair, authorities=self._pades_authorities(), field_name=field_name,
                                    reason=REASONS[signer.kind], location="农e贷", at=now,
                                    crls=[self.crl_der()] if long_term or archive else None,
                                    appearance=_box(appearance, now), archive=archive)
            except RuntimeError:
                raise  # ours (e.g. called on an event loop's thread), not the document's
            except Exception as exc:  # noqa: BLE001 - a PDF pyhanko cannot extend is the caller's, not ours
                raise Refused("PDF_NOT_SIGNABLE", f"文件无法签署({type(exc).__name__})") from exc
            if not signed.startswith(pdf):
                raise RuntimeError("pyhanko rewrote the document instead of appending to it")
            return self._record(idempotency_key, document_ref, field_name, signer.signer_ref, pair, now, pdf,
                                document_sha256, signed, evidence)

    def _record(self, key: str, document_ref: str, field_name: str, signer_ref: str, pair: pki.KeyPair,
                now: datetime, pdf: bytes, document_sha256: str, signed: bytes, evidence: dict) -> SignedPdf:
        signed_sha256 = hashlib.sha256(signed).hexdigest()
        try:
            with session_scope(self._engine) as session:
                prev = session.exec(select(CaSignature.entry_hash).where(CaSignature.document_ref == document_ref)
                                    .order_by(col(CaSignature.id).desc())).first()
                row = CaSignature(
                    signature_id=f"SIG{uuid4().hex.upper()}", idempotency_key=key, document_ref=document_ref,
                    field_name=field_name, signer_ref=signer_ref, certificate_serial=pair.serial,
                    certificate_pem=pair.cert_pem, document_sha256=document_sha256, signed_sha256=signed_sha256,
                    signed_increment=signed[len(pdf):], signed_at=now, evidence=dict(evidence), prev_hash=prev, entry_hash="")
                row.entry_hash = entry_hash(row)
                session.add(row)
        except IntegrityError:
            done = self._replay(key, pdf, document_sha256, signer_ref)
            if done is None:
                raise
            return done
        return _signed(row, pdf)

    def _replay(self, key: str, pdf: bytes, document_sha256: str, signer_ref: str) -> SignedPdf | None:
        with Session(self._engine) as session:
            row = session.exec(select(CaSignature).where(CaSignature.idempotency_key == key)).first()
        if row is None:
            return None
        if (row.document_sha256, row.signer_ref) != (document_sha256, signer_ref):
            raise Refused("IDEMPOTENCY_MISMATCH", "同一幂等键的签署请求内容不一致")
        return _signed(row, pdf)

    # ---- verification, revocation, evidence ---------------------------------------------------

    def verify_pdf(self, pdf: bytes, *, offline: bool = False) -> PdfVerification:
        with self.link.call("verify"):
            check = pades.verify(pdf, root=self._keys()[ROOT].cert, crls=[] if offline else [self.crl_der()])
            hashes = [h for s in check.signatures for h in s.revision_sha256s]
            with Session(self._engine) as session:
                # Every signature must have produced, byte for byte, a PDF this CA returned under that field.
                issued = set(session.exec(select(CaSignature.signed_sha256, CaSignature.field_name).where(
                    col(CaSignature.signed_sha256).in_(hashes))).all())
        findings = [_finding(s, any((h, s.field_name) in issued for h in s.revision_sha256s))
                    for s in check.signatures]
        tampered = check.modified_after_signing or any(
            (s.problem or "").startswith(TAMPER_PROBLEMS) for s in findings) or any(
            (t.problem or "").startswith(TAMPER_PROBLEMS) for t in check.archive_timestamps)
        valid = check.valid and all(s.valid for s in findings)
        problem = check.problem or next((t.problem for t in check.archive_timestamps if t.problem), None)
        return PdfVerification(valid=valid, tampered=tampered, problem=problem,
                               level=check.level if all(s.valid for s in findings) else None, signatures=findings)

    def revoke(self, *, certificate_serial: str, reason: str, effective_at: datetime | None = None) -> None:
        """Put a certificate on the CRL; revoking one already revoked changes nothing. `effective_at` dates
        the revocation back (a key compromise found later), never forward."""
        serial = certificate_serial.upper()
        now = utcnow()
        if effective_at is not None and (effective_at.tzinfo is None or effective_at > now):
            raise Refused("INVALID_REVOCATION_TIME", "吊销生效时间须为带时区的过去时间")
        with Session(self._engine) as session:
            known = session.exec(select(CaSignature.id).where(CaSignature.certificate_serial == serial)).first() \
                or session.exec(select(CaSigner.id).where(CaSigner.serial == serial)).first()
        if known is None:
            raise Refused("CERTIFICATE_NOT_FOUND", "未找到该证书")
        if self._revoked(serial):
            return
        try:
            with session_scope(self._engine) as session:
                session.add(CaRevocation(certificate_serial=serial, reason=reason[:64],
                                         revoked_at=_crl_time(effective_at, now)))
        except IntegrityError:
            if not self._revoked(serial):
                raise

    def crl_der(self) -> bytes:
        with Session(self._engine) as session:
            rows = session.exec(select(CaRevocation).order_by(col(CaRevocation.id))).all()
            number = session.exec(select(func.count()).select_from(CaRevocation)).one()
        crl = pki.issue_crl(self._keys()[ISSUING], [(r.certificate_serial, r.revoked_at) for r in rows], utcnow(),
                            number + 1)
        return crl.public_bytes(serialization.Encoding.DER)

    def evidence_log(self, document_ref: str) -> list[EvidenceEntry]:
        with Session(self._engine) as session:
            rows = session.exec(select(CaSignature).where(CaSignature.document_ref == document_ref)
                                .order_by(col(CaSignature.id))).all()
        return [EvidenceEntry(signature_id=r.signature_id, document_ref=r.document_ref, field_name=r.field_name,
                              signer_ref=r.signer_ref, certificate_serial=r.certificate_serial, signed_at=r.signed_at,
                              document_sha256=r.document_sha256, signed_sha256=r.signed_sha256,
                              evidence=r.evidence, prev_hash=r.prev_hash, entry_hash=r.entry_hash) for r in rows]

    def root_certificate_pem(self) -> str:
        return self._keys()[ROOT].cert_pem

    def inject_fault(self, *, operation: str = "sign", kind: str, times: int = 1) -> None:
        self.link.inject_fault(operation=operation, kind=kind, times=times)

    def clear_faults(self) -> None:
        self.link.clear_faults()

    # ---- keys ---------------------------------------------------------------------------------

    def _pades_authorities(self) -> pades.Authorities:
        # One per process, like the keys: it also keeps the TSA's throw-away token pyhanko asks for.
        if self._pades is None:
            keys = self._keys()
            self._pades = pades.Authorities(root=keys[ROOT].cert, issuing=keys[ISSUING].cert, tsa=keys[TSA])
        return self._pades

    def _keys(self) -> dict[str, pki.KeyPair]:
        # Created once per database and then only read, so one copy per process is enough.
        if self._authorities is None:
            self._authorities = self._load_or_create_authorities()
        return self._authorities

    def _load_or_create_authorities(self) -> dict[str, pki.KeyPair]:
        stored = self._stored_authorities()
        if stored is not None:
            return stored
        now = utcnow()
        root = pki.issue_root(now)
        issuing = pki.issue_issuing_ca(root, now)
        made = {ROOT: root, ISSUING: issuing, TSA: pki.issue_tsa_certificate(issuing, now, self._crl_url)}
        try:
            # One transaction: two workers starting together end up with one hierarchy, not a mix.
            with session_scope(self._engine) as session:
                for name, pair in made.items():
                    session.add(CaAuthority(name=name, serial=pair.serial, cert_pem=pair.cert_pem,
                                            key_pem=pair.key_pem, created_at=now))
        except IntegrityError:
            stored = self._stored_authorities()
            if stored is None:
                raise
            return stored
        return made

    def _stored_authorities(self) -> dict[str, pki.KeyPair] | None:
        with Session(self._engine) as session:
            rows = session.exec(select(CaAuthority)).all()
        found = {r.name: pki.load(r.cert_pem, r.key_pem) for r in rows}
        return found if {ROOT, ISSUING, TSA} <= found.keys() else None

    def _seal(self, seal: SealSigner) -> pki.KeyPair:
        """The organisation's seal key pair, issued on first use."""
        stored = self._stored_seal(seal.signer_ref)
        if stored is not None:
            return stored
        pair = pki.issue_seal_certificate(self._keys()[ISSUING], pki.SealSubject(
            seal.signer_ref, seal.organisation, seal.branch), utcnow(), SEAL_VALIDITY, self._crl_url)
        try:
            with session_scope(self._engine) as session:
                session.add(CaSigner(signer_ref=seal.signer_ref, serial=pair.serial, cert_pem=pair.cert_pem,
                                     key_pem=pair.key_pem, issued_at=utcnow()))
        except IntegrityError:
            stored = self._stored_seal(seal.signer_ref)
            if stored is None:
                raise
            return stored
        return pair

    def _stored_seal(self, signer_ref: str) -> pki.KeyPair | None:
        with Session(self._engine) as session:
            row = session.exec(select(CaSigner).where(CaSigner.signer_ref == signer_ref)).first()
        return None if row is None else pki.load(row.cert_pem, row.key_pem)

    def _revoked(self, serial: str) -> bool:
        with Session(self._engine) as session:
            return session.exec(select(CaRevocation.id).where(CaRevocation.certificate_serial == serial)).first() \
                is not None


def _signed(row: CaSignature, pdf: bytes) -> SignedPdf:
    signed = pdf + row.signed_increment
    if hashlib.sha256(signed).hexdigest() != row.signed_sha256:
        raise RuntimeError(f"stored signature {row.signature_id} does not rebuild the signed PDF")
    return SignedPdf(signature_id=row.signature_id, document_ref=row.document_ref, field_name=row.field_name,
                     signer_ref=row.signer_ref, certificate_serial=row.certificate_serial, signed_at=row.signed_at,
                     document_sha256=row.document_sha256, signed_sha256=row.signed_sha256, pdf=signed)


def _crl_time(effective_at: datetime | None, now: datetime) -> datetime:
    """A CRL states revocation times in whole seconds: a revocation now is stated as the next second, so
    that a signature made earlier in the same second is not taken for one made after it."""
    if effective_at is not None:
        return effective_at.replace(microsecond=0)
    return now.replace(microsecond=0) + timedelta(seconds=1)


def _box(appearance: SignatureAppearance | None, at: datetime) -> pades.Appearance | None:
    if appearance is None:
        return None
    when = at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    return pades.Appearance(page=appearance.page, box=appearance.box,
                            lines=[*appearance.lines, f"签署时间：{when}（北京时间）"])


def _finding(s: pades.CheckedSignature, on_record: bool) -> SignatureFinding:
    subject = s.signer_subject
    problem = s.problem or (None if on_record else "NOT_AS_SIGNED")
    kind = ("seal" if str(subject.get("organizational_unit_name", "")).startswith("SEAL-")
            else "person" if subject.get("organization_name") == "农e贷 签署人" else "unknown")
    name = subject.get("organization_name" if kind == "seal" else "common_name")
    return SignatureFinding(field_name=s.field_name, signer_kind=kind, signer_name=name,
                            signer_ref=subject.get("organizational_unit_name"),
                            certificate_serial=s.certificate_serial, signed_at=s.signed_at,
                            valid=problem is None, level=s.level if problem is None else None,
                            revoked_at=s.revoked_at, problem=problem)
