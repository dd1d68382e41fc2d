"""PAdES signatures inside the PDF (pyhanko), and their verification (no I/O: keys and CRL come in).

Each signature is an incremental update: the bytes signed before stay untouched, so the borrower's
signature still verifies after the cooperative's seal is added. Every signature carries an RFC 3161
timestamp from the simulator's own time-stamping authority (PAdES-B-T): the signing time is the TSA's,
not the signer's claim. Nothing here fetches anything over the network.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

from asn1crypto import cms, core, parser
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, general, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.general import get_pyca_cryptography_hash, simple_cms_attribute
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from adapters.ca.pki import KeyPair

# pyhanko logs every failed check with the certificate's subject, which names the signer and carries
# their resident ID: personal data must not reach the logs. The result codes say what failed instead.
for _name in ("pyhanko", "pyhanko_certvalidator"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

# The CMS blob: signature, three certificates, and the timestamp token with its own three (~6 KB).
SIGNATURE_BYTES_RESERVED = 12 * 1024


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _asn1_key(pair: KeyPair) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(pair.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


@dataclass(frozen=True)
class Authorities:
    """The trust anchor and the CA-side keys a signature needs besides the signer's own."""

    root: x509.Certificate
    issuing: x509.Certificate
    tsa: KeyPair

    def timestamper(self, at: datetime | None = None) -> _TimeStamper:
        return _TimeStamper(self.tsa, certs_to_embed=SimpleCertificateStore.from_certs(
            [_asn1_cert(self.issuing), _asn1_cert(self.root)]), fixed_dt=at)


class _TimeStamper(DummyTimeStamper):
    """pyhanko's in-process RFC 3161 responder, signing with the simulator's TSA key: a real token, only
    without the HTTP hop. `fixed_dt` pins the time for tests; None reads the clock.

    It signs with the key object it was given: the parent re-parses the DER key on every token, and
    parsing an RSA key re-checks it (~35 ms, as much as the rest of a signature)."""

    def __init__(self, tsa: KeyPair, **kwargs: Any) -> None:
        if not isinstance(tsa.key, rsa.RSAPrivateKey):
            raise TypeError("the TSA key must be RSA (pyhanko's responder writes rsassa_pkcs1v15)")
        super().__init__(tsa_cert=_asn1_cert(tsa.cert), tsa_key=_asn1_key(tsa), **kwargs)
        self._key = tsa.key

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt: datetime) -> tuple[bytes, cms.CMSAttributes]:
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes([
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
            simple_cms_attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
            simple_cms_attribute("message_digest", digest.finalize()),
        ])
        signature = self._key.sign(signed_attrs.dump(), padding.PKCS1v15(),
                                   get_pyca_cryptography_hash(md_algorithm.upper()))
        return signature, signed_attrs


class _Signer(signers.SimpleSigner):
    """SimpleSigner that keeps the parsed key instead of re-parsing its DER for every signature."""

    def __init__(self, pair: KeyPair, **kwargs: Any) -> None:
        super().__init__(signing_cert=_asn1_cert(pair.cert), signing_key=_asn1_key(pair), **kwargs)
        self._key = pair.key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(hash_algorithm))
        return self._key.sign(data, padding.PKCS1v15(), hash_algorithm)


def sign(pdf: bytes, *, signer: KeyPair, authorities: Authorities, field_name: str, reason: str,
         location: str, at: datetime | None = None) -> bytes:
    """The PDF with one more signature appended as an incremental update, in a new invisible field."""
    simple = _Signer(
        signer,
        # The chain goes into the signature so a verifier needs only the root certificate.
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(authorities.issuing),
                                                          _asn1_cert(authorities.root)]))
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, reason=reason, location=location, md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES)
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    # A fixed reservation spares pyhanko a dry-run signature (and a second timestamp) to size it.
    out = signers.PdfSigner(meta, simple, timestamper=authorities.timestamper(at)).sign_pdf(
        writer, existing_fields_only=False, bytes_reserved=SIGNATURE_BYTES_RESERVED)
    return out.getvalue()


@dataclass(frozen=True)
class CheckedSignature:
    field_name: str
    signer_subject: dict[str, str]
    certificate_serial: str
    signed_at: datetime | None  # the TSA's time; None when the signature carries no valid timestamp
    intact: bool  # the signed bytes hash to what the signature says
    valid: bool  # and the signature over that hash checks with the certificate's key
    trusted: bool  # the certificate chains to our root and was not revoked
    revoked: bool
    covers_rest_of_file: bool  # the last byte of the file is signed by this signature
    # SHA-256 of the file up to the end of this signature's revision: what the signer produced, byte
    # for byte. Parts of a CMS blob are outside the signature (the certificates carried along, the
    # digest-algorithm list), so only a comparison with the signer's record catches a change there.
    revision_sha256: str
    problem: str | None


