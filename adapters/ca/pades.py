"""PAdES signatures inside the PDF (pyhanko), and their verification (no I/O: keys and CRL come in).

Each signature is an incremental update: the bytes signed before stay untouched, so the borrower's
signature still verifies after the cooperative's seal is added. Every signature carries an RFC 3161
timestamp from the simulator's own time-stamping authority (PAdES-B-T): the signing time is the TSA's,
not the signer's claim. Nothing here fetches anything over the network.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import Any

from asn1crypto import cms, core, parser
from asn1crypto import crl as asn1_crl
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
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
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
    # pyhanko asks a timestamper for a throw-away token before each real one, to learn the TSA's chain
    # for the validation data; one per digest algorithm serves every signature (a token costs ~10 ms).
    dummy_tokens: dict[str, cms.ContentInfo] = field(default_factory=dict, compare=False, repr=False)

    def timestamper(self, at: datetime | None = None) -> _TimeStamper:
        return _TimeStamper(self.tsa, certs_to_embed=SimpleCertificateStore.from_certs(
            [_asn1_cert(self.issuing), _asn1_cert(self.root)]), fixed_dt=at, dummy_tokens=self.dummy_tokens)


class _TimeStamper(DummyTimeStamper):
    """pyhanko's in-process RFC 3161 responder, signing with the simulator's TSA key: a real token, only
    without the HTTP hop. `fixed_dt` pins the time for tests; None reads the clock.

    It signs with the key object it was given: the parent re-parses the DER key on every token, and
    parsing an RSA key re-checks it (~35 ms, as much as the rest of a signature)."""

    def __init__(self, tsa: KeyPair, *, dummy_tokens: dict[str, cms.ContentInfo], **kwargs: Any) -> None:
        if not isinstance(tsa.key, rsa.RSAPrivateKey):
            raise TypeError("the TSA key must be RSA (pyhanko's responder writes rsassa_pkcs1v15)")
        super().__init__(tsa_cert=_asn1_cert(tsa.cert), tsa_key=_asn1_key(tsa), **kwargs)
        self._key = tsa.key
        self._shared_dummies = dummy_tokens

    async def async_dummy_response(self, md_algorithm: str) -> cms.ContentInfo:
        shared = self._shared_dummies.get(md_algorithm)
        if shared is None:
            shared = self._shared_dummies[md_algorithm] = await super().async_dummy_response(md_algorithm)
        elif md_algorithm not in self._dummy_response_cache:
            self._register_dummy(md_algorithm, shared)  # as the parent does: the TSA's certificates too
        return shared

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


@dataclass(frozen=True)
class Appearance:
    """Where a visible signature goes and what it reads: page (0-based), box in PDF points from the
    page's lower left corner, and its lines of text."""

    page: int
    box: tuple[float, float, float, float]
    lines: list[str]


def validation_context(root: x509.Certificate, issuing: x509.Certificate | None, crls: list[bytes],
                       moment: datetime | None) -> ValidationContext:
    """Offline checks only: the root as the one trust anchor, the CRLs given, nothing fetched. A CRL issued
    after `moment` still says whether a certificate was revoked *before* it (retroactive_revinfo)."""
    return ValidationContext(trust_roots=[_asn1_cert(root)],
                             other_certs=[_asn1_cert(issuing)] if issuing is not None else [],
                             crls=crls, allow_fetching=False, revocation_mode="hard-fail", moment=moment,
                             retroactive_revinfo=True)


