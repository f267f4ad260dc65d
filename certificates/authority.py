"""The document-signing certificate the server signs certificates with, and its authority.

``init`` makes a small authority of the server's own (a root certificate whose only job is to
vouch for the signing certificate) unless the operator brings a PKCS#12 file from theirs. Keys
are written 0600 in the server's 0700 key folder; the authority's certificate is public (the
server serves it) and is what a verifier trusts.

ECDSA P-256 with SHA-256: accepted by Acrobat, poppler's pdfsig (NSS) and pyHanko, and quick to
sign with.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

AUTHORITY_YEARS = 20
SIGNER_YEARS = 5


class AuthorityError(Exception):
    """A key or certificate file that cannot be used, said as a sentence for the operator."""


@dataclass(frozen=True)
class SigningFiles:
    key: Path  # the document-signing key (PEM, 0600)
    chain: Path  # the signing certificate then its issuers (PEM)
    authority: Path  # the trust root a verifier uses (PEM, public)
    authority_key: Path  # only for an authority made by init (PEM, 0600)

    @classmethod
    def under(cls, folder: Path) -> SigningFiles:
        return cls(
            key=folder / "document-signing.key",
            chain=folder / "document-signing.pem",
            authority=folder / "authority.pem",
            authority_key=folder / "authority.key",
        )

    def exist(self) -> bool:
        return self.key.exists() and self.chain.exists() and self.authority.exists()


def _write(path: Path, data: bytes, secret: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
        ]
    )


def create(files: SigningFiles, issuer: str, now: dt.datetime | None = None) -> None:
    """Make an authority and a signing certificate it issues, unless both are there already."""
    if files.exist():
        return
    now = now or dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"{issuer} certificate authority", issuer)
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * AUTHORITY_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{issuer} certificates", issuer))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * SIGNER_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            # digitalSignature and contentCommitment (non-repudiation): a document signature.
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    _write(files.authority_key, _key_pem(root_key), secret=True)
    _write(files.key, _key_pem(key), secret=True)
    _write(files.chain, leaf.public_bytes(pem) + root.public_bytes(pem), secret=False)
    _write(files.authority, root.public_bytes(pem), secret=False)


def import_pkcs12(files: SigningFiles, data: bytes, password: bytes | None) -> x509.Certificate:
    """Take the operator's own signing key and certificate (with its chain) from a PKCS#12 file;
    the last certificate of the chain (or the signing certificate itself) becomes the trust
    root a verifier is given. Returns the signing certificate."""
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(data, password)
    except ValueError as error:
        raise AuthorityError(
            "The PKCS#12 file could not be opened: check the password, and that the file is a "
            "PKCS#12 (.p12 or .pfx) bundle."
        ) from error
    if key is None or certificate is None:
        raise AuthorityError("The PKCS#12 file must hold a private key and its certificate.")
    public = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    mine = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if public != mine:
        raise AuthorityError("The PKCS#12 file's key does not belong to its certificate.")
    pem = serialization.Encoding.PEM
    root = chain[-1] if chain else certificate
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(files.key, key_pem, secret=True)
    _write(files.chain, b"".join(c.public_bytes(pem) for c in [certificate, *chain]), False)
    _write(files.authority, root.public_bytes(pem), secret=False)
    files.authority_key.unlink(missing_ok=True)  # an authority of the operator's: not ours
    return certificate


def load_chain(path: Path) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as error:
        raise AuthorityError(f"The certificate file {path} could not be read: {error}") from error
