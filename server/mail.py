"""Outgoing e-mail: queued in the caller's transaction, sent by the ``email`` job.

With ``smtp`` in the settings, messages go through that server (STARTTLS, TLS or plain to a
local relay; login when a user name is set). Without it they are written as ``.eml`` files to
the data folder's ``mail/`` (readable by the server's user only): a server with no mail relay
still loses no message, and an operator can read what would have been sent.

A message's body is dropped once sent: it may hold an invitation or password code, which the
database otherwise keeps only as a hash.
"""

from __future__ import annotations

import email.utils
import os
import secrets
import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Connection, select

from server import db, jobs, limits
from server.accounts import digest, normalise_email, record_for_user, set_password
from server.context import Context
from server.errors import ApiError
from server.invitations import new_id
from server.settings import Smtp

PASSWORD_CODE_HOURS = 1
WELCOME_CODE_DAYS = 7


def queue(
    ctx: Context,
    connection: Connection,
    kind: str,
    recipient: str,
    subject: str,
    body: str,
    organisation_id: str | None = None,
) -> str:
    """Queue one plain-text message; it is sent after the caller's transaction commits."""
    message_id = new_id(ctx)
    connection.execute(
        db.emails.insert().values(
            id=message_id,
            organisation_id=organisation_id,
            kind=kind,
            recipient=recipient,
            subject=subject[:300],
            body=body,
            state="queued",
            created_ms=ctx.now_ms(),
        )
    )
    jobs.defer(connection, "email", message_id)
    return message_id


def _message(ctx: Context, row: Any, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row["recipient"]
    message["Subject"] = row["subject"]
    message["Date"] = email.utils.formatdate(ctx.now_ms() / 1000, usegmt=True)
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
    message["Message-ID"] = f"<{row['id']}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row["body"])
    return message


def _smtp_password(ctx: Context) -> str | None:
    given = os.environ.get("EXAMGATE_SMTP_PASSWORD")
    if given:
        return given
    path = ctx.settings.smtp_password_file
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def _send_smtp(ctx: Context, smtp: Smtp, message: EmailMessage) -> None:
    context = ssl.create_default_context(cafile=smtp.ca_file)
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, _smtp_password(ctx) or "")
        client.send_message(message)


def _write_file(ctx: Context, message: EmailMessage, message_id: str) -> None:
    folder = ctx.settings.mail_dir
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{message_id}.eml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(bytes(message))


@jobs.task("email")
def send(ctx: Context, message_id: str) -> None:
    """Send one queued message (a repeat of a sent one does nothing)."""
    with ctx.reader.connect() as connection:
        row = (
            connection.execute(select(db.emails).where(db.emails.c.id == message_id))
            .mappings()
            .first()
        )
    if row is None or row["state"] == "sent" or row["body"] is None:
        return
    smtp = ctx.settings.smtp
    message = _message(ctx, row, smtp.sender if smtp else "examgate <no-reply@localhost>")
    try:
        if smtp is None:
            _write_file(ctx, message, message_id)
        else:
            _send_smtp(ctx, smtp, message)
    except (OSError, smtplib.SMTPException) as error:
        with ctx.engine.begin() as connection:
            connection.execute(
                db.emails.update()
                .where(db.emails.c.id == message_id)
                .values(error=f"{type(error).__name__}: {error}"[:500])
            )
        raise
    with ctx.engine.begin() as connection:
        connection.execute(
            db.emails.update()
            .where(db.emails.c.id == message_id)
            .values(state="sent", sent_ms=ctx.now_ms(), body=None, error=None)
        )


def deliveries(ctx: Context, organisation_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The organisation's messages, newest first, without their bodies."""
    with ctx.reader.connect() as connection:
        rows = connection.execute(
            select(
                db.emails.c.id, db.emails.c.kind, db.emails.c.recipient, db.emails.c.subject,
                db.emails.c.state, db.emails.c.created_ms, db.emails.c.sent_ms, db.emails.c.error,
            )
            .where(db.emails.c.organisation_id == organisation_id)
            .order_by(db.emails.c.created_ms.desc())
            .limit(limit)
        ).mappings()  # fmt: skip
        return [dict(row) for row in rows]


# --- choosing a password ------------------------------------------------------------------


def queue_password_code(
    ctx: Context, connection: Connection, user_id: str, address: str, welcome: bool = False
) -> None:
    """E-mail ``address`` a code that lets its user choose a password (valid an hour; a new
    member's first, a week)."""
    now = ctx.now_ms()
    code = secrets.token_urlsafe(24)
    lifetime = WELCOME_CODE_DAYS * 86_400_000 if welcome else PASSWORD_CODE_HOURS * 3_600_000
    connection.execute(
        db.password_codes.insert().values(
            id=new_id(ctx),
            user_id=user_id,
            code_sha256=digest(code),
            created_ms=now,
            expires_ms=now + lifetime,
        )
    )
    url = ctx.settings.public_url
    if welcome:
        subject = "You have been added to examgate"
        opening = "You have been given an account on the examgate server at " + url + "."
        valid = f"{WELCOME_CODE_DAYS} days"
    else:
        subject = "Choose a new examgate password"
        opening = "Someone (we hope you) asked to choose a new password for examgate at " + url
        opening += ". If it was not you, ignore this message: nothing changes."
        valid = f"{PASSWORD_CODE_HOURS} hour"
    body = (
        f"{opening}\n\n"
        f"Your code to choose a password, valid for {valid} and usable once:\n\n"
        f"    {code}\n\n"
        f"To choose your password (12 characters or more), open\n\n    {url}/dashboard/password\n\n"
        f"and type the code there. A program can send it instead: POST\n"
        f'{url}/api/v1/password/choose with {{"code": "...", "password": "..."}}.\n'
        f"The owner of your organisation can help.\n"
    )
    queue(ctx, connection, "password", address, subject, body)


def request_password_code(ctx: Context, email_address: object, address: str) -> None:
    """Send a password code if the address has an account. The answer is the same either way,
    so the request says nothing about who has an account."""
    limits.hit(ctx, "sign_in", address)
    email_address = normalise_email(email_address)
    limits.hit(ctx, "password_code", email_address)
    with ctx.engine.begin() as connection:
        user_id = connection.execute(
            select(db.users.c.id).where(
                db.users.c.email == email_address, db.users.c.disabled_ms.is_(None)
            )
        ).scalar()
        if user_id is not None:
            queue_password_code(ctx, connection, user_id, email_address)


def choose_password(ctx: Context, code: object, password: object, address: str) -> None:
    """Set the password of the user the (unused, unexpired) code was sent to."""
    limits.hit(ctx, "sign_in", address)
    if not isinstance(code, str) or not isinstance(password, str):
        raise ApiError(400, "malformed", "Give the code from the e-mail and a new password.")
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        row = (
            connection.execute(
                select(db.password_codes).where(
                    db.password_codes.c.code_sha256 == digest(code.strip())
                )
            )
            .mappings()
            .first()
        )
        if row is None or row["used_ms"] is not None or row["expires_ms"] < now:
            raise ApiError(
                400,
                "bad_code",
                "This code is wrong, used or expired: ask for a new one from the sign-in page.",
            )
        set_password(connection, row["user_id"], password)
        connection.execute(
            db.password_codes.update()
            .where(
                db.password_codes.c.user_id == row["user_id"], db.password_codes.c.used_ms.is_(None)
            )
            .values(used_ms=now)
        )
        record_for_user(connection, now, row["user_id"], "user.password_set", address)