def sign(pdf: bytes, *, signer: KeyPair, authorities: Authorities, field_name: str, reason: str,
         location: str, crls: list[bytes] | None = None, at: datetime | None = None,
         appearance: Appearance | None = None, archive: bool = False) -> bytes:
    """The PDF with one more signature appended as an incremental update, in a new field.

    With `crls` (the issuing CA's current list) the chain and revocation data go into the document's
    security store (DSS) after the signature: PAdES B-LT, checkable later without asking the CA.
    `archive` adds a document timestamp over everything (B-LTA): the last signer of a document asks for it.
    `appearance` makes the field visible on the signature page."""
    from adapters.ca.appearance import stamp_style  # fontTools and HarfBuzz load only when a box is drawn

    simple = _Signer(
        signer,
        # The chain goes into the signature so a verifier needs only the root certificate.
        cert_registry=SimpleCertificateStore.from_certs([_asn1_cert(authorities.issuing),
                                                          _asn1_cert(authorities.root)]))
    long_term = crls is not None
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, reason=reason, location=location, md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES, embed_validation_info=long_term,
        validation_context=validation_context(authorities.root, authorities.issuing, crls, at) if long_term else None,
        use_pades_lta=archive and long_term, timestamp_field_name=f"{field_name}_archive" if archive else None)
    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    visible = {} if appearance is None else {
        "stamp_style": stamp_style(appearance.lines),
        "new_field_spec": fields.SigFieldSpec(field_name, on_page=appearance.page, box=appearance.box)}
    # A fixed reservation spares pyhanko a dry-run signature (and a second timestamp) to size it.
    out = signers.PdfSigner(meta, simple, timestamper=authorities.timestamper(at), **visible).sign_pdf(
        writer, existing_fields_only=False, bytes_reserved=SIGNATURE_BYTES_RESERVED)
    return out.getvalue()


# What a signature carries for a verifier years later (ETSI EN 319 142-1), lowest first.
LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")
_EOF = re.compile(rb"%%EOF\r?\n?")


@dataclass(frozen=True)
class CheckedSignature:
    field_name: str
    signer_subject: dict[str, str]
    certificate_serial: str
    signed_at: datetime | None  # the TSA's time; None when the signature carries no valid timestamp
    intact: bool  # the signed bytes hash to what the signature says
    valid: bool  # and the signature over that hash checks with the certificate's key
    trusted: bool  # the certificate chains to our root and was not revoked at the signing time
    revoked: bool  # revoked at or before the signing time: the signature does not hold
    # Revoked only after the signing time: the signature holds (it was made while the key was good).
    revoked_at: datetime | None
    level: str | None  # B-B, B-T, B-LT or B-LTA; None when the signature does not even hold cryptographically
    # SHA-256 of the file at each revision from this signature up to the next one (its own revision, the
    # validation data and archive timestamp added with it): one of them is what the signer produced, byte
    # for byte. Parts of a CMS blob are outside the signature (the certificates carried along, the
    # digest-algorithm list), so only a comparison with the signer's record catches a change there.
    revision_sha256s: tuple[str, ...]
    problem: str | None


@dataclass(frozen=True)
class CheckedTimestamp:
    """A document timestamp (PAdES B-LTA): the TSA's seal over the file and its validation data."""

    field_name: str
    at: datetime | None
    valid: bool
    end: int  # the byte where the revision it covers ends
    problem: str | None


@dataclass(frozen=True)
class PdfCheck:
    signatures: list[CheckedSignature]
    # Bytes after the last signature's revision, or a change the diff analysis does not allow.
    modified_after_signing: bool
    problem: str | None
    archive_timestamps: list[CheckedTimestamp] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return (bool(self.signatures) and not self.modified_after_signing and self.problem is None
                and all(s.problem is None for s in self.signatures)
                and all(t.valid for t in self.archive_timestamps))

    @property
    def level(self) -> str | None:
        """The level every signature in the file reaches."""
        levels = [s.level for s in self.signatures]
        if not levels or None in levels:
            return None
        return min(levels, key=LEVELS.index)


def _subject(cert: asn1_x509.Certificate) -> dict[str, str]:
    return {str(k): str(v) for k, v in cert.subject.native.items()}


