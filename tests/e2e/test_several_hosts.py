"""The deployment of several hosts, on loopback: two app processes (``serve --no-jobs``) and one
separate job worker (``examgate-server worker``) against one PostgreSQL. Candidates enrol with
either app; packages are prepared ahead by the worker; submissions land once; certificates are
rendered by the worker (the apps answer 202 until then), also after the worker is killed and
started again; and each app's /metrics and /ready tell the story."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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

pytestmark = pytest.mark.postgres


@contextlib.contextmanager
def process(command: list[str], log: Path, ready_url: str | None = None) -> Iterator[Any]:
    with log.open("ab") as output:
        child = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        if ready_url:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(ready_url, timeout=1).ok:
                        break
                assert child.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        yield child
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait(timeout=20)


def app(data: Path, port: int) -> list[str]:
    return [
        venv_bin("examgate-server"), "serve", "--data", str(data), "--port", str(port),
        "--public-url", "https://exams.example.org", "--no-jobs",
    ]  # fmt: skip


def waited(check: Any, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_two_apps_and_a_separate_worker_share_one_postgresql(tmp_path: Path) -> None:
    with postgres_database() as url:
        data = tmp_path / "srv"
        subprocess.run(
            [venv_bin("examgate-server"), "init", "--data", str(data), "--database", url],
            check=True,
            capture_output=True,
        )
        ctx = Context.open(Settings.load(data))
        ports = [free_port(), free_port()]
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        worker_command = [venv_bin("examgate-server"), "worker", "--data", str(data)]
        with contextlib.ExitStack() as stack:
            for n, port in enumerate(ports):
                stack.enter_context(
                    process(app(data, port), tmp_path / f"app{n}.log", f"{bases[n]}/ready")
                )
            invitations = [
                create_invitation(ctx, "deep-learning", f"Candidate {n}", True) for n in range(4)
            ]
            # No worker yet: the prepare jobs wait in the queue, and /ready says so.
            ready = requests.get(bases[0] + "/ready", timeout=5).json()
            assert ready["status"] == "ok" and ready["jobs_pending"] == 4
            worker_log = tmp_path / "worker.log"
            worker = stack.enter_context(process(worker_command, worker_log))

            def prepared() -> bool:
                with ctx.reader.connect() as connection:
                    return bool(
                        connection.execute(
                            select(func.count())
                            .select_from(db.sittings)
                            .where(db.sittings.c.prepared_secrets.is_not(None))
                        ).scalar_one()
                        == 4
                    )

            assert waited(prepared), worker_log.read_text()
            engines = []
            for n, invitation in enumerate(invitations):
                home = ClientSettings.load(tmp_path / f"c{n}")
                engine = Engine(home, FileKeyStore(home.home))
                submission_id = engine.seal(sit(engine, bases[n % 2], invitation))
                engines.append((engine, submission_id))
            worker.terminate()  # certificates now wait for a worker
            worker.wait(timeout=20)
            for engine, _ in engines:
                [delivered] = engine.sync()
                assert delivered.result["overall"]
            engine, submission_id = engines[0]
            pending = engine.api().certificate(submission_id)
            assert pending == 1.0  # 202 with Retry-After: 1, not an error
            ready = requests.get(bases[1] + "/ready", timeout=5).json()
            assert ready["jobs_pending"] == 4
            stack.enter_context(process(worker_command, worker_log))  # a worker again
            for engine, submission_id in engines:
                assert engine.certificate_pdf(submission_id, wait_s=60).startswith(b"%PDF")
            with ctx.reader.connect() as connection:
                rows = connection.execute(select(func.count()).select_from(db.submissions))
                assert rows.scalar_one() == 4
                certified = connection.execute(
                    select(func.count())
                    .select_from(db.results)
                    .where(db.results.c.certificate.is_not(None))
                ).scalar_one()
                assert certified == 4
            scored = 0.0
            for base in bases:
                text = requests.get(base + "/metrics", timeout=5).text
                assert 'examgate_jobs_pending{task="certify"} 0.0' in text
                assert 'examgate_jobs_failed{task="certify"} 0.0' in text
                assert 'route="/api/v1/submissions"' in text
                scored += sum(
                    float(line.split()[-1])
                    for line in text.splitlines()
                    if line.startswith("examgate_submissions_scored_total")
                )
            assert scored == 4  # each app counted the uploads it took
            for engine, _ in engines:
                engine.close()
        ctx.dispose()
