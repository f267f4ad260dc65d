"""Abuse limits: fixed-window counters in the database, so every worker and host agrees.

``hit(ctx, "enrol", address)`` counts one request of kind ``enrol`` for ``address`` and raises
``RateLimited`` (429 with Retry-After) once the kind's limit for the current window is passed.
The limits are in ``Settings.limits`` (documented in the README).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from server import db
from server.context import Context
from server.errors import RateLimited
from server.settings import Limit

_PURGE_CHANCE = 0.01


def _increment(connection: Connection, bucket: str, window_ms: int) -> int:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(db.rate_limits).values(bucket=bucket, window_ms=window_ms, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=["bucket", "window_ms"],
        set_={"count": db.rate_limits.c.count + 1},
    ).returning(db.rate_limits.c.count)
    return int(connection.execute(statement).scalar_one())


def _window(ctx: Context, limit: Limit) -> tuple[int, int, int]:
    """Now, the start of the current window, and the window's span, in ms."""
    now = ctx.now_ms()
    span = limit.per_s * 1000
    return now, now - now % span, span


def _bucket(kind: str, subject: str) -> str:
    """A counter's key: the kind and a digest of the subject, so the table holds no address
    or e-mail (the counters are personal data otherwise, and outlive an erasure)."""
    return f"{kind}:{hashlib.sha256(subject.encode()).hexdigest()[:40]}"


def refuse_if_over(ctx: Context, kind: str, subject: str) -> None:
    """Refuse now if ``subject`` is already past the limit of ``kind`` (without counting)."""
    limit = ctx.settings.limits.get(kind)
    if limit is None:
        return
    now, window, span = _window(ctx, limit)
    with ctx.reader.connect() as connection:
        count = connection.execute(
            select(db.rate_limits.c.count).where(
                db.rate_limits.c.bucket == _bucket(kind, subject),
                db.rate_limits.c.window_ms == window,
            )
        ).scalar()
    if count is not None and count >= limit.count:
        raise RateLimited(max(1, (window + span - now + 999) // 1000))


def hit(ctx: Context, kind: str, subject: str, *more: tuple[str, str]) -> None:
    """Count one request of ``kind`` for ``subject`` (and of each further ``(kind, subject)``)
    in one transaction; refuse it past any of those limits. Counters are not flushed to disk
    on their own (``db.begin_light``): a power cut may forget the last moments' counts."""
    counted = []
    with db.begin_light(ctx.engine) as connection:
        for each_kind, each_subject in ((kind, subject), *more):
            limit = ctx.settings.limits.get(each_kind)
            if limit is None:
                continue
            now, window, span = _window(ctx, limit)
            bucket = _bucket(each_kind, each_subject)
            counted.append((_increment(connection, bucket, window), limit, now, window, span))
        if counted and ctx.rng.random() < _PURGE_CHANCE:
            connection.execute(
                db.rate_limits.delete().where(
                    db.rate_limits.c.window_ms < counted[0][2] - 86_400_000
                )
            )
    for count, limit, now, window, span in counted:
        if count > limit.count:
            raise RateLimited(max(1, (window + span - now + 999) // 1000))
