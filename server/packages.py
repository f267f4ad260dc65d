"""Sealed packages and the release of unlock codes.

A claimed sitting is prepared into a sealed package for its device: a form assembled to the
blueprint, the items without keys or parameters, and commitments that let the client *check* a
proctor's unlock response (never compute one). An online sitting is started by the server, which
releases the unlock code only inside the sitting's window and records that moment: the server's
clock, not the client's, decides when an online sitting's time is up.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, RowMapping, select
from sqlalchemy.dialects import postgresql, sqlite

from server import db, jobs, timing, webhooks
from server.assembly import BankTooSmall, Blueprint, assemble, package_items
from server.bank.store import cached_items, exposed_from
from server.context import Context
from server.errors import ApiError
from server.invitations import (
    DAY_MS,
    assessment_of,
    new_id,
    own_sitting,
    refuse_revoked,
    sitting_ms,
    utc,
    window,
)
from shared import canonical, crypto
from shared.errors import MalformedData
from shared.policy import Policy
from shared.wire import PackageHeader

# An online sitting's code is released again after a restart until its time is up plus this.
RESTART_GRACE_MS = 60_000


def prepare(ctx: Context, device_id: str, sitting_id: str, raw: bytes) -> dict[str, Any]:
    """The sealed, signed package for this sitting; the same one on every call.

    The request carries the public half of the sitting's event chain, which the server keeps:
    from then on the sitting's log must be that chain, online or offline. The form is assembled
    and sealed with no lock held (the key derivations take a while); one short transaction then
    stores it, unless a concurrent request stored one first."""
    now = ctx.now_ms()
    with ctx.reader.connect() as connection:
        sitting = own_sitting(connection, device_id, sitting_id)
        chain_public = _chain_public(raw)
        if sitting["package"] is not None:
            _same_chain(sitting, chain_public)
            return dict(canonical.loads(sitting["package"]))
        refuse_revoked(sitting)
        if sitting["state"] != "enrolled":
            raise ApiError(409, "wrong_state", "This sitting can no longer be prepared.")
        assessment = assessment_of(connection, sitting)
        device = (
            connection.execute(select(db.devices).where(db.devices.c.id == device_id))
            .mappings()
            .one()
        )
        organisation = connection.execute(
            select(db.organisations.c.name).where(
                db.organisations.c.id == assessment["employer_id"]
            )
        ).scalar_one()
        blueprint = Blueprint.from_json(canonical.loads(assessment["blueprint"]))
        earlier = _earlier_ability(connection, sitting)
        if earlier is not None:  # a retake: aim the form at what the last attempt showed
            blueprint = replace(blueprint, target_theta=max(-2.0, min(2.0, earlier)))
        exposure = exposure_counts(connection, assessment["id"])
        everything = cached_items(ctx, connection)
        try:
            form = assemble(
                exposed_from(everything),
                blueprint,
                ctx.rng,
                exposure,
                assessment["forms_issued"],
                seen(connection, sitting),
                timing.load(connection) if blueprint.fill_seconds else None,
            )
        except BankTooSmall as error:
            raise ApiError(503, "bank_too_small", str(error)) from None
        bank = {entry["item"]: everything[entry["item"]] for entry in form}
        package_id = new_id(ctx)
        opens, closes = window(sitting)
        header = PackageHeader(
            package_id=package_id,
            sitting_id=sitting_id,
            device_id=device_id,
            candidate=sitting["candidate_name"],
            assessment=assessment["title"],
            duration_s=assessment["duration_s"],
            extra_time_s=sitting["extra_time_s"] or 0,
            item_count=len(form),
            offline=bool(sitting["offline"]),
            policy=Policy.from_json(canonical.loads(assessment["policy"])).to_json(),
            issued_ms=now,
            opens_ms=opens,
            closes_ms=closes,
            expires_ms=sitting["expires_ms"],
            server_kex_public=crypto.b64encode(ctx.kex_public),
            hand_in_by_ms=closes + int(assessment["sync_deadline_days"]) * DAY_MS,
            organisation=organisation,
            organisation_id=assessment["employer_id"],
            ask_consent=sitting["kind"] == "employer",
            adaptive=blueprint.adaptive and not sitting["offline"],
        ).to_json()
        secrets = _prepared(ctx, sitting)
        plaintext = canonical.dumps(
            {"items": package_items(form, bank), "unlock": secrets["unlock"]}
        )
        sealed = crypto.seal(
            plaintext,
            header=header,
            recipient_public=crypto.b64decode(device["kex_public"]),
            unlock_code=sitting["unlock_code"],
            scrypt_n=secrets["scrypt_n"],
            prepared=(crypto.b64decode(secrets["salt"]), crypto.b64decode(secrets["code_key"])),
        )
    package = crypto.sign_document(sealed, ctx.signing_key)
    with ctx.engine.begin() as connection:
        if sitting["kind"] == "self":  # the download reserves one of the address's attempts
            from server.registration import limit_reached, next_attempt_ms

            when = next_attempt_ms(connection, sitting["candidate_email"], now)
            if when is not None:
                raise limit_reached(when)
        stored = connection.execute(
            db.sittings.update()
            .where(db.sittings.c.id == sitting_id, db.sittings.c.package.is_(None))
            .values(
                form=canonical.dumps(form).decode(),
                package=canonical.dumps(package).decode(),
                package_id=package_id,
                state="prepared",
                prepared_ms=now,
                prepared_secrets=None,  # served: the code key is not kept longer than needed
                chain_public=chain_public,
            )
        )
        if stored.rowcount == 0:  # a concurrent request prepared it first: serve that one
            raced = own_sitting(connection, device_id, sitting_id)
            _same_chain(raced, chain_public)
            return dict(canonical.loads(raced["package"]))
        count_exposure(connection, assessment["id"], [entry["item"] for entry in form])
    return package


def _derive_secrets(ctx: Context, sitting: RowMapping) -> dict[str, Any]:
    """The slow part of a package: the unlock commitments (eight scrypt derivations) and the
    code key (one more). Depends on the sitting alone, never on the device."""
    salt = ctx.rng.randbytes(16)
    return {
        "unlock": crypto.unlock_commitments(
            crypto.b64decode(sitting["proctor_secret"]), sitting["id"], random=ctx.rng.randbytes
        ),
        "salt": crypto.b64encode(salt),
        "scrypt_n": crypto.SCRYPT_N,
        "code_key": crypto.b64encode(crypto.code_key(sitting["unlock_code"], salt)),
    }


def _prepared(ctx: Context, sitting: RowMapping) -> dict[str, Any]:
    """The sitting's secrets as the ``prepare`` job left them, or derived now if it has not
    run yet (a download never waits for the queue)."""
    if sitting["prepared_secrets"]:
        return dict(canonical.loads(sitting["prepared_secrets"]))
    return _derive_secrets(ctx, sitting)


@jobs.task("prepare")
def prepare_ahead(ctx: Context, sitting_id: str) -> None:
    """Derive a sitting's package secrets ahead of its download, once."""
    with ctx.reader.connect() as connection:
        sitting = (
            connection.execute(select(db.sittings).where(db.sittings.c.id == sitting_id))
            .mappings()
            .first()
        )
    if sitting is None or sitting["prepared_secrets"] or sitting["package"] is not None:
        return
    secrets = canonical.to_text(_derive_secrets(ctx, sitting))
    with ctx.engine.begin() as connection:
        connection.execute(
            db.sittings.update()
            .where(db.sittings.c.id == sitting_id, db.sittings.c.prepared_secrets.is_(None))
            .values(prepared_secrets=secrets)
        )


