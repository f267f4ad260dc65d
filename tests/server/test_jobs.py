"""Background jobs on both queues (the embedded table on SQLite, Procrastinate on PostgreSQL):
deferred with the row they work on, idempotent, retried, failures kept with their reason and
shown; the certificate fetched when ready; packages prepared ahead; the distribution behind
percentiles; the bank cached per version; and the operator's endpoints."""

from __future__ import annotations

import json
import logging
import random
import subprocess
from typing import Any

import pytest
import requests
from sqlalchemy import select

from server import credentials, db, jobs, metrics, results
from server.bank.store import bump_version, cached_items
from server.context import Context
from tests.conftest import Templates, ThreadServer, venv_bin
from tests.helpers import queued, run_queued, sealed


def result_row(ctx: Context, submission_id: str) -> Any:
    with ctx.reader.connect() as connection:
        return (
            connection.execute(
                select(db.results).where(db.results.c.submission_id == submission_id)
            )
            .mappings()
            .one()
        )


def test_the_upload_stores_the_result_and_its_certificate_job_together(
    idle_live: ThreadServer, make_engine: Any
) -> None:
    engine, submission_id = sealed(make_engine, idle_live)
    [delivered] = engine.sync()
    row = result_row(idle_live.ctx, submission_id)
    assert delivered.result["result_id"] == row["id"]
    assert row["certificate"] is None  # not rendered inside the upload
    assert queued(idle_live.ctx, "certify", row["id"]) == 1
    assert engine.api().certificate(submission_id) == 1.0  # 202, Retry-After: 1
    response = requests.get(
        f"{idle_live.url}/api/v1/results/{submission_id}/certificate", timeout=5
    )
    assert response.status_code == 401  # unsigned: still nobody else's business
    assert run_queued(idle_live.ctx) >= 1
    pdf = engine.certificate_pdf(submission_id, wait_s=5)
    assert pdf.startswith(b"%PDF") and queued(idle_live.ctx, "certify") == 0
    certified = result_row(idle_live.ctx, submission_id)["certified_ms"]
    results.certify(idle_live.ctx, row["id"])  # again: already done, nothing changes
    assert result_row(idle_live.ctx, submission_id)["certified_ms"] == certified
    assert result_row(idle_live.ctx, submission_id)["certificate"] == pdf


def test_a_certificate_not_ready_in_time_is_a_sentence(
    idle_live: ThreadServer, make_engine: Any
) -> None:
    from client.errors import CertificateNotReady

    engine, submission_id = sealed(make_engine, idle_live)
    engine.sync()
    with pytest.raises(CertificateNotReady) as raised:
        engine.certificate_pdf(submission_id, wait_s=0.5)
    assert "still preparing your certificate" in str(raised.value)


