"""Device authentication: every private request is signed by the device's Ed25519 key.

The device signs the method, the path, a timestamp and the SHA-256 of the body
(``shared.protocol.request_signing_bytes``). A request outside the allowed clock skew, from an
unknown device or with a signature that does not verify is refused with one opaque 401.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from server import db
from server.context import Context
from server.errors import ApiError
from shared import crypto
from shared.errors import MalformedData
from shared.protocol import REQUEST_CLOCK_SKEW_S, request_signing_bytes

_REFUSED = ApiError(401, "unauthenticated", "The request is not signed by an enrolled device.")


def authenticate(
    ctx: Context,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> str:
    """Return the id of the device that signed this request, or raise a 401."""
    device_id = headers.get("device", "")
    timestamp = headers.get("timestamp", "")
    try:
        signature = crypto.b64decode(headers.get("signature", ""), "signature")
        sent_ms = int(timestamp)
    except (MalformedData, ValueError):
        raise _REFUSED from None
    if abs(ctx.now_ms() - sent_ms) > REQUEST_CLOCK_SKEW_S * 1000:
        raise ApiError(
            401, "clock_skew", "This computer's clock is wrong: set the date and time, then retry."
        )
    with ctx.engine.connect() as connection:
        public = connection.execute(
            select(db.devices.c.sign_public).where(db.devices.c.id == device_id)
        ).scalar()
    if public is None:
        raise _REFUSED
    message = request_signing_bytes(method, path, timestamp, hashlib.sha256(body).hexdigest())
    try:
        Ed25519PublicKey.from_public_bytes(crypto.b64decode(public)).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise _REFUSED from None
    return device_id