def exposure_counts(connection: Connection, assessment_id: str) -> dict[str, int]:
    rows = connection.execute(
        select(db.item_exposure.c.item_id, db.item_exposure.c.forms).where(
            db.item_exposure.c.assessment_id == assessment_id
        )
    )
    return {row.item_id: row.forms for row in rows}


def seen(connection: Connection, sitting: RowMapping) -> frozenset[str]:
    """Items this candidate (same email) was shown in earlier sittings, on forms or served one
    at a time, never to be shown again."""
    if not sitting["candidate_email"]:
        return frozenset()
    earlier = select(db.sittings.c.id).where(
        db.sittings.c.candidate_email == sitting["candidate_email"],
        db.sittings.c.id != sitting["id"],
    )
    forms = connection.execute(
        select(db.sittings.c.form).where(
            db.sittings.c.id.in_(earlier), db.sittings.c.form.is_not(None)
        )
    ).scalars()
    served = connection.execute(
        select(db.adaptive_steps.c.item_id).where(
            db.adaptive_steps.c.sitting_id.in_(earlier), db.adaptive_steps.c.item_id.is_not(None)
        )
    ).scalars()
    return frozenset(
        [entry["item"] for form in forms for entry in canonical.loads(form)] + list(served)
    )


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


def count_exposure(
    connection: Connection, assessment_id: str, item_ids: list[str], new_form: bool = True
) -> None:
    """One more time shown for each item (and, for a new form, one more form for the
    assessment): atomic increments, safe when several workers count the same items at once.
    An adaptive sitting's served items count without a new form (its package counted it)."""
    if new_form:
        connection.execute(
            db.assessments.update()
            .where(db.assessments.c.id == assessment_id)
            .values(forms_issued=db.assessments.c.forms_issued + 1)
        )
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(  # one statement, every item of the form
        dialect.insert(db.item_exposure).on_conflict_do_update(
            index_elements=["assessment_id", "item_id"],
            set_={"forms": db.item_exposure.c.forms + 1},
        ),
        [{"assessment_id": assessment_id, "item_id": item_id, "forms": 1} for item_id in item_ids],
    )


def _same_chain(sitting: RowMapping, chain_public: str) -> None:
    if sitting["chain_public"] not in (None, chain_public):
        raise ApiError(
            409,
            "downloaded_elsewhere",
            "This exam was downloaded with other data than this computer now holds (perhaps "
            "on another installation), so it cannot be taken here. Contact the organisation "
            "that invited you for a new invitation.",
        )


