"""Invitations, enrolment, sealed packages and the release of unlock codes.

A sitting is created as an invitation (only the hash of its code is stored), claimed by one
device at enrolment, prepared into a sealed package for that device, and started.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from server import db
from server.assembly import Blueprint, assemble, package_items
from server.bank.store import exposed_items, items_by_id
from server.context import Context
from server.errors import ApiError, not_found
from shared import canonical, crypto
from shared.policy import Policy
from shared.protocol import PACKAGE_FORMAT

INVITATION_DAYS = 30
_DAY_MS = 86_400_000


def invitation_hash(code: str) -> str:
    return hashlib.sha256(crypto.normalise_unlock_code(code).encode()).hexdigest()


def _new_id(ctx: Context) -> str:
    return f"{ctx.rng.getrandbits(64):016x}"


def create_invitation(
    ctx: Context,
    assessment_slug: str,
    candidate_name: str,
    offline: bool,
    candidate_email: str | None = None,
) -> dict[str, Any]:
    """A new sitting of ``assessment_slug``; the invitation code is returned once, never stored."""
    code = crypto.new_unlock_code(ctx.rng.randrange, groups=4)
    unlock_code = crypto.new_unlock_code(ctx.rng.randrange)
    now = ctx.now_ms()
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
        sitting_id = _new_id(ctx)
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
                expires_ms=now + INVITATION_DAYS * _DAY_MS,
            )
        )
    invitation: dict[str, Any] = {
        "invitation": code,
        "sitting_id": sitting_id,
        "assessment": assessment["title"],
        "candidate": candidate_name,
        "offline": offline,
        "expires_ms": now + INVITATION_DAYS * _DAY_MS,
    }
    if offline:
        invitation["unlock_code"] = unlock_code
    return invitation


def _public_key(value: object, what: str) -> str:
    raw = crypto.b64decode(value, what)
    if len(raw) != 32:
        raise ApiError(400, "malformed", f"The {what} must be 32 bytes.")
    return crypto.b64encode(raw)


def enrol(ctx: Context, body: object) -> dict[str, Any]:
    """Claim an invitation for a device, registering the device's public keys if new."""
    if not isinstance(body, dict) or not isinstance(body.get("invitation"), str):
        raise ApiError(400, "malformed", "Enrolment needs an invitation code and public keys.")
    sign_public = _public_key(body.get("sign_public"), "signing key")
    kex_public = _public_key(body.get("kex_public"), "key-exchange key")
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
        if sitting is None or sitting["expires_ms"] < now:
            raise ApiError(
                404, "unknown_invitation", "This invitation code is not valid or has expired."
            )
        device = (
            connection.execute(select(db.devices).where(db.devices.c.sign_public == sign_public))
            .mappings()
            .first()
        )
        if device is None:
            device_id = _new_id(ctx)
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
        summary = _summary(connection, dict(sitting, device_id=device_id))
    return {
        "device_id": device_id,
        "sitting": summary,
        "server": {
            "public_key": crypto.b64encode(ctx.public_key),
            "fingerprint": crypto.fingerprint(ctx.public_key),
        },
    }


def _summary(connection: Connection, sitting: RowMapping | dict[str, Any]) -> dict[str, Any]:
    assessment = (
        connection.execute(
            select(db.assessments).where(db.assessments.c.id == sitting["assessment_id"])
        )
        .mappings()
        .one()
    )
    return {
        "id": sitting["id"],
        "assessment": assessment["title"],
        "duration_s": assessment["duration_s"],
        "candidate": sitting["candidate_name"],
        "offline": sitting["offline"],
        "state": sitting["state"],
        "expires_ms": sitting["expires_ms"],
    }


def own_sitting(connection: Connection, device_id: str, sitting_id: str) -> RowMapping:
    """The sitting if it belongs to ``device_id``; otherwise 404, never saying whose it is."""
    sitting = (
        connection.execute(
            select(db.sittings).where(
                db.sittings.c.id == sitting_id, db.sittings.c.device_id == device_id
            )
        )
        .mappings()
        .first()
    )
    if sitting is None:
        raise not_found("sitting")
    return sitting


def list_sittings(ctx: Context, device_id: str) -> list[dict[str, Any]]:
    with ctx.engine.connect() as connection:
        rows = connection.execute(
            select(db.sittings)
            .where(db.sittings.c.device_id == device_id)
            .order_by(db.sittings.c.created_ms)
        ).mappings()
        return [_summary(connection, row) for row in rows]


