"""Webhooks: an organisation's endpoints told of events as they happen.

An event (``result.scored``, ``result.flagged``, ``sitting.started``, ``consent.changed``) is
written as one delivery per subscribed endpoint in the transaction that caused it, and sent by
the ``webhook`` job: a JSON body, signed with HMAC-SHA256 under the endpoint's own secret over
``"{timestamp}.{body}"`` (header ``Examgate-Signature: t=<unix seconds>,v1=<hex>``), retried
with backoff, and every attempt kept in the delivery log with its HTTP status. A receiver checks
the signature, refuses a timestamp more than ``REPLAY_WINDOW_S`` from its clock, and ignores a
delivery id it has seen (each retry carries the same id).

What an event says follows consent: without a share, an employer learns only that a sitting
was completed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import socket
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, bindparam, select

from server import audit, db, jobs
from server.accounts import Principal
from server.context import Context
from server.errors import ApiError, not_found
from server.invitations import new_id
from shared import canonical

EVENTS = ("result.scored", "result.flagged", "sitting.started", "consent.changed")
REPLAY_WINDOW_S = 300  # what a receiver should accept between the timestamp and its clock
TIMEOUT_S = 10.0
MAX_PER_ORGANISATION = 20
SIGNATURE_HEADER = "Examgate-Signature"


# -- the secrets, sealed at rest ------------------------------------------------------------
def _sealing_key(ctx: Context) -> bytes:
    return ctx.derived_key(b"examgate webhook secrets")


def _seal(ctx: Context, webhook_id: str, secret: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(_sealing_key(ctx)).encrypt(nonce, secret.encode(), webhook_id.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def _open(ctx: Context, webhook_id: str, sealed: str) -> bytes:
    raw = base64.urlsafe_b64decode(sealed)
    return AESGCM(_sealing_key(ctx)).decrypt(raw[:12], raw[12:], webhook_id.encode())


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def check_signature(
    secret: bytes, header: str, body: bytes, now_s: int, window_s: int = REPLAY_WINDOW_S
) -> bool:
    """What a receiver does: the signature matches and the timestamp is within the window."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    timestamp = int(parts["t"])
    if abs(now_s - timestamp) > window_s:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts["v1"])


# -- endpoints ------------------------------------------------------------------------------
def check_url(value: object) -> str:
    url = value.strip() if isinstance(value, str) else ""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 2000:
        raise ApiError(400, "bad_url", "Give the endpoint's full address, starting with https://.")
    if parts.username or parts.password:
        raise ApiError(
            400, "bad_url", "Put no credentials in the address: check the signature instead."
        )
    return url


def _check_events(value: object) -> list[str]:
    chosen = list(EVENTS) if value is None else value
    if (
        not isinstance(chosen, list)
        or not chosen
        or not all(isinstance(e, str) and e in EVENTS for e in chosen)
    ):
        raise ApiError(400, "bad_events", f"Choose one or more events of: {', '.join(EVENTS)}.")
    return sorted(set(chosen))


def _view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "url": row["url"],
        "events": canonical.loads(row["events"]),
        "created_ms": row["created_ms"],
        "created_by": row["created_by"],
        "disabled_ms": row["disabled_ms"],
    }


def create(ctx: Context, principal: Principal, organisation_id: str, body: Any) -> dict[str, Any]:
    """A new endpoint; its signing secret is in this answer only."""
    principal.require(organisation_id, "webhooks")
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "A webhook has a url and, optionally, events.")
    url, events = check_url(body.get("url")), _check_events(body.get("events"))
    webhook_id = new_id(ctx)
    secret = "whsec_" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        count = len(
            connection.execute(
                select(db.webhooks.c.id).where(
                    db.webhooks.c.organisation_id == organisation_id,
                    db.webhooks.c.disabled_ms.is_(None),
                )
            ).all()
        )
        if count >= MAX_PER_ORGANISATION:
            raise ApiError(
                409, "too_many", f"An organisation has at most {MAX_PER_ORGANISATION} webhooks."
            )
        connection.execute(
            db.webhooks.insert().values(
                id=webhook_id,
                organisation_id=organisation_id,
                url=url,
                events=canonical.to_text(events),
                secret_sealed=_seal(ctx, webhook_id, secret),
                created_ms=now,
                created_by=principal.actor,
            )
        )
        audit.record(
            connection, now, principal.actor, organisation_id, "webhook.create",
            f"webhook:{webhook_id}", principal.address, url=url, events=events,
        )  # fmt: skip
        row = connection.execute(select(db.webhooks).where(db.webhooks.c.id == webhook_id))
        view = _view(row.mappings().one())
    return {**view, "secret": secret}


def listing(ctx: Context, principal: Principal, organisation_id: str) -> list[dict[str, Any]]:
    principal.require(organisation_id, "webhooks")
    with ctx.reader.connect() as connection:
        rows = connection.execute(
            select(db.webhooks)
            .where(db.webhooks.c.organisation_id == organisation_id)
            .order_by(db.webhooks.c.created_ms)
        ).mappings()
        return [_view(row) for row in rows]