@dataclass(frozen=True)
class PdfCheck:
    signatures: list[CheckedSignature]
    # Bytes after the last signature's revision, or a change the diff analysis does not allow.
    modified_after_signing: bool
    problem: str | None

    @property
    def valid(self) -> bool:
        return (bool(self.signatures) and not self.modified_after_signing and self.problem is None
                and all(s.problem is None for s in self.signatures))


def _subject(cert: asn1_x509.Certificate) -> dict[str, str]:
    return {str(k): str(v) for k, v in cert.subject.native.items()}


def verify(pdf: bytes, *, root: x509.Certificate, crls: list[bytes], moment: datetime | None = None) -> PdfCheck:
    """Check every signature: integrity, chain to `root`, revocation against `crls`, timestamp, coverage.
    Synchronous (pyhanko runs its own event loop): from async code, call it in a thread."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - any parse failure means the file is not the one issued
        return PdfCheck(signatures=[], modified_after_signing=True, problem=f"UNREADABLE_PDF: {type(exc).__name__}")
    if not embedded:
        return PdfCheck(signatures=[], modified_after_signing=False, problem="NOT_SIGNED")
    context = ValidationContext(trust_roots=[_asn1_cert(root)], crls=crls, allow_fetching=False,
                                revocation_mode="hard-fail", moment=moment)
    checked = [_check(pdf, sig, context) for sig in embedded]
    last = checked[-1]
    modified = not last.covers_rest_of_file or any(c.problem == "MODIFIED_AFTER_SIGNING" for c in checked)
    return PdfCheck(signatures=checked, modified_after_signing=modified,
                    problem="MODIFIED_AFTER_SIGNING" if modified else None)


def _contents_canonical(pdf: bytes, sig) -> bool:  # noqa: ANN001
    """The one gap in the signed byte ranges is the signature's own hex string: it must be exactly the
    CMS blob, zero-padded, as written. Otherwise a padding digit or a hex letter's case could change
    without the signature noticing."""
    start, end = int(sig.byte_range[0]) + int(sig.byte_range[1]), int(sig.byte_range[2])
    contents = bytes(sig.sig_object["/Contents"])
    _, _, _, header, body, trailer = parser.parse(contents)
    padding_bytes = contents[len(header) + len(body) + len(trailer):]
    return (not padding_bytes.strip(b"\x00")
            and pdf[start:end] == b"<" + contents.hex().upper().encode() + b">")


def _check(pdf: bytes, sig, context: ValidationContext) -> CheckedSignature:  # noqa: ANN001 - pyhanko's EmbeddedPdfSignature
    try:
        status = validate_pdf_signature(sig, signer_validation_context=context, ts_validation_context=context)
    except RuntimeError:
        # Not the file's fault: pyhanko's sync API was called on a thread with a running event loop.
        raise
    except Exception as exc:  # noqa: BLE001 - a mangled signature blob is a failed check, not a crash
        return CheckedSignature(field_name=sig.field_name, signer_subject={}, certificate_serial="",
                                signed_at=None, intact=False, valid=False, trusted=False, revoked=False,
                                covers_rest_of_file=False, revision_sha256=_revision_sha256(pdf, sig),
                                problem=f"SIGNATURE_UNREADABLE: {type(exc).__name__}")
    canonical = _contents_canonical(pdf, sig)
    ts = status.timestamp_validity
    ts_ok = ts is not None and ts.intact and ts.valid and ts.trusted
    revoked = status.revocation_details is not None
    level = status.modification_level
    allowed = level is not None and level <= ModificationLevel.FORM_FILLING
    problem = None
    if not status.intact or not canonical:
        problem = "DOCUMENT_TAMPERED"
    elif not status.valid:
        problem = "SIGNATURE_INVALID"
    elif revoked:
        problem = "CERTIFICATE_REVOKED"
    elif not status.trusted:
        problem = "CERTIFICATE_NOT_TRUSTED"
    elif not ts_ok:
        problem = "TIMESTAMP_INVALID"
    elif not allowed:
        problem = "MODIFIED_AFTER_SIGNING"
    cert = status.signing_cert
    return CheckedSignature(
        field_name=sig.field_name, signer_subject=_subject(cert), certificate_serial=format(cert.serial_number, "X"),
        signed_at=ts.timestamp if ts_ok else None, intact=status.intact, valid=status.valid,
        trusted=status.trusted, revoked=revoked,
        covers_rest_of_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        revision_sha256=_revision_sha256(pdf, sig), problem=problem)


def _revision_sha256(pdf: bytes, sig) -> str:  # noqa: ANN001
    end = int(sig.byte_range[2]) + int(sig.byte_range[3])
    return hashlib.sha256(pdf[:end]).hexdigest()