def prepare(ctx: Context, device_id: str, sitting_id: str) -> dict[str, Any]:
    """The sealed, signed package for this sitting; the same one on every call."""
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        sitting = own_sitting(connection, device_id, sitting_id)
        if sitting["package"] is not None:
            return dict(canonical.loads(sitting["package"]))
        if sitting["state"] != "enrolled":
            raise ApiError(409, "wrong_state", "This sitting can no longer be prepared.")
        assessment = (
            connection.execute(
                select(db.assessments).where(db.assessments.c.id == sitting["assessment_id"])
            )
            .mappings()
            .one()
        )
        device = (
            connection.execute(select(db.devices).where(db.devices.c.id == device_id))
            .mappings()
            .one()
        )
        blueprint = Blueprint.from_json(canonical.loads(assessment["blueprint"]))
        earlier = _earlier_ability(connection, sitting)
        if earlier is not None:  # a retake: aim the form at what the last attempt showed
            blueprint = replace(blueprint, target_theta=max(-2.0, min(2.0, earlier)))
        exposure = _exposure(connection, assessment["id"])
        form = assemble(
            exposed_items(connection),
            blueprint,
            ctx.rng,
            exposure,
            assessment["forms_issued"],
            _seen(connection, sitting),
        )
        bank = items_by_id(connection, [entry["item"] for entry in form])
        package_id = _new_id(ctx)
        header = {
            "format": PACKAGE_FORMAT,
            "package_id": package_id,
            "sitting_id": sitting_id,
            "device_id": device_id,
            "candidate": sitting["candidate_name"],
            "assessment": assessment["title"],
            "duration_s": assessment["duration_s"],
            "item_count": len(form),
            "offline": sitting["offline"],
            "policy": Policy.from_json(canonical.loads(assessment["policy"])).to_json(),
            "issued_ms": now,
            "expires_ms": sitting["expires_ms"],
        }
        plaintext = canonical.dumps(
            {"items": package_items(form, bank), "proctor_secret": sitting["proctor_secret"]}
        )
        sealed = crypto.seal(
            plaintext,
            header=header,
            recipient_public=crypto.b64decode(device["kex_public"]),
            unlock_code=sitting["unlock_code"],
        )
        package = crypto.sign_document(sealed, ctx.signing_key)
        stored = connection.execute(
            db.sittings.update()
            .where(db.sittings.c.id == sitting_id, db.sittings.c.package.is_(None))
            .values(
                form=canonical.dumps(form).decode(),
                package=canonical.dumps(package).decode(),
                package_id=package_id,
                state="prepared",
                prepared_ms=now,
            )
        )
        if stored.rowcount == 0:  # a concurrent request prepared it first: serve that one
            raced = own_sitting(connection, device_id, sitting_id)
            return dict(canonical.loads(raced["package"]))
        _count_exposure(connection, assessment["id"], [entry["item"] for entry in form])
    return package


def _exposure(connection: Connection, assessment_id: str) -> dict[str, int]:
    rows = connection.execute(
        select(db.item_exposure.c.item_id, db.item_exposure.c.forms).where(
            db.item_exposure.c.assessment_id == assessment_id
        )
    )
    return {row.item_id: row.forms for row in rows}


def _seen(connection: Connection, sitting: RowMapping) -> frozenset[str]:
    """Items on this candidate's earlier forms (same email), never to be shown again."""
    if not sitting["candidate_email"]:
        return frozenset()
    forms = connection.execute(
        select(db.sittings.c.form).where(
            db.sittings.c.candidate_email == sitting["candidate_email"],
            db.sittings.c.id != sitting["id"],
            db.sittings.c.form.is_not(None),
        )
    ).scalars()
    return frozenset(entry["item"] for form in forms for entry in canonical.loads(form))


def _earlier_ability(connection: Connection, sitting: RowMapping) -> float | None:
    """The overall ability this candidate (same email) showed in their latest scored attempt."""
    if not sitting["candidate_email"]:
        return None
    theta = connection.execute(
        select(db.results.c.overall_theta)
        .join(db.sittings, db.sittings.c.id == db.results.c.sitting_id)
        .where(
            db.sittings.c.candidate_email == sitting["candidate_email"],
            db.sittings.c.assessment_id == sitting["assessment_id"],
        )
        .order_by(db.results.c.created_ms.desc())
        .limit(1)
    ).scalar()
    return float(theta) if theta is not None else None


def _count_exposure(connection: Connection, assessment_id: str, item_ids: list[str]) -> None:
    """One more form for the assessment and for each item on it (atomic increments)."""
    connection.execute(
        db.assessments.update()
        .where(db.assessments.c.id == assessment_id)
        .values(forms_issued=db.assessments.c.forms_issued + 1)
    )
    known = set(_exposure(connection, assessment_id))
    for item_id in item_ids:
        if item_id in known:
            connection.execute(
                db.item_exposure.update()
                .where(
                    db.item_exposure.c.assessment_id == assessment_id,
                    db.item_exposure.c.item_id == item_id,
                )
                .values(forms=db.item_exposure.c.forms + 1)
            )
        else:
            connection.execute(
                db.item_exposure.insert().values(
                    assessment_id=assessment_id, item_id=item_id, forms=1
                )
            )


def proctor_code(ctx: Context, sitting_id: str, challenge: str) -> str:
    """The response that unlocks a locked sitting showing ``challenge`` (the proctor's tool)."""
    with ctx.engine.connect() as connection:
        secret = connection.execute(
            select(db.sittings.c.proctor_secret).where(db.sittings.c.id == sitting_id)
        ).scalar()
    if secret is None:
        raise not_found("sitting")
    return crypto.proctor_response(crypto.b64decode(secret), sitting_id, challenge)


def start(ctx: Context, device_id: str, sitting_id: str) -> dict[str, Any]:
    """Release the unlock code of an online sitting when the candidate presses Start."""
    with ctx.engine.begin() as connection:
        sitting = own_sitting(connection, device_id, sitting_id)
        if sitting["offline"]:
            raise ApiError(
                403,
                "proctor_code_needed",
                "This is a supervised sitting: your proctor gives you the unlock code.",
            )
        if sitting["state"] not in ("prepared", "started"):
            raise ApiError(409, "wrong_state", "This sitting cannot be started now.")
        if sitting["started_ms"] is None:
            connection.execute(
                db.sittings.update()
                .where(db.sittings.c.id == sitting_id)
                .values(state="started", started_ms=ctx.now_ms())
            )
    return {"unlock_code": sitting["unlock_code"]}
