"""The CA simulator's cryptography (no I/O): a two-level PKI with ECDSA P-256 keys.

root (offline in a real CA) -> issuing CA -> one event certificate per signature, the cooperative's
seal certificate and the time-stamping authority's certificate. The issuing CA also signs the CRL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ORGANISATION = "农e贷 CA 模拟器"
ROOT_NAME = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
    x509.NameAttribute(NameOID.COMMON_NAME, "农e贷 模拟根证书"),
])
ISSUING_NAME = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
    x509.NameAttribute(NameOID.COMMON_NAME, "农e贷 模拟签发CA"),
])
TSA_NAME = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
    x509.NameAttribute(NameOID.COMMON_NAME, "农e贷 模拟时间戳服务"),
])
ROOT_VALIDITY = timedelta(days=20 * 365)
ISSUING_VALIDITY = timedelta(days=10 * 365)
CLOCK_SKEW = timedelta(minutes=5)
# A CRL is re-issued on every request; a day of validity lets a copy kept offline still be used.
CRL_VALIDITY = timedelta(days=1)


@dataclass(frozen=True)
class KeyPair:
    serial: str
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()


@dataclass(frozen=True)
class PersonSubject:
    """Who an event certificate names: the identity checked by the cooperative (real-name and SMS code)."""

    signer_ref: str
    name: str
    resident_id: str


@dataclass(frozen=True)
class SealSubject:
    """The legal person whose electronic seal (电子印章) signs for the lender."""

    signer_ref: str
    organisation: str
    branch: str


def serial_hex(cert: x509.Certificate) -> str:
    return format(cert.serial_number, "X")


def load_cert(cert_pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(cert_pem.encode())


def load(cert_pem: str, key_pem: str) -> KeyPair:
    cert = load_cert(cert_pem)
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("stored key is neither EC nor RSA")
    return KeyPair(serial=serial_hex(cert), cert=cert, key=key)


def _key_usage(*, signer: bool) -> x509.KeyUsage:
    # content_commitment (non-repudiation) is what marks a certificate as one for binding signatures.
    return x509.KeyUsage(
        digital_signature=signer, content_commitment=signer, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=not signer, crl_sign=not signer, encipher_only=False, decipher_only=False,
    )


def _builder(subject: x509.Name, issuer: KeyPair | None, public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
             now: datetime,
             validity: timedelta) -> x509.CertificateBuilder:
    issuer_name = subject if issuer is None else issuer.cert.subject
    issuer_public = public_key if issuer is None else issuer.key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer_name).public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW).not_valid_after(now + validity)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False)
    )


def issue_root(now: datetime) -> KeyPair:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(ROOT_NAME, None, key.public_key(), now, ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_key_usage(signer=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(serial=serial_hex(cert), cert=cert, key=key)


def issue_issuing_ca(root: KeyPair, now: datetime) -> KeyPair:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(ISSUING_NAME, root, key.public_key(), now, ISSUING_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signer=False), critical=True)
        .sign(root.key, hashes.SHA256())
    )
    return KeyPair(serial=serial_hex(cert), cert=cert, key=key)


def _end_entity(issuing: KeyPair, subject: x509.Name, now: datetime, validity: timedelta, crl_url: str,
                extended_usage: x509.ObjectIdentifier | None = None, rsa_key: bool = False) -> KeyPair:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048) if rsa_key
        else ec.generate_private_key(ec.SECP256R1()))
    builder = (
        _builder(subject, issuing, key.public_key(), now, validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signer=True), critical=True)
        # Where a verifier finds out whether the certificate was revoked.
        .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None,
            crl_issuer=None)]), critical=False)
    )
    if extended_usage is not None:
        # RFC 3161 requires a TSA certificate to carry only timeStamping, marked critical.
        builder = builder.add_extension(x509.ExtendedKeyUsage([extended_usage]), critical=True)
    cert = builder.sign(issuing.key, hashes.SHA256())
    return KeyPair(serial=serial_hex(cert), cert=cert, key=key)


def issue_event_certificate(issuing: KeyPair, person: PersonSubject, now: datetime, validity: timedelta,
                            crl_url: str) -> KeyPair:
    """A certificate for one signing event, naming the verified person; its key signs once and is dropped."""
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "农e贷 签署人"),
        # The customer number lets the cooperative find its own records; name and resident ID bind the
        # certificate to the person, as a Chinese CA's personal certificate does.
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, person.signer_ref),
        x509.NameAttribute(NameOID.COMMON_NAME, person.name),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, person.resident_id),
    ])
    return _end_entity(issuing, subject, now, validity, crl_url)


def issue_seal_certificate(issuing: KeyPair, seal: SealSubject, now: datetime, validity: timedelta,
                           crl_url: str) -> KeyPair:
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, seal.organisation),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, seal.signer_ref),
        # X.509 caps a common name at 64 bytes, too short for many cooperatives' names: they go in O.
        x509.NameAttribute(NameOID.COMMON_NAME, "电子合同专用章"),
    ])
    return _end_entity(issuing, subject, now, validity, crl_url)


def issue_tsa_certificate(issuing: KeyPair, now: datetime, crl_url: str) -> KeyPair:
    # RSA: pyhanko's in-process RFC 3161 responder signs tokens with RSA keys only.
    return _end_entity(issuing, TSA_NAME, now, ISSUING_VALIDITY, crl_url, ExtendedKeyUsageOID.TIME_STAMPING,
                       rsa_key=True)


def issue_crl(issuing: KeyPair, revoked: Iterable[tuple[str, datetime]], now: datetime, number: int) -> x509.CertificateRevocationList:
    """The issuing CA's list of revoked serials (hex) with their revocation times."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuing.cert.subject)
        .last_update(now - CLOCK_SKEW).next_update(now + CRL_VALIDITY)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing.key.public_key()), critical=False)
    )
    for serial, revoked_at in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(int(serial, 16)).revocation_date(revoked_at).build())
    return builder.sign(issuing.key, hashes.SHA256())
