"""PostgreSQL connections lost under the pool: one that died while idle is replaced before a
request meets it; one lost in steady use fails its request with a 503 the device retries (not
a 500), the next request is served on fresh connections, and the process's job worker starts
again and works on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from server import db
from server.context import Context
from server.settings import Settings
from tests.conftest import PG_ADMIN_URL, Templates, ThreadServer, postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_database() as made:
        yield made


def terminate_all(database: str) -> int:
    """End every backend serving ``database`` (a restart or a failover, as the pool sees it)."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()
    assert ended is not None
    return int(ended[0])


def test_a_connection_that_died_idle_is_replaced_before_use(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            first = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        assert terminate_all(url.rsplit("/", 1)[1]) == 1
        monkeypatch.setattr(db, "PING_IDLE_S", 0.0)  # it has been idle long enough
        with engine.connect() as connection:
            second = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        assert second != first
    finally:
        engine.dispose()


def test_only_a_connection_idle_for_a_while_is_pinged(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.make_engine(url)
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or real_ping(c))
    try:
        for _ in range(3):  # a burst: each transaction checks the connection out again
            with engine.begin() as connection:
                connection.exec_driver_sql("SELECT 1")
        assert pings == []
        monkeypatch.setattr(db, "PING_IDLE_S", 0.0)
        with engine.begin() as connection:
            connection.exec_driver_sql("SELECT 1")
        assert len(pings) == 1
    finally:
        engine.dispose()


def test_losing_the_database_in_use_is_a_503_then_served_again(
    url: str, tmp_path: Path, templates: Templates, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_IDLE_S", 3600.0)  # in steady use: no connection is pinged
    settings = Settings(data_dir=tmp_path / "server", database_url=url)
    templates.initialise(settings)
    with ThreadServer(Context.open(settings)) as live:
        health = f"{live.url}/api/v1/health"
        assert requests.get(health, timeout=10).status_code == 200
        assert terminate_all(url.rsplit("/", 1)[1]) >= 1
        lost = requests.get(health, timeout=10)
        assert lost.status_code == 503, lost.text
        assert lost.json()["error"] == "unavailable"
        assert lost.headers["Retry-After"] == "2"
        assert "Try again" in lost.json()["message"]
        assert requests.get(health, timeout=10).status_code == 200
        # The process's job worker lost its connections too: it starts again and works on.
        live.ctx.engine.dispose()  # this test's own write: on fresh connections (no 503 here)
        live.invite()  # queues the invitation's "prepare" job
        deadline = time.monotonic() + 60
        while prepared(live.ctx) < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert prepared(live.ctx) == 1


def prepared(ctx: Context) -> int:
    with ctx.reader.connect() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE task_name = 'prepare' AND status = 'succeeded'"
            ).scalar_one()
        )


def test_the_job_worker_starts_again_after_a_database_error(
    url: str, tmp_path: Path, templates: Templates, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker's fetch of the next job fails as it does when the database is restarted
    under it (psycopg's AdminShutdown, wrapped by Procrastinate): the worker logs it, starts
    again a second later, and the queued job is worked."""
    from procrastinate.exceptions import ConnectorException
    from procrastinate.manager import JobManager

    real_fetch = JobManager.fetch_job
    failures = []

    async def fetch_once_lost(self: JobManager, *args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise ConnectorException("terminating connection due to administrator command")
        return await real_fetch(self, *args, **kwargs)

    monkeypatch.setattr(JobManager, "fetch_job", fetch_once_lost)
    settings = Settings(data_dir=tmp_path / "server", database_url=url)
    templates.initialise(settings)
    with ThreadServer(Context.open(settings)) as live:
        live.invite()  # queues the invitation's "prepare" job
        deadline = time.monotonic() + 60
        while prepared(live.ctx) < 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert failures == [1]
        assert prepared(live.ctx) == 1
