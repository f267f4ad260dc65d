"""The server killed with SIGKILL in the middle of a burst of uploads, then restarted: every
submission arrives exactly once and none is half-written, on SQLite and on PostgreSQL.

``make test`` runs 6 candidates per database; ``make faults`` 60 (EXAMGATE_CRASH_CANDIDATES).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from client.engine import Engine
from client.keystore import FileKeyStore
from client.settings import ClientSettings
from server import db
from server.context import Context
from server.invitations import create_invitation
from server.settings import Settings
from tests.conftest import free_port, postgres_database, venv_bin
from tests.helpers import sit

CANDIDATES = int(os.environ.get("EXAMGATE_CRASH_CANDIDATES", "6"))


@contextlib.contextmanager
def database(kind: str, work: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{work / 'srv' / 'examgate.db'}"
    else:
        with postgres_database() as url:
            yield url


def serve(data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [venv_bin("examgate-server"), "serve", "--data", str(data), "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(log.read_text())


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_server_killed_mid_burst_loses_and_doubles_nothing(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        data = tmp_path / "srv"
        subprocess.run(
            [venv_bin("examgate-server"), "init", "--data", str(data), "--database", url],
            check=True,
            capture_output=True,
        )
        settings = Settings.load(data)
        ctx = Context.open(settings)
        engines: list[Engine] = []
        try:
            run_burst(ctx, data, tmp_path, engines)
        finally:  # closed even when an assertion fails: no connection outlives the test
            for engine in engines:
                engine.close()
            ctx.dispose()


def run_burst(ctx: Context, data: Path, tmp_path: Path, engines: list[Engine]) -> None:
    """The candidates upload together; the server is killed with a quarter stored, then
    restarted; each ends received and scored exactly once."""
    port = free_port()
    log = tmp_path / "serve.log"
    server = serve(data, port, log)
    base = f"http://127.0.0.1:{port}"
    for n in range(CANDIDATES):
        client = ClientSettings.load(tmp_path / f"c{n}")
        engine = Engine(client, FileKeyStore(client.home))
        invitation = create_invitation(ctx, "deep-learning", f"C {n}", True)
        engine.seal(sit(engine, base, invitation))
        # Uploads give up on a dead server quickly (preparing took the usual patience).
        engine.settings = dataclasses.replace(client, timeout_s=2.0)
        engines.append(engine)

    def deliver(engine: Engine) -> str:
        # Until received and scored: an upload receipted in the burst is scored by a job,
        # whose result is asked for again after the restart.
        while engine.outbox.pending() or engine.outbox.unscored():
            with contextlib.suppress(Exception):
                engine.sync(attempts=None, sleep=lambda s: time.sleep(min(s, 0.2)))
            time.sleep(0.05)  # a result asked of a dead server fails at once: ask again soon
        [status] = engine.outbox.statuses()
        return status.state

    def stored() -> int:
        with ctx.reader.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(db.submissions)).scalar_one()
            )

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            states = [pool.submit(deliver, engine) for engine in engines]
            deadline = time.monotonic() + 60
            while stored() < CANDIDATES // 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            server.send_signal(signal.SIGKILL)  # mid-burst: uploads are in flight
            server.wait()
            killed_at = stored()
            time.sleep(1.0)
            server = serve(data, port, log)
            results = [state.result(timeout=240) for state in states]
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert killed_at < CANDIDATES, "the kill came after the burst"
    assert results == ["received"] * CANDIDATES
    with ctx.reader.connect() as connection:
        submissions = connection.execute(
            select(func.count()).select_from(db.submissions)
        ).scalar_one()
        results_rows = connection.execute(select(func.count()).select_from(db.results)).scalar_one()
        orphans = connection.execute(
            select(func.count())
            .select_from(db.submissions)
            .outerjoin(db.results, db.results.c.submission_id == db.submissions.c.id)
            .where(db.results.c.id.is_(None))
        ).scalar_one()
        claims = connection.execute(
            select(db.idempotency.c.state, func.count()).group_by(db.idempotency.c.state)
        ).all()
    assert submissions == results_rows == CANDIDATES and orphans == 0
    assert dict(claims) == {"done": CANDIDATES}