def _chain_public(raw: bytes) -> str:
    body = canonical.loads(raw) if raw else None
    if not isinstance(body, dict) or set(body) != {"chain_public"}:
        raise MalformedData("The request needs the sitting's event chain public key.")
    chain = crypto.b64decode(body["chain_public"], "event chain key")
    if len(chain) != 32:
        raise MalformedData("The event chain's public key must be 32 bytes.")
    return crypto.b64encode(chain)


def start(ctx: Context, device_id: str, sitting_id: str, raw: bytes) -> dict[str, Any]:
    """Release the unlock code of an online sitting when the candidate presses Start, inside the
    sitting's window; the first release starts the server's clock and commits the sitting's
    event chain. After a restart the code is released again until the time is up."""
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        sitting = own_sitting(connection, device_id, sitting_id)
        chain_public = _chain_public(raw)
        if sitting["offline"]:
            raise ApiError(
                403,
                "proctor_code_needed",
                "This is a supervised sitting: your proctor gives you the unlock code.",
            )
        if sitting["state"] == "scored":
            raise ApiError(409, "already_submitted", "This sitting has already been submitted.")
        if sitting["state"] not in ("prepared", "started"):
            raise ApiError(409, "wrong_state", "Download this exam before you start it.")
        assessment = assessment_of(connection, sitting)
        allowed_ms = sitting_ms(assessment, sitting)
        if sitting["started_ms"] is None:
            refuse_revoked(sitting)
            opens, closes = window(sitting)
            if now < opens:
                raise ApiError(
                    409, "not_open", f"This exam can be started from {utc(opens)}, not before."
                )
            if now > closes:
                raise ApiError(
                    409,
                    "closed",
                    f"The time to start this exam ended on {utc(closes)}. Ask the organisation "
                    "that invited you for a new invitation.",
                )
            _same_chain(sitting, chain_public)
            connection.execute(
                db.sittings.update()
                .where(db.sittings.c.id == sitting_id, db.sittings.c.started_ms.is_(None))
                .values(state="started", started_ms=now, chain_public=chain_public)
            )
            started = now
            webhooks.emit(
                ctx, connection, assessment["employer_id"], "sitting.started",
                {"sitting_id": sitting_id, "assessment_id": assessment["id"],
                 "started_ms": now, "ends_ms": now + allowed_ms},
            )  # fmt: skip
        else:
            started = int(sitting["started_ms"])
            _same_chain(sitting, chain_public)
            if now > started + allowed_ms + RESTART_GRACE_MS:
                raise ApiError(
                    409,
                    "time_over",
                    "The time for this exam is over. If you finished it, send your answers from "
                    "the home page.",
                )
    return {
        "unlock_code": sitting["unlock_code"],
        "started_ms": started,
        "ends_ms": started + allowed_ms,
    }


def checkpoint(ctx: Context, device_id: str, sitting_id: str, raw: bytes) -> dict[str, Any]:
    """Note how far the sitting's log has come (its sequence number and that event's hash), as
    the client reports while it can reach the server. The furthest point is kept; a report of
    an earlier point afterwards means an older copy of the log was restored (rollback), and the
    submission must contain the point the server saw."""
    body = canonical.loads(raw) if raw else None
    if (
        not isinstance(body, dict)
        or set(body) - {"final", "locked"} != {"seq", "hash"}
        or not isinstance(body.get("final", False), bool)
        or not isinstance(body.get("locked", False), bool)
        or type(body["seq"]) is not int
        or not 0 <= body["seq"] <= 1_000_000
        or not isinstance(body["hash"], str)
        or len(body["hash"]) != 64
    ):
        raise MalformedData("A checkpoint is the log's sequence number and that event's hash.")
    with ctx.engine.begin() as connection:
        sitting = own_sitting(connection, device_id, sitting_id)
        if sitting["state"] not in ("prepared", "started"):
            raise ApiError(409, "wrong_state", "This sitting is not in progress.")
        seen = sitting["checkpoint_seq"]
        if "locked" in body and body["locked"] != (sitting["locked_ms"] is not None):
            connection.execute(  # what the proctor's room shows; the log stays the evidence
                db.sittings.update()
                .where(db.sittings.c.id == sitting_id)
                .values(locked_ms=ctx.now_ms() if body["locked"] else None)
            )
        if seen is not None and (
            body["seq"] < seen
            or (body["seq"] == seen and body["hash"] != sitting["checkpoint_hash"])
        ):
            connection.execute(
                db.sittings.update().where(db.sittings.c.id == sitting_id).values(rolled_back=True)
            )
            return {"seq": seen}
        if seen is None or body["seq"] > seen:
            values: dict[str, Any] = {
                "checkpoint_seq": body["seq"],
                "checkpoint_hash": body["hash"],
            }
            if body.get("final") and sitting["sealed_seen_ms"] is None:
                values["sealed_seen_ms"] = ctx.now_ms()  # the end reached the server then
            connection.execute(
                db.sittings.update().where(db.sittings.c.id == sitting_id).values(**values)
            )
    return {"seq": max(body["seq"], seen if seen is not None else -1)}
