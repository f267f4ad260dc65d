"""Invitations and enrolment: a sitting is created as an invitation (only the hash of its code is
stored), with the window it may be taken in and any extra time, and claimed by one device that
proves it holds both of its private keys."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, select

from server import db, jobs, limits
from server.auth import fresh_timestamp, remember_nonce
from server.context import Context
from server.errors import ApiError, not_found
from shared import crypto
from shared.errors import MalformedData
from shared.protocol import ENROL_KEX_INFO, SERVER_KEX_CONTEXT, enrol_transcript
from shared.wire import SittingSummary

INVITATION_DAYS = 30
DAY_MS = 86_400_000
MAX_EXTRA_TIME_S = 4 * 3600


def utc(ms: int) -> str:
    """A moment as the server words it in a message."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%d %B %Y, %H:%M UTC")


def invitation_hash(code: str) -> str:
    return hashlib.sha256(crypto.normalise_unlock_code(code).encode()).hexdigest()


def new_id(ctx: Context) -> str:
    return f"{ctx.rng.getrandbits(64):016x}"


def create_invitation(
    ctx: Context,
    assessment_slug: str,
    candidate_name: str,
    offline: bool,
    candidate_email: str | None = None,
    *,
    opens_ms: int | None = None,
    closes_ms: int | None = None,
    extra_time_s: int = 0,
) -> dict[str, Any]:
    """A new sitting of ``assessment_slug`` (the operator's path: any organisation's).

    The sitting may be started from ``opens_ms`` to ``closes_ms`` (default: now to the
    invitation's expiry, 30 days); ``extra_time_s`` is added to the assessment's duration.
    The invitation code is returned once, never stored.
    """
    with ctx.engine.begin() as connection:
        assessment = (
            connection.execute(
                select(db.assessments).where(db.assessments.c.slug == assessment_slug)
            )
            .mappings()
            .first()
        )
        if assessment is None:
            raise not_found("assessment")
        return new_sitting(
            ctx,
            connection,
            assessment,
            candidate_name,
            offline,
            candidate_email,
            opens_ms=opens_ms,
            closes_ms=closes_ms,
            extra_time_s=extra_time_s,
        )


def check_window(
    ctx: Context, opens_ms: int | None, closes_ms: int | None, extra_time_s: int
) -> tuple[int, int, int]:
    """The window (opens, closes) and the invitation's expiry; refused if it makes no sense."""
    now = ctx.now_ms()
    expires = now + INVITATION_DAYS * DAY_MS
    opens = now if opens_ms is None else opens_ms
    closes = expires if closes_ms is None else closes_ms
    if closes <= opens:
        raise ApiError(400, "bad_window", "The sitting's window must close after it opens.")
    if closes < now:
        raise ApiError(400, "bad_window", "The sitting's window has already closed.")
    if not 0 <= extra_time_s <= MAX_EXTRA_TIME_S:
        raise ApiError(400, "bad_extra_time", "Extra time must be from 0 to 4 hours.")
    return opens, closes, max(expires, closes)


def new_sitting(
    ctx: Context,
    connection: Connection,
    assessment: RowMapping,
    candidate_name: str,
    offline: bool,
    candidate_email: str | None = None,
    *,
    opens_ms: int | None = None,
    closes_ms: int | None = None,
    extra_time_s: int = 0,
    kind: str = "employer",
    invited_by: str | None = None,
) -> dict[str, Any]:
    """Insert one sitting in the caller's transaction; its invitation code is in the answer."""
    if assessment["status"] != "published":
        raise ApiError(
            409,
            "not_published",
            f"The assessment is {assessment['status']}: only a published one takes invitations.",
        )
    opens, closes, expires = check_window(ctx, opens_ms, closes_ms, extra_time_s)
    now = ctx.now_ms()
    code = crypto.new_unlock_code(ctx.rng.randrange, groups=4)
    unlock_code = crypto.new_unlock_code(ctx.rng.randrange)
    sitting_id = new_id(ctx)
    connection.execute(
        db.sittings.insert().values(
            id=sitting_id,
            invitation_hash=invitation_hash(code),
            assessment_id=assessment["id"],
            candidate_name=candidate_name,
            candidate_email=candidate_email.strip().lower() if candidate_email else None,
            offline=offline,
            unlock_code=unlock_code,
            proctor_secret=crypto.b64encode(ctx.rng.randbytes(32)),
            state="invited",
            created_ms=now,
            expires_ms=expires,
            opens_ms=opens,
            closes_ms=closes,
            extra_time_s=extra_time_s,
            kind=kind,
            invited_by=invited_by,
        )
    )
    # The package's slow key derivations, done now so a download is fast.
    jobs.defer(connection, "prepare", sitting_id)
    invitation: dict[str, Any] = {
        "invitation": code,
        "sitting_id": sitting_id,
        "assessment": assessment["title"],
        "candidate": candidate_name,
        "offline": offline,
        "opens_ms": opens,
        "closes_ms": closes,
        "extra_time_s": extra_time_s,
        "expires_ms": expires,
    }
    if offline:
        invitation["unlock_code"] = unlock_code
    return invitation


