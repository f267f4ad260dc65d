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
Nonce = tuple[str, str, int]  # whose, the nonce, when it was seen (ms)


def record(
    ctx: Context, pairs: Iterable[tuple[str, str]], nonce: Nonce | None = None
) -> list[Counted] | None:
    """Count one request for each ``(kind, subject)`` (kinds with no limit are not counted);
    ``refuse_past`` then says whether any limit was passed. With ``nonce``, the request's
    nonce is remembered in the same transaction and nothing is counted if it was seen
    before: None then (a replay). Not flushed to disk on its own (``db.begin_light``): a
    power cut may forget the last moments' counts and nonces, whose signatures are minutes
    from expiring. On PostgreSQL this is one statement, one round trip: every device
    request makes it, so in a burst it is paid thousands of times a second."""
    plans = []
    for kind, subject in pairs:
        limit = ctx.settings.limits.get(kind)
        if limit is not None:
            plans.append((_bucket(kind, subject), limit, *_window(ctx, limit)))
    if not plans and nonce is None:
        return []
    windows = {bucket: window for bucket, _limit, _now, window, _span in plans}
    if ctx.engine.dialect.name == "postgresql":
        found = _record_postgresql(ctx, windows, nonce)
    else:
        found = _record(ctx, windows, nonce)
    if found is None:
        return None
    if plans and ctx.rng.random() < _PURGE_CHANCE:
        with db.begin_light(ctx.engine) as connection:
            connection.execute(
                db.rate_limits.delete().where(db.rate_limits.c.window_ms < plans[0][2] - 86_400_000)
            )
    return [(found[bucket], limit, now, window, span) for bucket, limit, now, window, span in plans]


def _record(ctx: Context, windows: dict[str, int], nonce: Nonce | None) -> dict[str, int] | None:
    with db.begin_light(ctx.engine) as connection:
        if nonce is not None:
            who, value, seen_ms = nonce
            fresh = db.insert_if_absent(
                connection,
                "request_nonces",
                {"device_id": who, "nonce": value, "seen_ms": seen_ms},
                "device_id",
            )
            if fresh is None:  # a replay is not counted
                return None
        return {
            bucket: _increment(connection, bucket, window) for bucket, window in windows.items()
        }


# The nonce (if any) and every counter in one statement, as one implicit transaction whose
# commit is not flushed on its own (synchronous_commit off for this transaction only).
_RECORD_POSTGRESQL = """
WITH light AS (SELECT set_config('synchronous_commit', 'off', true)),
nonce AS (
    INSERT INTO request_nonces (device_id, nonce, seen_ms)
    SELECT %(who)s::text, %(nonce)s::text, %(seen_ms)s::bigint WHERE %(who)s::text IS NOT NULL
    ON CONFLICT DO NOTHING
    RETURNING 1
),
counted AS (
    INSERT INTO rate_limits (bucket, window_ms, count)
    SELECT wanted.bucket, wanted.window_ms, 1
    FROM unnest(%(buckets)s::text[], %(windows)s::bigint[]) AS wanted (bucket, window_ms)
    WHERE %(who)s::text IS NULL OR EXISTS (SELECT FROM nonce)
    ON CONFLICT (bucket, window_ms) DO UPDATE SET count = rate_limits.count + 1
    RETURNING bucket, count
)
SELECT (SELECT count(*) FROM light), (SELECT count(*) FROM nonce), counted.bucket, counted.count
FROM (VALUES (1)) AS one LEFT JOIN counted ON true
"""


def _record_postgresql(
    ctx: Context, windows: dict[str, int], nonce: Nonce | None
) -> dict[str, int] | None:
    who, value, seen_ms = nonce if nonce is not None else (None, None, None)
    parameters = {
        "who": who,
        "nonce": value,
        "seen_ms": seen_ms,
        "buckets": list(windows),
        "windows": list(windows.values()),
    }
    with ctx.engine.connect() as connection:
        rows = (
            connection.execution_options(isolation_level="AUTOCOMMIT")
            .exec_driver_sql(_RECORD_POSTGRESQL, parameters)
            .all()
        )
    if nonce is not None and rows[0][1] == 0:
        return None
    return {bucket: int(count) for _light, _fresh, bucket, count in rows if bucket is not None}


def refuse_past(counted: list[Counted]) -> None:
    for found, limit, now, window, span in counted:
        if found > limit.count:
            raise RateLimited(max(1, (window + span - now + 999) // 1000))


def hit(ctx: Context, kind: str, subject: str, *more: tuple[str, str]) -> None:
    """Count one request of ``kind`` for ``subject`` (and of each further ``(kind, subject)``)
    in one transaction; refuse it past any of those limits."""
    counted = record(ctx, ((kind, subject), *more))
    assert counted is not None  # no nonce: never a replay
    refuse_past(counted)
