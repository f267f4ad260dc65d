"""Device authentication: every private request is signed by the device's Ed25519 key.

The device signs the method, the raw path with its query string, a timestamp, a fresh nonce and
the SHA-256 of the body (``shared.protocol.request_signing_bytes``). A request outside the
allowed clock skew, from an unknown device or with a signature that does not verify is refused
with one opaque 401; a nonce already seen within the skew window (a replay) with another 401.
Nonces live in the database, so every worker agrees on what was seen.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server import db
from server.context import Context
from server.errors import ApiError
from shared import crypto
from shared.errors import MalformedData
from shared.protocol import REQUEST_CLOCK_SKEW_S, request_signing_bytes

_REFUSED = ApiError(401, "unauthenticated", "The request is not signed by an enrolled device.")
_PURGE_CHANCE = 0.02


def fresh_timestamp(ctx: Context, sent_ms: int) -> None:
    if abs(ctx.now_ms() - sent_ms) > REQUEST_CLOCK_SKEW_S * 1000:
        raise ApiError(
            401, "clock_skew", "This computer's clock is wrong: set the date and time, then retry."
        )


def remember_nonce(ctx: Context, subject: str, nonce: str) -> None:
    """Refuse a nonce ``subject`` has used within the skew window; remember it otherwise."""
    if not 16 <= len(nonce) <= 64:
        raise _REFUSED
    now = ctx.now_ms()
    try:
        # Not flushed to disk on its own (db.begin_light): after a power cut the last moments'
        # nonces may be forgotten, and those requests' signatures are minutes from expiring.
        with db.begin_light(ctx.engine) as connection:
            connection.execute(
                db.request_nonces.insert().values(device_id=subject, nonce=nonce, seen_ms=now)
            )
            if ctx.rng.random() < _PURGE_CHANCE:
                cutoff = now - 2 * REQUEST_CLOCK_SKEW_S * 1000
                connection.execute(
                    db.request_nonces.delete().where(db.request_nonces.c.seen_ms < cutoff)
                )
    except IntegrityError:
        raise ApiError(
            401, "replayed", "This request was already received once; it was not repeated."
        ) from None


def authenticate(
    ctx: Context,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
) -> str:
    """Return the id of the device that signed this request, or raise a 401."""
    device_id = headers.get("device", "")
    timestamp = headers.get("timestamp", "")
    nonce = headers.get("nonce", "")
    try:
        signature = crypto.b64decode(headers.get("signature", ""), "signature")
        sent_ms = int(timestamp)
    except (MalformedData, ValueError):
        raise _REFUSED from None
    fresh_timestamp(ctx, sent_ms)
    with ctx.reader.connect() as connection:
        public = connection.execute(
            select(db.devices.c.sign_public).where(db.devices.c.id == device_id)
        ).scalar()
    if public is None:
        raise _REFUSED
    digest = hashlib.sha256(body).hexdigest()
    message = request_signing_bytes(method, target, timestamp, nonce, digest)
    try:
        Ed25519PublicKey.from_public_bytes(crypto.b64decode(public)).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise _REFUSED from None
    remember_nonce(ctx, device_id, nonce)
    return device_id
