"""Request counting and nonces (``limits.record``) on SQLite and PostgreSQL: the counters
count, a replayed nonce counts nothing, a limit passed is refused with when to come back, and
the commit that is not flushed on its own leaves the pooled connection as it found it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from server import db, limits
from server.context import Context
from server.errors import RateLimited
from server.settings import Limit, Settings


@pytest.fixture
def ctx(server_settings: Settings) -> Iterator[Context]:
    opened = Context.open(server_settings)
    opened.settings = dataclasses.replace(
        opened.settings,
        limits={**opened.settings.limits, "submit": Limit(2, 60), "device": Limit(100, 60)},
    )
    yield opened
    opened.dispose()


def counts(found: list[limits.Counted] | None) -> list[int]:
    assert found is not None
    return [count for count, *_ in found]


def test_each_fresh_request_is_counted_and_a_replay_is_not(ctx: Context) -> None:
    pairs = [("submit", "device-1"), ("device", "device-1"), ("no_such_kind", "device-1")]
    now = ctx.now_ms()
    assert counts(limits.record(ctx, pairs, ("device-1", "a" * 16, now))) == [1, 1]
    assert limits.record(ctx, pairs, ("device-1", "a" * 16, now)) is None  # a replay
    second = limits.record(ctx, pairs, ("device-1", "b" * 16, now))
    assert counts(second) == [2, 2]
    limits.refuse_past(second or [])  # at the limit, not past it
    third = limits.record(ctx, pairs, ("device-1", "c" * 16, now))
    assert counts(third) == [3, 3]
    with pytest.raises(RateLimited) as refused:
        limits.refuse_past(third or [])
    assert 1 <= refused.value.retry_after_s <= 60
    # Another device's nonce may be the same string: nonces and counters are per device.
    theirs = [("submit", "device-2"), ("device", "device-2")]
    assert counts(limits.record(ctx, theirs, ("device-2", "a" * 16, now))) == [1, 1]
    with ctx.reader.connect() as connection:
        nonces = connection.execute(select(db.request_nonces.c.device_id)).scalars().all()
    assert sorted(nonces) == ["device-1"] * 3 + ["device-2"]


def test_a_request_with_no_nonce_is_counted_by_hit(ctx: Context) -> None:
    limits.hit(ctx, "submit", "address")
    limits.hit(ctx, "submit", "address")
    with pytest.raises(RateLimited):
        limits.hit(ctx, "submit", "address")
    limits.hit(ctx, "submit", "another address")  # each subject its own counter


def test_the_unflushed_commit_does_not_outlive_its_request(ctx: Context) -> None:
    """The count's commit is not flushed on its own (SQLite: synchronous NORMAL for it;
    PostgreSQL: synchronous_commit off for its transaction only): the next transaction on the
    same pooled connection (the request's real writes) commits durably, as a transaction."""
    limits.record(ctx, [("submit", "device-1")], ("device-1", "d" * 16, ctx.now_ms()))
    with ctx.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
            assert not connection.connection.driver_connection.autocommit
        else:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