def _own(connection: Connection, organisation_id: str, webhook_id: str) -> Any:
    row = (
        connection.execute(
            select(db.webhooks).where(
                db.webhooks.c.id == webhook_id, db.webhooks.c.organisation_id == organisation_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("webhook")
    return row


def disable(ctx: Context, principal: Principal, organisation_id: str, webhook_id: str) -> None:
    """Stop sending to an endpoint (its delivery log is kept)."""
    principal.require(organisation_id, "webhooks")
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        _own(connection, organisation_id, webhook_id)
        connection.execute(
            db.webhooks.update()
            .where(db.webhooks.c.id == webhook_id, db.webhooks.c.disabled_ms.is_(None))
            .values(disabled_ms=now)
        )
        audit.record(
            connection, now, principal.actor, organisation_id, "webhook.disable",
            f"webhook:{webhook_id}", principal.address,
        )  # fmt: skip


def deliveries(
    ctx: Context, principal: Principal, organisation_id: str, webhook_id: str
) -> list[dict[str, Any]]:
    """The endpoint's last 200 deliveries, newest first, each with every attempt."""
    principal.require(organisation_id, "webhooks")
    with ctx.reader.connect() as connection:
        _own(connection, organisation_id, webhook_id)
        rows = connection.execute(
            select(db.webhook_deliveries)
            .where(db.webhook_deliveries.c.webhook_id == webhook_id)
            .order_by(db.webhook_deliveries.c.created_ms.desc(), db.webhook_deliveries.c.id)
            .limit(200)
        ).mappings()
        return [
            {
                "id": row["id"],
                "event": row["event"],
                "state": row["state"],
                "attempts": row["attempts"],
                "history": canonical.loads(row["history"]),
                "created_ms": row["created_ms"],
                "delivered_ms": row["delivered_ms"],
                "body": canonical.loads(row["body"]),
            }
            for row in rows
        ]


# -- events ---------------------------------------------------------------------------------
_TARGETS = select(db.webhooks.c.id, db.webhooks.c.events).where(
    db.webhooks.c.organisation_id == bindparam("organisation"),
    db.webhooks.c.disabled_ms.is_(None),
)


def emit(
    ctx: Context, connection: Connection, organisation_id: str, event: str, data: dict[str, Any]
) -> int:
    """Queue ``event`` for every live endpoint of the organisation that wants it, in the
    caller's transaction (so an event is sent if and only if what caused it is stored).
    Returns how many deliveries were queued."""
    if event not in EVENTS:
        raise KeyError(event)
    targets = connection.execute(_TARGETS, {"organisation": organisation_id}).all()
    now = ctx.now_ms()
    queued = 0
    for target in targets:
        if event not in canonical.loads(target.events):
            continue
        delivery_id = new_id(ctx)
        body = {
            "id": delivery_id,
            "type": event,
            "created_ms": now,
            "organisation_id": organisation_id,
            "data": data,
        }
        connection.execute(
            db.webhook_deliveries.insert().values(
                id=delivery_id,
                webhook_id=target.id,
                organisation_id=organisation_id,
                event=event,
                body=canonical.to_text(body),
                state="pending",
                attempts=0,
                history="[]",
                created_ms=now,
            )
        )
        jobs.defer(connection, "webhook", delivery_id)
        queued += 1
    return queued


def private_address(host: str) -> bool:
    """Whether ``host`` resolves to any loopback, private, link-local or reserved address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # unresolvable: the request itself fails and says so
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return True
    return False


class DeliveryFailed(Exception):
    """One attempt did not reach a 2xx answer: the job is retried with backoff."""


@jobs.task("webhook")
def deliver(ctx: Context, delivery_id: str) -> None:
    """Send one delivery once more (a delivered one is not sent again)."""
    with ctx.reader.connect() as connection:
        row = (
            connection.execute(
                select(
                    db.webhook_deliveries,
                    db.webhooks.c.url,
                    db.webhooks.c.secret_sealed,
                    db.webhooks.c.disabled_ms,
                )
                .join(db.webhooks, db.webhooks.c.id == db.webhook_deliveries.c.webhook_id)
                .where(db.webhook_deliveries.c.id == delivery_id)
            )
            .mappings()
            .first()
        )
    if row is None or row["state"] != "pending":
        return
    if row["disabled_ms"] is not None:
        _attempted(ctx, row, None, "The webhook was disabled before this was sent.", final=True)
        return
    body = row["body"].encode()
    timestamp = int(time.time())
    started = time.monotonic()
    status: int | None = None
    error: str | None = None
    host = urlsplit(row["url"]).hostname or ""
    if not ctx.settings.webhook_private_addresses and private_address(host):
        error = "Refused: the address is in a private or loopback network."
    else:
        try:
            answer = requests.post(
                row["url"],
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": "examgate-webhooks",
                    "Examgate-Event": row["event"],
                    "Examgate-Delivery": row["id"],
                    SIGNATURE_HEADER: sign(
                        _open(ctx, row["webhook_id"], row["secret_sealed"]), timestamp, body
                    ),
                },
                timeout=TIMEOUT_S,
                allow_redirects=False,
            )
            status = answer.status_code
            if not 200 <= status < 300:
                error = f"The endpoint answered HTTP {status}."
        except requests.RequestException as failure:
            error = f"Not reached: {type(failure).__name__}."
    elapsed = int((time.monotonic() - started) * 1000)
    final = error is not None and row["attempts"] + 1 >= jobs.MAX_ATTEMPTS
    _attempted(ctx, row, status, error, final=final, elapsed_ms=elapsed)
    if error is not None and not final:
        raise DeliveryFailed(error)


def _attempted(
    ctx: Context,
    row: Any,
    status: int | None,
    error: str | None,
    *,
    final: bool,
    elapsed_ms: int = 0,
) -> None:
    now = ctx.now_ms()
    history: Sequence[Any] = canonical.loads(row["history"])
    entry = {"at_ms": now, "status": status, "error": error, "elapsed_ms": elapsed_ms}
    values: dict[str, Any] = {
        "attempts": row["attempts"] + 1,
        "history": canonical.to_text([*history, entry][-20:]),
    }
    if error is None:
        values.update(state="delivered", delivered_ms=now)
    elif final:
        values.update(state="failed")
    with ctx.engine.begin() as connection:
        connection.execute(
            db.webhook_deliveries.update()
            .where(db.webhook_deliveries.c.id == row["id"])
            .values(**values)
        )
