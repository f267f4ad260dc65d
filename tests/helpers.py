"""Test helpers: sit a whole exam through the engine, count rows, sign raw requests."""

from __future__ import annotations

import hashlib
import random
import secrets
import time
from typing import Any

from sqlalchemy import func, select

from client.engine import Engine
from client.session import ExamSession
from client.simulate import answer_all
from server import db
from server.context import Context
from shared import crypto
from shared.protocol import (
    HEADER_DEVICE,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    request_signing_bytes,
)


def sit(
    engine: Engine, url: str, invitation: dict[str, Any], strategy: str = "first"
) -> ExamSession:
    """Enrol, download, unlock and answer every item; return the ended session."""
    sitting = engine.enrol(url, invitation["invitation"])
    engine.download(sitting["id"])
    code = invitation.get("unlock_code") or engine.release_code(sitting["id"])
    session = engine.unlock(sitting["id"], code)
    answer_all(session, strategy, random.Random(1))
    return session


def count(ctx: Context, table: str) -> int:
    with ctx.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(getattr(db, table))).scalar_one()
        )


def stored_document(engine: Engine, submission_id: str) -> str:
    row = engine.db.execute(
        "SELECT document FROM outbox WHERE submission_id = ?", (submission_id,)
    ).fetchone()
    return str(row[0])


def signed_headers(
    device_id: str,
    key: Any,
    method: str,
    target: str,
    body: bytes,
    when_ms: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers a device sends to sign one request (as ``client.api`` builds them)."""
    timestamp = str(when_ms if when_ms is not None else int(time.time() * 1000))
    nonce = nonce or secrets.token_urlsafe(16)
    digest = hashlib.sha256(body).hexdigest()
    message = request_signing_bytes(method, target, timestamp, nonce, digest)
    return {
        HEADER_DEVICE: device_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: crypto.b64encode(key.sign(message)),
    }