def test_a_failing_job_is_retried_then_kept_as_failed_with_its_reason(
    idle_live: ThreadServer, make_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = idle_live.ctx
    engine, submission_id = sealed(make_engine, idle_live)
    engine.sync()
    result_id = result_row(ctx, submission_id)["id"]

    def broken(_data: Any) -> bytes:
        raise OSError("the font folder is unreadable")

    monkeypatch.setattr(credentials, "render_certificate", broken)
    if ctx.engine.dialect.name == "postgresql":
        # Procrastinate schedules the retries; each attempt's outcome is recorded by run_job.
        assert jobs.run_job(ctx, "certify", result_id, 1) is not None
        assert jobs.status(ctx)["failed"] == {}  # retrying, not failed yet
        reason = jobs.run_job(ctx, "certify", result_id, jobs.MAX_ATTEMPTS)
    else:
        with ctx.engine.begin() as connection:  # only the certificate job is left to run
            connection.execute(
                db.jobs.update().where(db.jobs.c.task != "certify").values(state="done")
            )
        worker = jobs.TableWorker(ctx)
        waits = []
        for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
            with ctx.engine.begin() as connection:  # the retry is due now
                connection.execute(db.jobs.update().values(run_after_ms=0))
            assert worker.work_one()
            with ctx.reader.connect() as connection:
                job = (
                    connection.execute(select(db.jobs).where(db.jobs.c.task == "certify"))
                    .mappings()
                    .one()
                )
            assert job["attempts"] == attempt
            if attempt < jobs.MAX_ATTEMPTS:
                assert job["state"] == "todo"
                waits.append(jobs.retry_wait_s(attempt))
        assert waits == [2, 4, 8, 16, 32]
        reason = job["last_error"]
    assert reason == "OSError: the font folder is unreadable"
    found = jobs.status(ctx)
    assert found["failed"] == {"certify": 1}
    [failure] = found["failures"]
    assert failure["key"] == result_id and failure["last_error"] == reason
    listed = subprocess.run(
        [venv_bin("examgate-server"), "jobs", "--data", str(ctx.settings.data_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"failed: certify {result_id}" in listed.stdout
    assert "the font folder is unreadable" in listed.stdout
    text = requests.get(idle_live.url + "/metrics", timeout=5).text
    assert 'examgate_jobs_failed{task="certify"} 1.0' in text
    monkeypatch.undo()
    assert jobs.retry_failed(ctx) == 1  # the cause fixed: queued again, and it works
    run_queued(ctx)
    assert engine.certificate_pdf(submission_id, wait_s=5).startswith(b"%PDF")
    assert jobs.status(ctx)["failed"] == {}


def test_a_job_held_by_a_killed_process_is_taken_up_again(
    tmp_path: Any, make_engine: Any, templates: Templates
) -> None:
    """The embedded queue: a job left "doing" by a killed server is run at the next start."""
    from server.settings import Settings

    settings = Settings(data_dir=tmp_path / "s", database_url=f"sqlite:///{tmp_path}/s/db.sqlite")
    templates.initialise(settings)
    with ThreadServer(Context.open(settings), run_jobs=False) as idle:
        embedded_queue_survives_a_kill(idle, make_engine)


def embedded_queue_survives_a_kill(idle_live: ThreadServer, make_engine: Any) -> None:
    ctx = idle_live.ctx
    engine, submission_id = sealed(make_engine, idle_live)
    engine.sync()
    with ctx.engine.begin() as connection:  # as a process killed mid-job leaves it
        connection.execute(
            db.jobs.update().where(db.jobs.c.task == "certify").values(state="doing")
        )
    worker = jobs.TableWorker(ctx, poll_s=0.05).start()
    try:
        assert engine.certificate_pdf(submission_id, wait_s=20).startswith(b"%PDF")
    finally:
        worker.stop()


def test_packages_are_prepared_ahead_and_the_secrets_dropped_once_served(
    idle_live: ThreadServer, make_engine: Any
) -> None:
    ctx = idle_live.ctx
    invitation = idle_live.invite(offline=True)
    sitting_id = invitation["sitting_id"]
    assert queued(ctx, "prepare", sitting_id) == 1

    def secrets() -> Any:
        with ctx.reader.connect() as connection:
            return connection.execute(
                select(db.sittings.c.prepared_secrets).where(db.sittings.c.id == sitting_id)
            ).scalar_one()

    assert secrets() is None
    run_queued(ctx)
    prepared = json.loads(secrets())
    assert len(prepared["unlock"]["challenges"]) == 8 and prepared["scrypt_n"] == 2**15
    engine = make_engine()
    sitting = engine.enrol(idle_live.url, invitation["invitation"])
    header = engine.download(sitting["id"])
    assert header.item_count == 20
    assert secrets() is None  # served: the derived key is not kept
    session = engine.unlock(sitting["id"], invitation["unlock_code"])  # the prepared key opens it
    assert session.total == 20


def test_a_download_before_the_job_ran_derives_the_secrets_itself(
    idle_live: ThreadServer, make_engine: Any
) -> None:
    invitation = idle_live.invite(offline=True)
    engine = make_engine()
    sitting = engine.enrol(idle_live.url, invitation["invitation"])
    engine.download(sitting["id"])
    assert engine.unlock(sitting["id"], invitation["unlock_code"]).total == 20
    run_queued(idle_live.ctx)  # the late job finds the package served and does nothing
    with idle_live.ctx.reader.connect() as connection:
        left = connection.execute(
            select(db.sittings.c.prepared_secrets).where(
                db.sittings.c.id == invitation["sitting_id"]
            )
        ).scalar_one()
    assert left is None


def test_percentiles_from_the_distribution_match_counting_every_result(
    idle_live: ThreadServer,
) -> None:
    ctx = idle_live.ctx
    rng = random.Random(7)
    thetas = [round(rng.gauss(0, 1), 2) for _ in range(300)] + [9.5, -9.5]
    with ctx.engine.begin() as connection:
        assessment = connection.execute(select(db.assessments.c.id)).scalar_one()
        for theta in thetas:
            results._count_in_distribution(connection, assessment, theta)
    with ctx.reader.connect() as connection:
        for theta in [0.0, 1.23, -0.5, 2.71, 9.5, -9.5, *thetas[:20]]:
            clamped = [max(-6.0, min(6.0, t)) for t in thetas]
            mine = max(-6.0, min(6.0, theta))
            below = sum(t < mine - 1e-9 for t in clamped)
            same = sum(abs(t - mine) < 1e-9 for t in clamped)
            expected = round(100 * (below + 0.5 * same) / len(thetas))
            assert results._percentile(connection, assessment, theta, 30) == (
                expected,
                len(thetas),
            ), theta
        assert results._percentile(connection, assessment, 0.0, 1000) == (None, len(thetas))
    assert results.distribution_bucket(-0.005) == -1 and results.distribution_bucket(0.005) == 1


def test_the_bank_is_read_once_per_version(idle_live: ThreadServer) -> None:
    ctx = idle_live.ctx
    with ctx.reader.connect() as connection:
        first = cached_items(ctx, connection)
        assert cached_items(ctx, connection) is first  # same version: no re-read
    with ctx.engine.begin() as connection:
        some = next(iter(first))
        connection.execute(db.items.update().where(db.items.c.id == some).values(a=1.234))
        bump_version(connection)
    with ctx.reader.connect() as connection:
        again = cached_items(ctx, connection)
    assert again is not first and again[some].a == pytest.approx(1.234)


def test_health_ready_metrics_and_request_ids(
    live: ThreadServer, make_engine: Any, caplog: pytest.LogCaptureFixture
) -> None:
    assert requests.get(live.url + "/health", timeout=5).json() == {"status": "ok"}
    ready = requests.get(live.url + "/ready", timeout=5)
    assert ready.status_code == 200
    assert ready.json()["database"] == ready.json()["queue"] == "ok"
    mine = requests.get(live.url + "/health", headers={"X-Request-ID": "proxy-abc-123"}, timeout=5)
    assert mine.headers["x-request-id"] == "proxy-abc-123"
    odd = requests.get(live.url + "/health", headers={"X-Request-ID": "x\ty"}, timeout=5)
    assert odd.headers["x-request-id"] != "x\ty" and len(odd.headers["x-request-id"]) == 32
    engine, submission_id = sealed(make_engine, live)
    scored_before = metrics.SUBMISSIONS_SCORED._value.get()
    with caplog.at_level(logging.INFO, logger="examgate.access"):
        [delivered] = engine.sync()
        code = delivered.result["verification_code"]
        requests.get(f"{live.url}/verify/{code}", timeout=5)
    text = requests.get(live.url + "/metrics", timeout=5).text
    assert f"examgate_submissions_scored_total {scored_before + 1}" in text
    assert (
        'examgate_request_seconds_count{method="POST",route="/api/v1/submissions",status="200"}'
        in text
    )
    assert 'route="/verify/{code}"' in text and code not in text
    assert 'examgate_jobs_pending{task="certify"}' in text
    logged = [r for r in caplog.records if r.name == "examgate.access"]
    assert logged and all(code not in r.getMessage() for r in logged)
    assert all(submission_id not in r.getMessage() for r in logged)


def test_json_log_lines_carry_the_request_id_and_no_codes() -> None:
    from server import logs

    record = logging.makeLogRecord(
        {"name": "examgate.access", "levelno": 20, "levelname": "INFO", "msg": "GET %s 200",
         "args": ("/verify/{code}",), "route": "/verify/{code}", "status": 200}
    )  # fmt: skip
    token = logs.request_id.set("rid-0001")
    try:
        line = json.loads(logs.JsonFormatter().format(record))
    finally:
        logs.request_id.reset(token)
    assert line["request_id"] == "rid-0001" and line["route"] == "/verify/{code}"
    assert line["message"] == "GET /verify/{code} 200" and line["level"] == "info"


def test_ready_says_503_when_the_database_is_gone(idle_live: ThreadServer) -> None:
    from sqlalchemy import create_engine

    ctx = idle_live.ctx
    reader = ctx.reader
    ctx.reader = create_engine("sqlite:////nonexistent-folder/examgate.db")
    try:
        answer = requests.get(idle_live.url + "/ready", timeout=5)
        assert requests.get(idle_live.url + "/health", timeout=5).status_code == 200
    finally:
        ctx.reader.dispose()
        ctx.reader = reader
    assert answer.status_code == 503 and answer.json()["status"] == "unavailable"
    assert answer.json()["database"].startswith("unreachable")


@pytest.mark.postgres
def test_a_procrastinate_job_whose_worker_died_is_run_again(
    tmp_path: Any, make_engine: Any
) -> None:
    """A worker killed mid-job leaves its job "doing" with no live worker behind it: the next
    worker queues it again (Procrastinate's stalled-job check) and the certificate appears."""
    from server.provision import initialise
    from server.settings import Settings
    from tests.conftest import postgres_database

    with postgres_database() as url:
        settings = Settings(data_dir=tmp_path / "s", database_url=url)
        initialise(settings)
        with ThreadServer(Context.open(settings), run_jobs=False) as idle:
            engine, submission_id = sealed(make_engine, idle)
            engine.sync()
            ctx = idle.ctx
            with ctx.engine.begin() as connection:  # as a SIGKILLed worker leaves it
                stranded = connection.exec_driver_sql(
                    "UPDATE procrastinate_jobs SET status = 'doing', worker_id = NULL "
                    "WHERE task_name = 'certify' RETURNING id"
                ).all()
            assert len(stranded) == 1
            assert engine.api().certificate(submission_id) == 1.0  # still waiting
            worker = jobs.ProcrastinateWorker(ctx).start()
            try:
                assert engine.certificate_pdf(submission_id, wait_s=30).startswith(b"%PDF")
            finally:
                worker.stop()
            with ctx.reader.connect() as connection:
                status = connection.exec_driver_sql(
                    "SELECT status FROM procrastinate_jobs WHERE id = %(id)s",
                    {"id": stranded[0][0]},
                ).scalar_one()
            assert status == "succeeded"


def test_a_job_in_the_app_process_waits_for_a_quiet_moment_but_not_for_ever() -> None:
    """A burst is answered first: a job starts once no request has been in flight for a
    quarter second; with requests always in flight, after the longest wait."""
    import threading
    import time

    jobs.request_started()
    jobs.request_finished()  # a request just ended: not quiet yet
    started = time.monotonic()
    jobs.yield_to_requests(max_wait_s=5)
    waited = time.monotonic() - started
    assert jobs.QUIET_S * 0.8 <= waited < 5
    jobs.request_started()  # one request stays in flight
    try:
        started = time.monotonic()
        jobs.yield_to_requests(max_wait_s=0.5)
        assert time.monotonic() - started >= 0.45  # the longest wait, then it goes ahead
        stop = threading.Event()

        def stopping() -> None:  # as TableWorker.stop does
            stop.set()
            jobs._wake_all()

        threading.Timer(0.2, stopping).start()
        started = time.monotonic()
        jobs.yield_to_requests(max_wait_s=5, stopping=stop)
        assert time.monotonic() - started < 4  # a stopping worker does not wait on
    finally:
        jobs.request_finished()
