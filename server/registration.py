"""Self-registration: anyone may take an assessment that allows it, once they have proved an
e-mail address with a code sent to it; at most ``ATTEMPTS`` attempts in any ``WINDOW_DAYS``-day
window per verified address. Downloading the package reserves the attempt (as for every
sitting); employer-administered sittings are exempt and never count.

Only one self-registered sitting per address waits undownloaded at a time (a new one revokes
the last), so two downloads can never both take the last attempt."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from server import db, limits, mail
from server.accounts import check_name, digest, normalise_email
from server.context import Context
from server.errors import ApiError, not_found
from server.invitations import DAY_MS, new_id, new_sitting

ATTEMPTS = 3
WINDOW_DAYS = 90
CODE_MINUTES = 30
CODE_TRIES = 5


def _open_assessment(connection: Connection, slug: str) -> RowMapping:
    row = (
        connection.execute(
            select(db.assessments).where(
                db.assessments.c.slug == slug,
                db.assessments.c.self_registration.is_(True),
                db.assessments.c.status == "published",
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("assessment open to self-registration")
    return row


def next_attempt_ms(connection: Connection, email: str, now_ms: int) -> int | None:
    """When ``email`` may next reserve an attempt, or None if it may now: the third most recent
    reservation within the window, plus the window."""
    since = now_ms - WINDOW_DAYS * DAY_MS
    reserved = [
        int(row.prepared_ms)
        for row in connection.execute(
            select(db.sittings.c.prepared_ms)
            .where(
                db.sittings.c.candidate_email == email,
                db.sittings.c.kind == "self",
                db.sittings.c.prepared_ms.is_not(None),
                db.sittings.c.prepared_ms > since,
            )
            .order_by(db.sittings.c.prepared_ms.desc())
        )
    ]
    if len(reserved) < ATTEMPTS:
        return None
    return reserved[ATTEMPTS - 1] + WINDOW_DAYS * DAY_MS


def _date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%d %B %Y at %H:%M UTC")


def limit_reached(when_ms: int) -> ApiError:
    return ApiError(
        409,
        "attempt_limit",
        f"You have taken this test {ATTEMPTS} times in the last {WINDOW_DAYS} days, the most "
        f"allowed. You can take it again from {_date(when_ms)}.",
        details={"next_attempt_ms": when_ms},
    )


def send_code(ctx: Context, slug: str, body: object, address: str) -> None:
    """E-mail a code that proves the address (valid 30 minutes)."""
    limits.hit(ctx, "register", address)
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "Give your name and e-mail address.")
    name = check_name(body.get("name"))
    email = normalise_email(body.get("email"))
    limits.hit(ctx, "password_code", email)  # e-mails to one address, whatever asks for them
    now = ctx.now_ms()
    code = f"{secrets.randbelow(10**8):08d}"
    with ctx.engine.begin() as connection:
        assessment = _open_assessment(connection, slug)
        connection.execute(
            db.email_verifications.insert().values(
                id=new_id(ctx),
                assessment_id=assessment["id"],
                email=email,
                name=name,
                code_sha256=digest(code),
                created_ms=now,
                expires_ms=now + CODE_MINUTES * 60_000,
            )
        )
        mail.queue(
            ctx, connection, "verification", email,
            f"Your code for the {assessment['title']}",
            f"Dear {name},\n\nYour code to confirm this e-mail address for the "
            f"{assessment['title']} is:\n\n    {code[:4]} {code[4:]}\n\nIt is valid for "
            f"{CODE_MINUTES} minutes. If you did not ask for it, ignore this message.\n",
            assessment["employer_id"],
        )  # fmt: skip


def confirm(ctx: Context, slug: str, body: object, address: str) -> dict[str, Any]:
    """With the right code: a new sitting of the assessment and its invitation code, unless the
    address has used its attempts (409 with the date the next is possible)."""
    limits.refuse_if_over(ctx, "register_failed", address)
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        raise ApiError(400, "malformed", "Give your e-mail address and the code sent to it.")
    email = normalise_email(body.get("email"))
    code = "".join(body["code"].split())
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        assessment = _open_assessment(connection, slug)
        pending = (
            connection.execute(
                select(db.email_verifications)
                .where(
                    db.email_verifications.c.email == email,
                    db.email_verifications.c.assessment_id == assessment["id"],
                    db.email_verifications.c.used_ms.is_(None),
                    db.email_verifications.c.expires_ms >= now,
                    db.email_verifications.c.tries < CODE_TRIES,
                )
                .order_by(db.email_verifications.c.created_ms.desc())
            )
            .mappings()
            .first()
        )
        matched = pending is not None and hmac.compare_digest(pending["code_sha256"], digest(code))
        if pending is not None and not matched:
            connection.execute(
                db.email_verifications.update()
                .where(db.email_verifications.c.id == pending["id"])
                .values(tries=pending["tries"] + 1)
            )
    if pending is None or not matched:
        limits.hit(ctx, "register_failed", address)
        raise ApiError(
            400,
            "bad_code",
            "That code is wrong or has expired: check the latest e-mail, or ask for a new code.",
        )
    with ctx.engine.begin() as connection:
        when = next_attempt_ms(connection, email, now)
        if when is not None:
            raise limit_reached(when)
        connection.execute(
            db.email_verifications.update()
            .where(db.email_verifications.c.id == pending["id"])
            .values(used_ms=now)
        )
        # One waiting self-registered sitting per address: the last one stops working.
        connection.execute(
            db.sittings.update()
            .where(
                db.sittings.c.candidate_email == email,
                db.sittings.c.kind == "self",
                db.sittings.c.package.is_(None),
                db.sittings.c.revoked_ms.is_(None),
            )
            .values(revoked_ms=now)
        )
        invitation = new_sitting(
            ctx, connection, assessment, pending["name"], False, email, kind="self",
            invited_by=f"self:{email}"[:80],
        )  # fmt: skip
    invitation.pop("unlock_code", None)
    return invitation
