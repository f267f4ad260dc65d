"""An organisation's invitations: one at a time or a whole CSV roster, e-mailed to each
candidate, listed with where each sitting stands, resent (with a new code) and revoked; and
what a proctor needs for a room: unlock codes, proctor responses and extra time.

A roster is checked row by row before anything is written; any bad row refuses the whole file
with every error named by its line, so nothing is half-imported. The e-mail holds the
invitation code and the server's address, never an unlock code.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from server import audit, db, mail
from server.accounts import Principal, check_name, normalise_email
from server.context import Context
from server.errors import ApiError, not_found
from server.invitations import (
    MAX_EXTRA_TIME_S,
    check_window,
    new_sitting,
    proctor_code,
    rotate_code,
    utc,
)

MAX_ROWS = 5_000
COLUMNS = {
    "name": ("name", "candidate", "candidate name", "full name"),
    "email": ("email", "e-mail", "email address", "e-mail address"),
    "extra_time": ("extra time", "extra_time", "extra time (minutes)", "extra minutes"),
    "mode": ("mode", "sitting", "online/supervised"),
    "opens": ("opens", "window opens", "from", "start"),
    "closes": ("closes", "window closes", "until", "end"),
}
MODES = ("online", "supervised")


def parse_moment(text: str) -> int:
    """An ISO 8601 date or time (UTC unless it says otherwise) as ms since the epoch."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date and time like 2027-03-01T09:00 or 2027-03-01T09:00+01:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _assessment(connection: Connection, organisation_id: str, assessment_id: object) -> RowMapping:
    row = (
        connection.execute(
            select(db.assessments).where(
                db.assessments.c.id == str(assessment_id),
                db.assessments.c.employer_id == organisation_id,
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("assessment")
    return row


def _organisation_name(connection: Connection, organisation_id: str) -> str:
    return str(
        connection.execute(
            select(db.organisations.c.name).where(db.organisations.c.id == organisation_id)
        ).scalar_one()
    )


def _email_invitation(
    ctx: Context,
    connection: Connection,
    organisation_id: str,
    assessment: RowMapping,
    email: str,
    invitation: dict[str, Any],
) -> None:
    organisation = _organisation_name(connection, organisation_id)
    minutes = (int(assessment["duration_s"]) + invitation["extra_time_s"]) // 60
    where = (
        "This is a supervised sitting: at the test centre, your proctor reads out the code that "
        "starts the test."
        if invitation["offline"]
        else "You can take it wherever you are, on a computer you may lock for the test."
    )
    body = (
        f"Dear {invitation['candidate']},\n\n"
        f"{organisation} invites you to take the {assessment['title']} ({minutes} minutes).\n"
        f"You may start it from {utc(invitation['opens_ms'])} until "
        f"{utc(invitation['closes_ms'])}.\n{where}\n\n"
        "1. Install the examgate client.\n"
        "2. Choose 'Enrol' and enter:\n"
        f"     Server address:   {ctx.settings.public_url}\n"
        f"     Invitation code:  {invitation['invitation']}\n"
        "3. Try the practice questions, then start when you are ready.\n\n"
        "Keep this code to yourself; it works on one computer only.\n"
    )
    mail.queue(
        ctx,
        connection,
        "invitation",
        email,
        f"Your invitation: {assessment['title']} ({organisation})",
        body,
        organisation_id,
    )


def _clean_row(
    ctx: Context, assessment: RowMapping, row: dict[str, Any], defaults_supervised: bool
) -> dict[str, Any]:
    """One invitation's fields checked; raises ValueError with a sentence naming the field."""
    try:
        name = check_name(row.get("name"))
    except ApiError:
        raise ValueError("the name is missing or longer than 200 characters") from None
    email = row.get("email") or None
    if email is not None:
        try:
            email = normalise_email(email)
        except ApiError:
            raise ValueError(f"{email!r} is not an e-mail address") from None
    extra = row.get("extra_time") or 0
    if isinstance(extra, str):
        if not extra.strip().isdigit():
            raise ValueError(f"extra time {extra!r} is not a whole number of minutes")
        extra = int(extra.strip())
    if type(extra) is not int or not 0 <= extra * 60 <= MAX_EXTRA_TIME_S:
        raise ValueError("extra time must be 0 to 240 minutes")
    mode = (row.get("mode") or ("supervised" if defaults_supervised else "online")).strip().lower()
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not 'online' or 'supervised'")
    moments = {}
    for field in ("opens", "closes"):
        value = row.get(field)
        if isinstance(value, str) and value.strip():
            moments[field] = parse_moment(value)
        elif type(value) is int:
            moments[field] = value
        elif value not in (None, ""):
            raise ValueError(f"{field} is not a date and time")
    try:
        check_window(ctx, moments.get("opens"), moments.get("closes"), extra * 60)
    except ApiError as error:
        raise ValueError(error.message[0].lower() + error.message[1:].rstrip(".")) from None
    return {
        "name": name,
        "email": email,
        "extra_time_s": extra * 60,
        "offline": mode == "supervised",
        "opens_ms": moments.get("opens"),
        "closes_ms": moments.get("closes"),
    }


def _insert(
    ctx: Context,
    connection: Connection,
    principal: Principal,
    organisation_id: str,
    assessment: RowMapping,
    clean: dict[str, Any],
    send: bool,
) -> dict[str, Any]:
    invitation = new_sitting(
        ctx,
        connection,
        assessment,
        clean["name"],
        clean["offline"],
        clean["email"],
        opens_ms=clean["opens_ms"],
        closes_ms=clean["closes_ms"],
        extra_time_s=clean["extra_time_s"],
        invited_by=principal.actor,
    )
    if not principal.can(organisation_id, "proctor"):
        invitation.pop("unlock_code", None)  # a proctor reads it out; a recruiter need not see it
    invitation["email"] = clean["email"]
    invitation["emailed"] = bool(send and clean["email"])
    if invitation["emailed"]:
        _email_invitation(ctx, connection, organisation_id, assessment, clean["email"], invitation)
    audit.record(
        connection, ctx.now_ms(), principal.actor, organisation_id, "invitation.create",
        f"sitting:{invitation['sitting_id']}", principal.address,
        assessment=assessment["id"], emailed=invitation["emailed"],
    )  # fmt: skip
    return invitation


def invite(
    ctx: Context, principal: Principal, organisation_id: str, body: object
) -> dict[str, Any]:
    """One invitation; e-mailed to the candidate unless ``send_email`` is false."""
    principal.require(organisation_id, "invite")
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "An invitation is a JSON object.")
    with ctx.engine.begin() as connection:
        assessment = _assessment(connection, organisation_id, body.get("assessment_id"))
        try:
            clean = _clean_row(ctx, assessment, body, bool(assessment["supervised"]))
        except ValueError as error:
            raise ApiError(400, "bad_invitation", f"The invitation is refused: {error}.") from None
        send = body.get("send_email", True)
        return _insert(ctx, connection, principal, organisation_id, assessment, clean, send is True)


def _read_roster(text: str) -> list[tuple[int, dict[str, str]]]:
    """The roster's rows (known columns only) by line number; ValueError if unreadable."""
    text = text.lstrip("\ufeff")  # a spreadsheet's byte-order mark
    if not text.strip():
        raise ValueError("The file is empty: give a header line and one line per candidate.")
    try:
        dialect: Any = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header = next(reader)
    names: list[str | None] = []
    for cell in header:
        key = cell.strip().lower()
        names.append(next((field for field, aliases in COLUMNS.items() if key in aliases), None))
    if "name" not in names:
        raise ValueError("The header line needs a 'name' column (and 'email' to send the codes).")
    rows: list[tuple[int, dict[str, str]]] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise ValueError(f"A roster holds at most {MAX_ROWS} candidates: split the file.")
        row = {name: cell.strip() for name, cell in zip(names, cells, strict=False) if name}
        rows.append((reader.line_num, row))
    if not rows:
        raise ValueError("The file has a header but no candidates.")
    return rows


def import_roster(
    ctx: Context,
    principal: Principal,
    organisation_id: str,
    assessment_id: str,
    raw: bytes,
    dry_run: bool = False,
    send: bool = True,
) -> dict[str, Any]:
    """Every row checked first; with any error nothing is written and every error is named by
    line. ``dry_run`` checks and previews without writing."""
    principal.require(organisation_id, "invite")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(
            400, "bad_roster", "The file is not UTF-8 text: save it as 'CSV UTF-8' and retry."
        ) from None
    try:
        rows = _read_roster(text)
    except (ValueError, csv.Error) as error:
        raise ApiError(400, "bad_roster", str(error)) from None
    with ctx.engine.begin() as connection:
        assessment = _assessment(connection, organisation_id, assessment_id)
        if assessment["status"] != "published":
            raise ApiError(
                409,
                "not_published",
                f"The assessment is {assessment['status']}: publish it before inviting.",
            )
        errors: list[dict[str, Any]] = []
        cleaned: list[tuple[int, dict[str, Any]]] = []
        seen: dict[str, int] = {}
        for line, row in rows:
            try:
                clean = _clean_row(ctx, assessment, row, bool(assessment["supervised"]))
            except ValueError as error:
                errors.append({"line": line, "message": f"Line {line}: {error}."})
                continue
            if clean["email"] and clean["email"] in seen:
                errors.append(
                    {
                        "line": line,
                        "message": f"Line {line}: {clean['email']} is already on line "
                        f"{seen[clean['email']]}.",
                    }
                )
                continue
            if clean["email"]:
                seen[clean["email"]] = line
            cleaned.append((line, clean))
        preview = [
            {"line": line, "name": c["name"], "email": c["email"],
             "mode": "supervised" if c["offline"] else "online",
             "extra_time_s": c["extra_time_s"]}
            for line, c in cleaned
        ]  # fmt: skip
        if errors:
            raise ApiError(
                422,
                "bad_roster",
                f"{len(errors)} of {len(rows)} lines are refused, so nothing was imported: "
                + " ".join(str(e["message"]) for e in errors[:20])
                + (" ..." if len(errors) > 20 else ""),
                details={"errors": errors, "valid": preview},
            )
        if dry_run:
            return {"dry_run": True, "rows": preview, "invitations": []}
        created = [
            _insert(ctx, connection, principal, organisation_id, assessment, clean, send)
            for _line, clean in cleaned
        ]
        audit.record(
            connection, ctx.now_ms(), principal.actor, organisation_id, "roster.import",
            f"assessment:{assessment['id']}", principal.address, rows=len(created),
        )  # fmt: skip
    return {"dry_run": False, "rows": preview, "invitations": created}


def _status(row: RowMapping) -> str:
    if row["revoked_ms"] is not None:
        return "revoked"
    if row["state"] != "scored" and row["sealed_seen_ms"] is not None:
        return "syncing"  # finished on the device (its log's end reached the server), not in
    if row["state"] in ("prepared", "started") and row["locked_ms"] is not None:
        return "locked"  # as the client last said
    return str(
        {
            "invited": "invited",
            "enrolled": "enrolled",
            "prepared": "downloaded",
            "started": "started",
            "scored": "submitted",
        }.get(row["state"], row["state"])
    )


def invitations(
    ctx: Context, principal: Principal, organisation_id: str, assessment_id: str | None = None
) -> list[dict[str, Any]]:
    """The organisation's sittings, with where each stands (no codes)."""
    principal.require(organisation_id, "invitations:read")
    query = (
        select(
            db.sittings.c.id, db.sittings.c.assessment_id, db.sittings.c.candidate_name,
            db.sittings.c.candidate_email, db.sittings.c.offline, db.sittings.c.state,
            db.sittings.c.revoked_ms, db.sittings.c.created_ms, db.sittings.c.opens_ms,
            db.sittings.c.closes_ms, db.sittings.c.extra_time_s, db.sittings.c.started_ms,
            db.sittings.c.kind, db.sittings.c.sealed_seen_ms, db.sittings.c.locked_ms,
        )
        .join(db.assessments, db.assessments.c.id == db.sittings.c.assessment_id)
        .where(db.assessments.c.employer_id == organisation_id, db.sittings.c.kind == "employer")
        .order_by(db.sittings.c.created_ms)
    )  # fmt: skip
    if assessment_id is not None:
        query = query.where(db.sittings.c.assessment_id == assessment_id)
    with ctx.reader.connect() as connection:
        return [
            {
                "sitting_id": row["id"],
                "assessment_id": row["assessment_id"],
                "candidate": row["candidate_name"],
                "email": row["candidate_email"],
                "mode": "supervised" if row["offline"] else "online",
                "status": _status(row),
                "created_ms": row["created_ms"],
                "opens_ms": row["opens_ms"],
                "closes_ms": row["closes_ms"],
                "extra_time_s": row["extra_time_s"],
                "started_ms": row["started_ms"],
            }
            for row in connection.execute(query).mappings()
        ]


def _own_sitting(connection: Connection, organisation_id: str, sitting_id: str) -> RowMapping:
    row = (
        connection.execute(
            select(db.sittings, db.assessments.c.employer_id)
            .join(db.assessments, db.assessments.c.id == db.sittings.c.assessment_id)
            .where(
                db.sittings.c.id == sitting_id,
                db.assessments.c.employer_id == organisation_id,
                db.sittings.c.kind == "employer",
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("invitation")
    return row


def resend(
    ctx: Context, principal: Principal, organisation_id: str, sitting_id: str
) -> dict[str, Any]:
    """E-mail the invitation again with a new code (the old code stops working); only before
    the candidate has enrolled, and only to the address it was sent to."""
    principal.require(organisation_id, "invite")
    with ctx.engine.begin() as connection:
        sitting = _own_sitting(connection, organisation_id, sitting_id)
        if sitting["revoked_ms"] is not None or sitting["state"] != "invited":
            raise ApiError(
                409,
                "already_enrolled",
                "The candidate has already enrolled with this invitation (or it was revoked): "
                "there is nothing to resend.",
            )
        if not sitting["candidate_email"]:
            raise ApiError(409, "no_email", "This invitation has no e-mail address to send to.")
        code = rotate_code(ctx, connection, sitting_id)
        assessment = _assessment(connection, organisation_id, sitting["assessment_id"])
        invitation = {
            "invitation": code,
            "candidate": sitting["candidate_name"],
            "offline": bool(sitting["offline"]),
            "opens_ms": sitting["opens_ms"],
            "closes_ms": sitting["closes_ms"],
            "extra_time_s": sitting["extra_time_s"],
        }
        _email_invitation(
            ctx, connection, organisation_id, assessment, sitting["candidate_email"], invitation
        )
        audit.record(
            connection, ctx.now_ms(), principal.actor, organisation_id, "invitation.resend",
            f"sitting:{sitting_id}", principal.address,
        )  # fmt: skip
    return {"sitting_id": sitting_id, "emailed": True}


def revoke(ctx: Context, principal: Principal, organisation_id: str, sitting_id: str) -> None:
    """Withdraw an invitation not yet started: it can no longer be enrolled, downloaded or
    started."""
    principal.require(organisation_id, "invite")
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        sitting = _own_sitting(connection, organisation_id, sitting_id)
        if sitting["state"] in ("started", "scored"):
            raise ApiError(
                409, "already_started", "This sitting has started: it can no longer be revoked."
            )
        connection.execute(
            db.sittings.update()
            .where(db.sittings.c.id == sitting_id, db.sittings.c.revoked_ms.is_(None))
            .values(revoked_ms=now)
        )
        audit.record(
            connection, now, principal.actor, organisation_id, "invitation.revoke",
            f"sitting:{sitting_id}", principal.address,
        )  # fmt: skip


def unlock_code(
    ctx: Context, principal: Principal, organisation_id: str, sitting_id: str
) -> dict[str, Any]:
    """The code a proctor reads out to start a supervised sitting (audited)."""
    principal.require(organisation_id, "proctor")
    with ctx.engine.begin() as connection:
        sitting = _own_sitting(connection, organisation_id, sitting_id)
        audit.record(
            connection, ctx.now_ms(), principal.actor, organisation_id, "sitting.unlock_code",
            f"sitting:{sitting_id}", principal.address,
        )  # fmt: skip
    return {"sitting_id": sitting_id, "unlock_code": sitting["unlock_code"]}


def proctor_response(
    ctx: Context, principal: Principal, organisation_id: str, sitting_id: str, challenge: object
) -> dict[str, Any]:
    """The response that lifts a lock showing ``challenge`` (audited)."""
    principal.require(organisation_id, "proctor")
    if not isinstance(challenge, str) or not 4 <= len(challenge) <= 64:
        raise ApiError(400, "malformed", "Give the challenge shown on the candidate's lock screen.")
    with ctx.engine.begin() as connection:
        _own_sitting(connection, organisation_id, sitting_id)
        audit.record(
            connection, ctx.now_ms(), principal.actor, organisation_id, "sitting.proctor_code",
            f"sitting:{sitting_id}", principal.address,
        )  # fmt: skip
    return {"sitting_id": sitting_id, "response": proctor_code(ctx, sitting_id, challenge)}


def set_extra_time(
    ctx: Context, principal: Principal, organisation_id: str, sitting_id: str, minutes: object
) -> dict[str, Any]:
    """Extra time for one candidate, before their sitting starts (a package already
    downloaded carries the time it was sealed with, so it must be set before download)."""
    principal.require(organisation_id, "proctor")
    if type(minutes) is not int or not 0 <= minutes * 60 <= MAX_EXTRA_TIME_S:
        raise ApiError(400, "bad_extra_time", "Extra time must be 0 to 240 minutes.")
    with ctx.engine.begin() as connection:
        sitting = _own_sitting(connection, organisation_id, sitting_id)
        if sitting["package"] is not None:
            raise ApiError(
                409,
                "already_downloaded",
                "The candidate has downloaded this exam, sealed with its time: revoke it and "
                "invite them again with the extra time.",
            )
        connection.execute(
            db.sittings.update()
            .where(db.sittings.c.id == sitting_id)
            .values(extra_time_s=minutes * 60)
        )
        audit.record(
            connection, ctx.now_ms(), principal.actor, organisation_id, "sitting.extra_time",
            f"sitting:{sitting_id}", principal.address, minutes=minutes,
        )  # fmt: skip
    return {"sitting_id": sitting_id, "extra_time_s": minutes * 60}
