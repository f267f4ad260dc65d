"""Which database errors are "try again in a moment" (503) and which are faults (500): a
lock that could not be had or a lost connection is the first; a missing table the second,
logged with its stack, on SQLite and on PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, exc, text

from server import app, db
from tests.conftest import ThreadServer
from tests.helpers import signed_headers


def raised(engine: Any, statement: str) -> exc.DBAPIError:
    with pytest.raises(exc.DBAPIError) as caught, engine.begin() as connection:
        connection.execute(text(statement))
    return caught.value


def test_a_lock_not_had_is_unavailable_a_missing_table_is_a_fault(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        locked = raised(engine, "INSERT INTO t VALUES (1)")
        assert str(locked.orig) == "database is locked"
        assert app._unreachable(locked)
        holder.execute("ROLLBACK")
        missing = raised(engine, "INSERT INTO no_such_table VALUES (1)")
        assert isinstance(missing, exc.OperationalError)  # SQLite's class for it too
        assert not app._unreachable(missing)
    finally:
        engine.dispose()
        holder.close()


def test_a_broken_database_is_a_500_not_a_retry(
    live: ThreadServer, make_engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine()
    engine.enrol(live.url, live.invite()["invitation"])
    with live.ctx.engine.begin() as connection:  # as if a migration had been missed
        connection.execute(db.request_nonces.delete())
        connection.exec_driver_sql("DROP TABLE request_nonces")
    target = "/api/v1/sittings"
    headers = signed_headers(engine.enrolment().device_id, engine.keys.signing, "GET", target, b"")
    with caplog.at_level("ERROR", logger="examgate"):
        answer = requests.get(live.url + target, headers=headers, timeout=10)
    assert answer.status_code == 500 and answer.json()["error"] == "internal"
    assert "Retry-After" not in answer.headers
    assert any(record.exc_info for record in caplog.records), "logged with its stack"