def rotate_code(ctx: Context, connection: Connection, sitting_id: str) -> str:
    """A new invitation code for a sitting not yet enrolled (the old one stops working)."""
    code = crypto.new_unlock_code(ctx.rng.randrange, groups=4)
    connection.execute(
        db.sittings.update()
        .where(db.sittings.c.id == sitting_id)
        .values(invitation_hash=invitation_hash(code))
    )
    return code


def _public_key(value: object, what: str) -> str:
    raw = crypto.b64decode(value, what)
    if len(raw) != 32:
        raise ApiError(400, "malformed", f"The {what} must be 32 bytes.")
    return crypto.b64encode(raw)


_FIELDS = {
    "invitation",
    "sign_public",
    "kex_public",
    "device_name",
    "timestamp",
    "nonce",
    "signature",
    "kex_proof",
}


def check_possession(ctx: Context, body: dict[str, Any]) -> tuple[str, str]:
    """The device's two public keys, once the request proves it holds both private keys."""
    sign_public = _public_key(body.get("sign_public"), "signing key")
    kex_public = _public_key(body.get("kex_public"), "key-exchange key")
    if type(body.get("timestamp")) is not int or not isinstance(body.get("nonce"), str):
        raise MalformedData("Enrolment needs a timestamp and a nonce.")
    fresh_timestamp(ctx, body["timestamp"])
    transcript = enrol_transcript(body)
    signature = crypto.b64decode(body.get("signature"), "signature")
    proof = crypto.b64decode(body.get("kex_proof"), "key-exchange proof")
    refused = ApiError(
        401, "no_proof", "The enrolment does not prove possession of this device's keys."
    )
    if not crypto.signature_matches(crypto.b64decode(sign_public), signature, transcript):
        raise refused
    shared = crypto.shared_key(ctx.kex_key, crypto.b64decode(kex_public), ENROL_KEX_INFO)
    if not hmac.compare_digest(proof, hmac.new(shared, transcript, hashlib.sha256).digest()):
        raise refused
    remember_nonce(ctx, f"enrol:{sign_public}", body["nonce"])
    return sign_public, kex_public


def enrol(ctx: Context, body: object, address: str) -> dict[str, Any]:
    """Claim an invitation for a device, registering the device's public keys if new."""
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("invitation"), str)
        or set(body) != _FIELDS
    ):
        raise MalformedData(
            "Enrolment needs an invitation code, the device's public keys and their proofs."
        )
    limits.hit(ctx, "enrol", address)
    sign_public, kex_public = check_possession(ctx, body)
    name = str(body.get("device_name") or "device")[:200]
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        sitting = (
            connection.execute(
                select(db.sittings).where(
                    db.sittings.c.invitation_hash == invitation_hash(body["invitation"])
                )
            )
            .mappings()
            .first()
        )
        found = (
            sitting is not None and sitting["expires_ms"] >= now and sitting["revoked_ms"] is None
        )
    if not found or sitting is None:
        # Only unknown codes count against the address, so one guesser behind a shared address
        # (a test centre's network) never locks out the candidates with real codes.
        limits.hit(ctx, "enrol_failed", address)
        raise ApiError(
            404, "unknown_invitation", "This invitation code is not valid or has expired."
        )
    with ctx.engine.begin() as connection:
        device = (
            connection.execute(select(db.devices).where(db.devices.c.sign_public == sign_public))
            .mappings()
            .first()
        )
        if device is None:
            device_id = new_id(ctx)
            connection.execute(
                db.devices.insert().values(
                    id=device_id,
                    sign_public=sign_public,
                    kex_public=kex_public,
                    name=name,
                    created_ms=now,
                )
            )
        else:
            device_id = device["id"]
            if device["kex_public"] != kex_public:
                raise ApiError(409, "key_mismatch", "This device is registered with other keys.")
        if sitting["device_id"] not in (None, device_id):
            raise ApiError(
                409, "invitation_used", "This invitation has already been used on another device."
            )
        connection.execute(
            db.sittings.update()
            .where(db.sittings.c.id == sitting["id"])
            .values(
                device_id=device_id,
                state="enrolled" if sitting["state"] == "invited" else sitting["state"],
                enrolled_ms=sitting["enrolled_ms"] or now,
            )
        )
        summary = summarise(connection, dict(sitting, device_id=device_id))
    return {"device_id": device_id, "sitting": summary, "server": server_keys(ctx)}