@dataclass(frozen=True)
class _Store:
    """A document security store as read from one revision: certificates and CRLs (DER)."""

    certs: frozenset[bytes]
    crls: tuple[bytes, ...]

    @classmethod
    def read(cls, handler) -> _Store:  # noqa: ANN001 - a pyhanko PdfHandler (reader or historical revision)
        try:
            dss = DocumentSecurityStore.read_dss(handler)
        except NoDSSFoundError:
            return cls(frozenset(), ())
        return cls(frozenset(c.dump() for c in dss.load_certs()),
                   tuple(ref.get_object().data for ref in dss.crls))

    def covers(self, cert: asn1_x509.Certificate) -> bool:
        """The certificate's issuer and a CRL from that issuer are in the store: with the certificate itself,
        which every signature carries, the whole chain and its revocation status are in the file."""
        issuer = cert.issuer.dump()
        return (any(asn1_x509.Certificate.load(c).subject.dump() == issuer for c in self.certs)
                and any(asn1_crl.CertificateList.load(c).issuer.dump() == issuer for c in self.crls))


def verify(pdf: bytes, *, root: x509.Certificate, crls: list[bytes]) -> PdfCheck:
    """Check every signature at its signing time: integrity, chain to `root`, revocation, timestamp,
    coverage, and the level of validation data it carries. `crls` are the CA's current lists when it can
    be asked; with none, the check uses only what the document carries (its DSS), as a court would years
    later. Synchronous (pyhanko runs its own event loop): from async code, call it in a thread."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        regular = sorted(reader.embedded_regular_signatures, key=_end)
        stamps = sorted(reader.embedded_timestamp_signatures, key=_end)
        store = _Store.read(reader)
    except Exception as exc:  # noqa: BLE001 - any parse failure means the file is not the one issued
        return PdfCheck(signatures=[], modified_after_signing=True, problem=f"UNREADABLE_PDF: {type(exc).__name__}")
    if not regular:
        return PdfCheck(signatures=[], modified_after_signing=False, problem="NOT_SIGNED")
    all_crls = [*crls, *store.crls]
    boundaries = [m.end() for m in _EOF.finditer(pdf)]
    timestamps = [(_check_timestamp(reader, ts, root, all_crls)) for ts in stamps]
    checked = []
    for i, sig in enumerate(regular):
        until = _end(regular[i + 1]) if i + 1 < len(regular) else len(pdf) + 1
        checked.append(_check(pdf, reader, sig, root, all_crls, store, timestamps, boundaries, until))
    last = max([*regular, *(t[1] for t in timestamps)], key=_end)
    # After the last signature only whole revisions may follow (validation data: the diff analysis says
    # what they changed), never loose bytes: the file ends where pyhanko's last revision ends.
    whole_revisions = bool(boundaries) and boundaries[-1] == len(pdf) and len(boundaries) == reader.xrefs.total_revisions
    modified = ((_end(last) != len(pdf) and not whole_revisions) or any(c.problem == "MODIFIED_AFTER_SIGNING" for c in checked)
                or any(t[0].problem == "MODIFIED_AFTER_SIGNING" for t in timestamps))
    return PdfCheck(signatures=checked, modified_after_signing=modified,
                    problem="MODIFIED_AFTER_SIGNING" if modified else None,
                    archive_timestamps=[t[0] for t in timestamps])


def _end(sig) -> int:  # noqa: ANN001 - pyhanko's EmbeddedPdfSignature
    return int(sig.byte_range[2]) + int(sig.byte_range[3])


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


def _token_time(signer_info: cms.SignerInfo) -> datetime | None:
    """The time in the signature's timestamp token, read before it is checked (the check follows)."""
    for attr in signer_info["unsigned_attrs"] or []:
        if attr["type"].native == "signature_time_stamp_token":
            return attr["values"][0]["content"]["encap_content_info"]["content"].parsed["gen_time"].native
    return None


def _revoked_at(cert: asn1_x509.Certificate, crls: list[bytes]) -> datetime | None:
    """The earliest revocation time any of the issuer's CRLs gives for the certificate."""
    found = []
    for der in crls:
        crl = asn1_crl.CertificateList.load(der)
        if crl.issuer.dump() != cert.issuer.dump():
            continue
        for entry in crl["tbs_cert_list"]["revoked_certificates"]:
            if entry["user_certificate"].native == cert.serial_number:
                found.append(entry["revocation_date"].native)
    return min(found, default=None)


