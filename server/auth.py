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
from sqlalchemy import bindparam, select

from server import db, limits
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


DEVICE_KEYS_KEPT = 50_000  # the signing keys a process keeps in memory (about 10 MB)


def remember_nonce(ctx: Context, subject: str, nonce: str) -> None:
    """Refuse a nonce ``subject`` has used within the skew window; remember it otherwise."""
    admit(ctx, subject, nonce, ())


def admit(ctx: Context, subject: str, nonce: str, kinds: tuple[str, ...]) -> None:
    """Remember ``subject``'s nonce (refusing one used within the skew window) and count the
    request against ``subject``'s limits of ``kinds``, in one transaction (``limits.record``:
    one round trip on PostgreSQL)."""
    if not 16 <= len(nonce) <= 64:
        raise _REFUSED
    now = ctx.now_ms()
    counted = limits.record(ctx, ((kind, subject) for kind in kinds), (subject, nonce, now))
    if ctx.rng.random() < _PURGE_CHANCE:
        cutoff = now - 2 * REQUEST_CLOCK_SKEW_S * 1000
        with db.begin_light(ctx.engine) as connection:
            connection.execute(
                db.request_nonces.delete().where(db.request_nonces.c.seen_ms < cutoff)
            )
    if counted is None:
        raise ApiError(
            401, "replayed", "This request was already received once; it was not repeated."
        )
    limits.refuse_past(counted)


def device_key(ctx: Context, device_id: str) -> Ed25519PublicKey | None:
    """The enrolled device's signing key (kept once read: a device's key never changes)."""
    found = ctx.device_keys.get(device_id)
    if found is not None:
        return found
    with ctx.reader.connect() as connection:
        public = connection.execute(_DEVICE_KEY, {"device_id": device_id}).scalar()
    if public is None:
        return None
    try:
        found = Ed25519PublicKey.from_public_bytes(crypto.b64decode(public))
    except (MalformedData, ValueError):
        return None
    if len(ctx.device_keys) >= DEVICE_KEYS_KEPT:
        ctx.device_keys.pop(next(iter(ctx.device_keys)))  # the oldest read goes
    ctx.device_keys[device_id] = found
    return found


_DEVICE_KEY = select(db.devices.c.sign_public).where(db.devices.c.id == bindparam("device_id"))


def authenticate(
    ctx: Context,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
    kinds: tuple[str, ...] = (),
) -> str:
    """Return the id of the device that signed this request, or raise a 401; the request is
    counted against the device's limits of ``kinds`` (a 429 past one of them)."""
    device_id = headers.get("device", "")
    timestamp = headers.get("timestamp", "")
    nonce = headers.get("nonce", "")
    try:
        signature = crypto.b64decode(headers.get("signature", ""), "signature")
        sent_ms = int(timestamp)
    except (MalformedData, ValueError):
        raise _REFUSED from None
    fresh_timestamp(ctx, sent_ms)
    key = device_key(ctx, device_id)
    if key is None:
        raise _REFUSED
    digest = hashlib.sha256(body).hexdigest()
    message = request_signing_bytes(method, target, timestamp, nonce, digest)
    try:
        key.verify(signature, message)
    except InvalidSignature:
        raise _REFUSED from None
    admit(ctx, device_id, nonce, kinds)
    return device_id
