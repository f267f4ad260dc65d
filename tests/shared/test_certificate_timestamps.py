"""With a timestamp authority configured, a certificate's signature carries an RFC 3161
timestamp from it (PAdES B-T). The authority here is a real HTTP one on loopback, answering
with pyHanko's reference token builder under a certificate of its own (timeStamping use)."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from certificates import signing
from certificates.authority import SigningFiles, create
from tests.helpers import one_page_pdf


def _tsa() -> tuple[DummyTimeStamper, x509.Certificate]:
    now = dt.datetime.now(dt.UTC)
    # pyHanko's reference token builder signs with RSA only.
    root_key, key = rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA root")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=9))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=9))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    der = serialization.Encoding.DER
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(leaf.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        ),
        certs_to_embed=[asn1_x509.Certificate.load(root.public_bytes(der))],
    )
    return stamper, root


@pytest.fixture
def tsa() -> Iterator[tuple[str, x509.Certificate, list[int]]]:
    stamper, root = _tsa()
    asked: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            asked.append(len(body))
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa", root, asked
    finally:
        server.shutdown()
        server.server_close()


def test_a_configured_timestamp_authority_timestamps_the_signature(
    tsa: tuple[str, x509.Certificate, list[int]], tmp_path: Path
) -> None:
    url, tsa_root, asked = tsa
    files = SigningFiles.under(tmp_path / "keys")
    create(files, "examgate test")
    signed = signing.Signer(files, timestamp_url=url).sign(one_page_pdf(), "test", "here")
    assert asked  # the authority was asked over HTTP
    checked = signing.check(signed, files.authority)
    assert checked.genuine and checked.timestamped

    roots = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
        for c in (x509.load_pem_x509_certificate(files.authority.read_bytes()), tsa_root)
    ]
    [signature] = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    status = validate_pdf_signature(
        signature,
        ValidationContext(trust_roots=roots[:1]),
        ts_validation_context=ValidationContext(trust_roots=roots[1:]),
    )
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert status.timestamp_validity.intact and status.trusted


def test_without_one_the_signature_has_no_timestamp(tmp_path: Path) -> None:
    files = SigningFiles.under(tmp_path / "keys")
    create(files, "examgate test")
    checked = signing.check(
        signing.Signer(files).sign(one_page_pdf(), "test", "here"), files.authority
    )
    assert checked.genuine and not checked.timestamped


def test_an_unreachable_authority_fails_the_signing_not_silently(tmp_path: Path) -> None:
    files = SigningFiles.under(tmp_path / "keys")
    create(files, "examgate test")
    signer = signing.Signer(files, timestamp_url="http://127.0.0.1:9/tsa")
    with pytest.raises(Exception):  # noqa: B017 (the job retries on any failure)
        signer.sign(one_page_pdf(), "test", "here")


def test_signing_and_checking_work_in_a_thread_whose_event_loop_runs(tmp_path: Path) -> None:
    """A job run where a loop is running (a browser driver's, a request handler's) still signs:
    pyHanko's own ``asyncio.run`` would refuse there, leaving its coroutines never awaited."""
    import asyncio

    files = SigningFiles.under(tmp_path / "keys")
    create(files, "examgate test")
    signer = signing.Signer(files)

    async def inside_a_running_loop() -> signing.Checked:
        signed = signer.sign(one_page_pdf(), "test", "here")  # synchronous, on purpose
        return signing.check(signed, files.authority)

    assert asyncio.run(inside_a_running_loop()).genuine
