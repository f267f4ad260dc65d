"""Test helpers: sit a whole exam through the engine, count rows, sign raw requests."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import func, select

from client.engine import Engine
from client.session import ExamSession
from client.simulate import answer_all
from server import db
from server.context import Context


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
