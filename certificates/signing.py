"""Sign a certificate PDF (PAdES baseline with pyHanko) and check one.

The signature is a CAdES-detached CMS over the whole file (PAdES B-B), made with the server's
document-signing key; with a timestamp authority configured it carries a signature timestamp
from it (B-T). The PDF is certified (DocMDP, no changes allowed): a later incremental update,
even a signed one, does not keep the document "unchanged".

``check`` is what anyone can run with the authority's certificate alone: the bytes are intact,
the signer chains to the authority, and the signature covers the entire file.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from certificates.authority import AuthorityError, SigningFiles, load_chain

FIELD = "examgate-signature"
# pyHanko logs each failed check with a traceback; ``check`` reports them as sentences instead.
logging.getLogger("pyhanko.sign.validation").setLevel(logging.CRITICAL)

T = TypeVar("T")


def _outside_event_loop(work: Callable[[], T]) -> T:
    """Run ``work`` where no event loop is running. pyHanko's synchronous calls start one of
    their own (``asyncio.run``), which fails in a thread whose loop is running (a request
    handler's, a browser driver's): there, the work goes to a short-lived thread instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="examgate-pdf") as pool:
        return pool.submit(work).result()


class Signer:
    """The document signer, loaded once from the key files and used from many threads."""

    def __init__(self, files: SigningFiles, timestamp_url: str | None = None) -> None:
        try:
            chain = load_chain(files.chain)
            key = serialization.load_pem_private_key(files.key.read_bytes(), password=None)
        except (OSError, ValueError) as error:
            raise AuthorityError(
                f"The document-signing key {files.key} or its certificates could not be loaded; "
                "run 'examgate-server init' to make them."
            ) from error
        der = serialization.Encoding.DER
        asn1_chain = [asn1_x509.Certificate.load(c.public_bytes(der)) for c in chain]
        signer = signers.SimpleSigner(
            signing_cert=asn1_chain[0],
            signing_key=asn1_keys.PrivateKeyInfo.load(
                key.private_bytes(
                    der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            ),
            cert_registry=SimpleCertificateStore.from_certs(asn1_chain),  # type: ignore[no-untyped-call]
        )
        self._signer = signer
        self._timestamper = (
            timestamps.HTTPTimeStamper(timestamp_url, timeout=10) if timestamp_url else None
        )
        self._lock = threading.Lock()
        self.subject = chain[0].subject.rfc4514_string()

    def sign(self, pdf: bytes, reason: str, location: str) -> bytes:
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=reason,
            location=location,
            certify=True,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
            use_pades_lta=False,
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        out = signers.PdfSigner(meta, signer=self._signer, timestamper=self._timestamper)
        with self._lock:  # one signer object; pyHanko's signers keep per-call state
            signed = _outside_event_loop(lambda: out.sign_pdf(writer))
        return bytes(signed.getbuffer())


@dataclass(frozen=True)
class Checked:
    """What a PDF's check found; ``genuine`` only when every part holds."""

    intact: bool
    trusted: bool
    whole_file: bool
    signer: str
    timestamped: bool
    problem: str = ""

    @property
    def genuine(self) -> bool:
        return self.intact and self.trusted and self.whole_file and not self.problem


def _roots(authority: Path | bytes | list[x509.Certificate]) -> list[Any]:
    if isinstance(authority, Path):
        certificates = load_chain(authority)
    elif isinstance(authority, bytes):
        certificates = x509.load_pem_x509_certificates(authority)
    else:
        certificates = authority
    return [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certificates
    ]


def check(pdf: bytes, authority: Path | bytes | list[x509.Certificate]) -> Checked:
    """Check ``pdf``'s signature against ``authority`` (the trust root): nothing else trusted."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # pyHanko raises many kinds for a damaged file
        return Checked(False, False, False, "", False, f"The file is not a readable PDF ({error}).")
    if len(signatures) != 1:
        return Checked(
            False,
            False,
            False,
            "",
            False,
            "The file has no examgate signature."
            if not signatures
            else "The file has more than one signature: it was changed after it was issued.",
        )
    context = ValidationContext(trust_roots=_roots(authority), allow_fetching=False)
    try:
        status = _outside_event_loop(lambda: validate_pdf_signature(signatures[0], context))
    except Exception as error:
        return Checked(
            False, False, False, "", False, f"The signature could not be read ({error})."
        )
    coverage = status.coverage
    whole = coverage is not None and coverage.name == "ENTIRE_FILE"
    signer = status.signing_cert.subject.human_friendly if status.signing_cert else ""
    problem = ""
    if not status.intact:
        problem = "The file was changed after it was signed."
    elif not status.trusted:
        problem = "The signature is not from the examgate authority given."
    elif not whole:
        problem = "Something was added to the file after it was signed."
    return Checked(
        intact=bool(status.intact),
        trusted=bool(status.trusted),
        whole_file=whole,
        signer=signer,
        timestamped=status.timestamp_validity is not None,
        problem=problem,
    )


def keywords(pdf: bytes) -> dict[str, str]:
    """The examgate keywords the certificate carries (its verification code, the submission's
    hash), read from the document information."""
    try:
        info = PdfFileReader(io.BytesIO(pdf), strict=False).trailer_view.get("/Info")
        text = str(info.get_object().get("/Keywords", "")) if info is not None else ""
    except Exception:
        return {}
    found: dict[str, str] = {}
    for part in text.replace(",", " ").split():
        if part.startswith("examgate-") and ":" in part:
            name, value = part[len("examgate-") :].split(":", 1)
            found[name] = value
    return found
