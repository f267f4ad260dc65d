"""Protocol constants: versions, formats, header names and size limits both sides agree on."""

from __future__ import annotations

from typing import Final

API_PREFIX: Final = "/api/v1"
PACKAGE_FORMAT: Final = "examgate-package/1"
SUBMISSION_FORMAT: Final = "examgate-submission/1"
RECEIPT_FORMAT: Final = "examgate-receipt/1"

# Request authentication: the device signs METHOD, path, timestamp and the body's SHA-256.
HEADER_DEVICE: Final = "X-Examgate-Device"
HEADER_TIMESTAMP: Final = "X-Examgate-Timestamp"
HEADER_SIGNATURE: Final = "X-Examgate-Signature"
REQUEST_CLOCK_SKEW_S: Final = 300

MAX_BODY_BYTES: Final = 2 * 1024 * 1024


def request_signing_bytes(method: str, path: str, timestamp: str, body_sha256: str) -> bytes:
    """The exact bytes a device signs to authenticate one request."""
    return "\n".join(["examgate-request/1", method.upper(), path, timestamp, body_sha256]).encode()