def server_keys(ctx: Context) -> dict[str, str]:
    """The server's public keys for pinning: the signing key, and the key-exchange key signed by
    it (so a pinned signing key vouches for it)."""
    kex = {"context": SERVER_KEX_CONTEXT, "kex_public": crypto.b64encode(ctx.kex_public)}
    return {
        "public_key": crypto.b64encode(ctx.public_key),
        "fingerprint": crypto.fingerprint(ctx.public_key),
        "kex_public": kex["kex_public"],
        "kex_signature": crypto.sign_document(kex, ctx.signing_key)["signature"],
    }


def window(sitting: RowMapping | dict[str, Any]) -> tuple[int, int]:
    """When the sitting may be taken (sittings from before windows: created to expiry)."""
    opens = sitting["opens_ms"] if sitting["opens_ms"] is not None else sitting["created_ms"]
    closes = sitting["closes_ms"] if sitting["closes_ms"] is not None else sitting["expires_ms"]
    return int(opens), int(closes)


def assessment_of(connection: Connection, sitting: RowMapping | dict[str, Any]) -> RowMapping:
    return connection.execute(_ASSESSMENT, {"id": sitting["assessment_id"]}).mappings().one()


_ASSESSMENT = select(db.assessments).where(db.assessments.c.id == bindparam("id"))


def sitting_ms(assessment: RowMapping, sitting: RowMapping | dict[str, Any]) -> int:
    """The time the candidate has: the assessment's duration and their extra time."""
    return (int(assessment["duration_s"]) + int(sitting["extra_time_s"] or 0)) * 1000


def summarise(connection: Connection, sitting: RowMapping | dict[str, Any]) -> dict[str, Any]:
    assessment = assessment_of(connection, sitting)
    employer = connection.execute(
        select(db.employers.c.name).where(db.employers.c.id == assessment["employer_id"])
    ).scalar_one_or_none()
    opens, closes = window(sitting)
    return SittingSummary(
        id=sitting["id"],
        assessment=assessment["title"],
        employer=employer or "",
        duration_s=assessment["duration_s"],
        extra_time_s=sitting["extra_time_s"] or 0,
        candidate=sitting["candidate_name"],
        offline=bool(sitting["offline"]),
        state=sitting["state"],
        opens_ms=opens,
        closes_ms=closes,
        expires_ms=sitting["expires_ms"],
    ).to_json()


def own_sitting(connection: Connection, device_id: str, sitting_id: str) -> RowMapping:
    """The sitting if it belongs to ``device_id``; otherwise 404, never saying whose it is."""
    found = connection.execute(_OWN_SITTING, {"id": sitting_id, "device": device_id})
    sitting = found.mappings().first()
    if sitting is None:
        raise not_found("sitting")
    return sitting


_OWN_SITTING = select(db.sittings).where(
    db.sittings.c.id == bindparam("id"), db.sittings.c.device_id == bindparam("device")
)


def refuse_revoked(sitting: RowMapping | dict[str, Any]) -> None:
    if sitting["revoked_ms"] is not None:
        raise ApiError(
            409,
            "revoked",
            "The organisation withdrew this invitation: ask them if you think it is a mistake.",
        )


def list_sittings(ctx: Context, device_id: str) -> list[dict[str, Any]]:
    with ctx.reader.connect() as connection:
        rows = connection.execute(
            select(db.sittings)
            .where(db.sittings.c.device_id == device_id)
            .order_by(db.sittings.c.created_ms)
        ).mappings()
        return [summarise(connection, row) for row in rows]


def proctor_code(ctx: Context, sitting_id: str, challenge: str) -> str:
    """The response that unlocks a locked sitting showing ``challenge`` (the proctor's tool)."""
    with ctx.reader.connect() as connection:
        secret = connection.execute(
            select(db.sittings.c.proctor_secret).where(db.sittings.c.id == sitting_id)
        ).scalar()
    if secret is None:
        raise not_found("sitting")
    if crypto.normalise_unlock_code(challenge) not in {
        crypto.normalise_unlock_code(c)
        for c in crypto.proctor_challenges(crypto.b64decode(secret), sitting_id)
    }:
        raise ApiError(
            400,
            "unknown_challenge",
            "That challenge does not belong to this sitting: check both on the lock screen.",
        )
    return crypto.proctor_response(crypto.b64decode(secret), sitting_id, challenge)
