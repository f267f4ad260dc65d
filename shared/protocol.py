"""Protocol constants: versions, formats, header names and size limits both sides agree on."""

from __future__ import annotations

from typing import Final

from shared import canonical

API_PREFIX: Final = "/api/v1"
PACKAGE_FORMAT: Final = "examgate-package/1"
SUBMISSION_FORMAT: Final = "examgate-submission/1"
RECEIPT_FORMAT: Final = "examgate-receipt/1"

ENROL_FORMAT: Final = "examgate-enrol/1"
# A sealed submission in a file, encrypted to the server's key-exchange key, for a machine that
# cannot reach the server: carried by hand and uploaded by a proctor or employer.
HAND_IN_FORMAT: Final = "examgate-hand-in/1"
ENROL_KEX_INFO: Final = b"examgate-enrol-kex/1"

# Request authentication: the device signs the method, the raw path with its query string, a
# timestamp, a fresh nonce and the body's SHA-256. The server refuses a nonce it has seen.
HEADER_DEVICE: Final = "X-Examgate-Device"
HEADER_TIMESTAMP: Final = "X-Examgate-Timestamp"
HEADER_NONCE: Final = "X-Examgate-Nonce"
HEADER_SIGNATURE: Final = "X-Examgate-Signature"
REQUEST_CLOCK_SKEW_S: Final = 300

MAX_BODY_BYTES: Final = 2 * 1024 * 1024


def request_signing_bytes(
    method: str, target: str, timestamp: str, nonce: str, body_sha256: str
) -> bytes:
    """The exact bytes a device signs to authenticate one request. ``target`` is the raw path
    as sent, with ``?`` and the query string when there is one."""
    fields = ["examgate-request/2", method.upper(), target, timestamp, nonce, body_sha256]
    return "\n".join(fields).encode()


def enrol_transcript(body: dict[str, object]) -> bytes:
    """What an enrolling device signs (Ed25519) and MACs (X25519 with the server) to prove it
    holds both private keys: the canonical request without its proofs."""
    unsigned = {key: value for key, value in body.items() if key not in ("signature", "kex_proof")}
    return ENROL_FORMAT.encode() + b"\n" + canonical.dumps(unsigned)


# The server signs its key-exchange key with its signing key under this context.
SERVER_KEX_CONTEXT: Final = "examgate-server-kex/1"
