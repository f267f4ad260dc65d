"""The audit log: every employer and operator action (who, what, when, from which address),
written in the same transaction as the action, so an action and its record stand or fall
together. Rows are appended and never changed; owners read and export their organisation's."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from server import db
from server.context import Context
from shared import canonical

OPERATOR = "operator"  # the server's own shell (examgate-server ...)
PAGE = 200


def record(
    connection: Connection,
    now_ms: int,
    actor: str,
    organisation_id: str | None,
    action: str,
    object_: str,
    address: str = "local",
    **details: Any,
) -> None:
    """Append one entry. ``details`` must hold no secret (no code, token or password)."""
    connection.execute(
        db.audit_log.insert().values(
            at_ms=now_ms,
            organisation_id=organisation_id,
            actor=actor[:80],
            action=action[:64],
            object=object_[:120],
            details=canonical.to_text(details),
            address=address[:64],
        )
    )


def entries(
    ctx: Context, organisation_id: str, after_id: int = 0, limit: int = PAGE
) -> list[dict[str, Any]]:
    """The organisation's entries after ``after_id``, oldest first (page on with the last id)."""
    with ctx.reader.connect() as connection:
        rows = connection.execute(
            select(db.audit_log)
            .where(db.audit_log.c.organisation_id == organisation_id, db.audit_log.c.id > after_id)
            .order_by(db.audit_log.c.id)
            .limit(max(1, min(limit, 1000)))
        ).mappings()
        return [dict(row, details=canonical.loads(row["details"])) for row in rows]


EXPORT_MAX = 100_000


def export_csv(ctx: Context, organisation_id: str) -> str:
    """The organisation's whole log (the newest 100,000 entries), oldest first, as CSV."""
    with ctx.reader.connect() as connection:
        rows = list(
            connection.execute(
                select(db.audit_log)
                .where(db.audit_log.c.organisation_id == organisation_id)
                .order_by(db.audit_log.c.id.desc())
                .limit(EXPORT_MAX)
            ).mappings()
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["id", "at", "actor", "action", "object", "address", "details"])
    for row in reversed(rows):
        at = datetime.fromtimestamp(row["at_ms"] / 1000, tz=UTC).isoformat()
        cells = [row["id"], at, row["actor"], row["action"], row["object"], row["address"],
                 row["details"]]  # fmt: skip
        writer.writerow(["'" + c if c[:1] in ("=", "+", "-", "@") else c for c in map(str, cells)])
    return out.getvalue()
