"""Abuse limits: fixed-window counters in the database, so every worker and host agrees.

``hit(ctx, "enrol", address)`` counts one request of kind ``enrol`` for ``address`` and raises
``RateLimited`` (429 with Retry-After) once the kind's limit for the current window is passed.
The limits are in ``Settings.limits`` (documented in the README).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from server import db
from server.context import Context
from server.errors import RateLimited
from server.settings import Limit

_PURGE_CHANCE = 0.01


@functools.cache
def _increment_statement(dialect_name: str) -> Any:
    """The counter's upsert, built once per dialect (statements are rebuilt at a cost)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(db.rate_limits).values(
        bucket=bindparam("bucket"), window_ms=bindparam("window_ms"), count=1
    )
    return statement.on_conflict_do_update(
        index_elements=["bucket", "window_ms"],
        set_={"count": db.rate_limits.c.count + 1},
    ).returning(db.rate_limits.c.count)


def _increment(connection: Connection, bucket: str, window_ms: int) -> int:
    statement = _increment_statement(connection.dialect.name)
    found = connection.execute(statement, {"bucket": bucket, "window_ms": window_ms})
    return int(found.scalar_one())


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


Counted = tuple[int, Limit, int, int, int]  # the count, the limit, now, window start, span


def count(ctx: Context, connection: Connection, pairs: Iterable[tuple[str, str]]) -> list[Counted]:
    """Count one request for each ``(kind, subject)`` in the caller's transaction (kinds with
    no limit are not counted); ``refuse_past`` then says whether any limit was passed."""
    counted = []
    for kind, subject in pairs:
        limit = ctx.settings.limits.get(kind)
        if limit is None:
            continue
        now, window, span = _window(ctx, limit)
        counted.append(
            (_increment(connection, _bucket(kind, subject), window), limit, now, window, span)
        )
    if counted and ctx.rng.random() < _PURGE_CHANCE:
        connection.execute(
            db.rate_limits.delete().where(db.rate_limits.c.window_ms < counted[0][2] - 86_400_000)
        )
    return counted


def refuse_past(counted: list[Counted]) -> None:
    for found, limit, now, window, span in counted:
        if found > limit.count:
            raise RateLimited(max(1, (window + span - now + 999) // 1000))


def hit(ctx: Context, kind: str, subject: str, *more: tuple[str, str]) -> None:
    """Count one request of ``kind`` for ``subject`` (and of each further ``(kind, subject)``)
    in one transaction; refuse it past any of those limits. Counters are not flushed to disk
    on their own (``db.begin_light``): a power cut may forget the last moments' counts."""
    with db.begin_light(ctx.engine) as connection:
        counted = count(ctx, connection, ((kind, subject), *more))
    refuse_past(counted)
