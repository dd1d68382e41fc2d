"""The CA simulator's cryptography (no I/O): ECDSA P-256 keys, X.509 certificates, signatures over a SHA-256."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import NameOID

ROOT_NAME = x509.Name([
    x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "农e贷 CA 模拟器"),
    x509.NameAttribute(NameOID.COMMON_NAME, "农e贷 模拟根证书"),
])
ROOT_VALIDITY = timedelta(days=20 * 365)
CLOCK_SKEW = timedelta(minutes=5)
# The document hash is signed as a prehashed SHA-256, so the signature also verifies over the document itself.
SIGNATURE_ALGORITHM = ec.ECDSA(Prehashed(hashes.SHA256()))


@dataclass(frozen=True)
class KeyPair:
    serial: str
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()


def serial_hex(cert: x509.Certificate) -> str:
    return format(cert.serial_number, "X")


def load_cert(cert_pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(cert_pem.encode())


def load(cert_pem: str, key_pem: str) -> KeyPair:
    cert = load_cert(cert_pem)
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("stored key is not an EC key")
    return KeyPair(serial=serial_hex(cert), cert=cert, key=key)


def _key_usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer, content_commitment=signer, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=not signer, crl_sign=not signer, encipher_only=False, decipher_only=False,
    )


def issue_root(now: datetime) -> KeyPair:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(ROOT_NAME).issuer_name(ROOT_NAME).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW).not_valid_after(now + ROOT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signer=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return KeyPair(serial=serial_hex(cert), cert=cert, key=key)


def issue_signer(root: KeyPair, signer_ref: str, now: datetime, validity: timedelta) -> KeyPair:
    """A signing certificate whose subject is the opaque signer_ref: no name or ID number goes into it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "农e贷 签署人"),
        x509.NameAttribute(NameOID.COMMON_NAME, signer_ref),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(root.cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW).not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signer=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
        .sign(root.key, hashes.SHA256())
    )
    return KeyPair(serial=serial_hex(cert), cert=cert, key=key)


def sign_digest(pair: KeyPair, digest: bytes) -> bytes:
    return pair.key.sign(digest, SIGNATURE_ALGORITHM)


def chains_to(cert: x509.Certificate, root: x509.Certificate) -> bool:
    """Issued and signed by this root (which must be a CA); a two-level chain needs no more."""
    constraints = root.extensions.get_extension_for_class(x509.BasicConstraints).value
    if not constraints.ca:
        return False
    try:
        cert.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def signature_matches(cert: x509.Certificate, digest: bytes, signature: bytes) -> bool:
    public_key = cert.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        return False
    try:
        public_key.verify(signature, digest, SIGNATURE_ALGORITHM)
    except InvalidSignature:
        return False
    return True