def _check_timestamp(reader: PdfFileReader, ts, root: x509.Certificate,  # noqa: ANN001
                     crls: list[bytes]) -> tuple[CheckedTimestamp, object, _Store]:
    name = ts.field_name
    try:
        at = ts.signed_data["encap_content_info"]["content"].parsed["gen_time"].native
        status = validate_pdf_timestamp(ts, validation_context=validation_context(root, None, crls, at))
    except RuntimeError:
        raise
    except Exception as exc:  # noqa: BLE001 - a mangled timestamp is a failed check
        return (CheckedTimestamp(name, None, False, _end(ts), f"TIMESTAMP_UNREADABLE: {type(exc).__name__}"), ts,
                _Store(frozenset(), ()))
    level = status.modification_level
    problem = None
    if not status.intact:
        problem = "DOCUMENT_TAMPERED"
    elif not (status.valid and status.trusted):
        problem = "TIMESTAMP_INVALID"
    elif level is None or level > ModificationLevel.FORM_FILLING:
        problem = "MODIFIED_AFTER_SIGNING"
    # The validation data this timestamp seals: the store as it stood in the revision it covers.
    store = _Store.read(reader.get_historical_resolver(ts.signed_revision))
    return CheckedTimestamp(name, status.timestamp if problem is None else None, problem is None, _end(ts),
                            problem), ts, store


def _check(pdf: bytes, reader: PdfFileReader, sig, root: x509.Certificate,  # noqa: ANN001 - pyhanko's types
           crls: list[bytes], store: _Store, timestamps: list, boundaries: list[int], until: int) -> CheckedSignature:
    revisions = tuple(hashlib.sha256(pdf[:b]).hexdigest() for b in boundaries if _end(sig) <= b < until)
    try:
        at = _token_time(sig.signer_info)
        context = validation_context(root, None, crls, at)
        status = validate_pdf_signature(sig, signer_validation_context=context, ts_validation_context=context)
    except RuntimeError:
        # Not the file's fault: pyhanko's sync API was called on a thread with a running event loop.
        raise
    except Exception as exc:  # noqa: BLE001 - a mangled signature blob is a failed check, not a crash
        return CheckedSignature(field_name=sig.field_name, signer_subject={}, certificate_serial="",
                                signed_at=None, intact=False, valid=False, trusted=False, revoked=False,
                                revoked_at=None, level=None, revision_sha256s=revisions,
                                problem=f"SIGNATURE_UNREADABLE: {type(exc).__name__}")
    canonical = _contents_canonical(pdf, sig)
    ts = status.timestamp_validity
    ts_ok = ts is not None and ts.intact and ts.valid and ts.trusted
    cert = status.signing_cert
    revoked_at = _revoked_at(cert, crls)
    signed_at = ts.timestamp if ts_ok else None
    # Revoked at or before the signing time (or with no trusted time to tell): the key was not good then.
    revoked = status.revocation_details is not None or (
        revoked_at is not None and (signed_at is None or revoked_at <= signed_at))
    modification = status.modification_level
    allowed = modification is not None and modification <= ModificationLevel.FORM_FILLING
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
    level = None
    if status.intact and canonical and status.valid:
        level = "B-B"
        if ts_ok:
            level = "B-T"
            if store.covers(cert):
                level = "B-LT"
                if any(t.valid and t.end > _end(sig) and covered.covers(cert) for t, _, covered in timestamps):
                    level = "B-LTA"
    return CheckedSignature(
        field_name=sig.field_name, signer_subject=_subject(cert), certificate_serial=format(cert.serial_number, "X"),
        signed_at=signed_at, intact=status.intact, valid=status.valid, trusted=status.trusted and not revoked,
        revoked=revoked, revoked_at=revoked_at, level=level, revision_sha256s=revisions, problem=problem)
