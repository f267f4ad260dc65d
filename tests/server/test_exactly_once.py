"""Exactly once on the server: atomic scoring, idempotency-key rules, late sync, hand-in files,
and rollback seen through checkpoints. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
import requests

from client.errors import ServerRefused
from server import db, jobs, results
from tests.conftest import ThreadServer, venv_bin
from tests.helpers import count, queued, sit, stored_document
from tests.security.attacker import answer_rest, begin, post, reasons

DAY_MS = 86_400_000


def shift(server: ThreadServer, ms: int, *engines: Any) -> None:
    now = server.ctx.now_ms
    server.ctx.now_ms = lambda: now() + ms
    for engine in engines:
        engine.request_clock = server.ctx.now_ms


def test_a_failure_after_the_writes_leaves_nothing_half_written(
    live: ThreadServer, make_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine()
    submission_id = engine.seal(sit(engine, live.url, live.invite()))
    defer = jobs.defer
    failures = [RuntimeError("the disk went away")]

    def fail_once(connection: Any, name: str, key: str) -> None:
        defer(connection, name, key)  # the certificate job is written, then the disk goes
        if failures and name == "certify":
            raise failures.pop()

    monkeypatch.setattr(jobs, "defer", fail_once)
    document = stored_document(engine, submission_id).encode()
    response = post(live, engine, "/submissions", document)
    assert response.status_code == 500
    assert "changed nothing" in response.json()["message"]
    for table in ("submissions", "results", "idempotency"):
        assert count(live.ctx, table) == 0, table
    assert queued(live.ctx, "certify", every=True) == 0  # no job for a result never stored
    [delivered] = engine.sync()  # the repeat is scored, once
    assert delivered.submission_id == submission_id
    assert count(live.ctx, "submissions") == count(live.ctx, "results") == 1


def test_the_same_id_and_body_get_the_identical_answer(
    live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    submission_id = engine.seal(sit(engine, live.url, live.invite()))
    document = stored_document(engine, submission_id).encode()
    first = post(live, engine, "/submissions", document).json()
    again = post(live, engine, "/submissions", document).json()
    assert first["result"] == again["result"]
    assert first["receipt"]["body"] == again["receipt"]["body"]
    assert count(live.ctx, "submissions") == 1


def test_a_duplicate_while_the_first_is_in_flight_is_a_409(
    live: ThreadServer, make_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine()
    submission_id = engine.seal(sit(engine, live.url, live.invite()))
    document = stored_document(engine, submission_id).encode()
    inside, release = threading.Event(), threading.Event()
    score = results.score

    def slow_score(*args: Any, **kwargs: Any) -> Any:  # the first request is held in scoring
        inside.set()
        release.wait(30)
        return score(*args, **kwargs)

    monkeypatch.setattr(results, "score", slow_score)
    first: list[requests.Response] = []
    worker = threading.Thread(
        target=lambda: first.append(post(live, engine, "/submissions", document))
    )
    worker.start()
    assert inside.wait(30)
    duplicate = post(live, engine, "/submissions", document)
    release.set()
    worker.join(30)
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "in_flight"
    assert duplicate.headers["Retry-After"] == "2"
    assert first[0].status_code == 200
    assert (
        post(live, engine, "/submissions", document).json()["result"] == first[0].json()["result"]
    )
    assert count(live.ctx, "submissions") == count(live.ctx, "results") == 1


def test_a_claim_abandoned_by_a_dead_worker_is_taken_over(
    live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    submission_id = engine.seal(sit(engine, live.url, live.invite()))
    document = stored_document(engine, submission_id).encode()
    import hashlib

    from shared import canonical

    digest = hashlib.sha256(canonical.dumps(json.loads(document))).hexdigest()
    with live.ctx.engine.begin() as connection:  # a worker claimed it and was killed
        connection.execute(
            db.idempotency.insert().values(
                key=submission_id,
                device_id=engine.enrolment().device_id,
                body_sha256=digest,
                state="processing",
                started_ms=live.ctx.now_ms(),
            )
        )
    assert post(live, engine, "/submissions", document).status_code == 409
    shift(live, results.CLAIM_STALE_MS + 1_000)
    assert post(live, engine, "/submissions", document).status_code == 200
    assert count(live.ctx, "submissions") == 1


def test_late_sync_is_judged_by_the_sealing_and_refused_after_the_deadline(
    live: ThreadServer, make_engine: Any
) -> None:
    early, late = make_engine("early"), make_engine("late")
    now = live.ctx.now_ms()
    for engine in (early, late):
        invitation = live.invite(offline=True, closes_ms=now + 3_600_000)
        session = begin(engine, live, invitation)
        answer_rest(session)
        engine.seal(session)
    shift(live, 3 * DAY_MS, early)  # handed in three days later: within the 7-day deadline
    [delivered] = early.sync()
    assert "late_submission" not in reasons(delivered.result)
    assert delivered.result["integrity"]["outcome"] == "clean"
    shift(live, 5 * DAY_MS, late)  # eight days after the window closed
    with pytest.raises(ServerRefused) as refused:
        late.sync()
    assert refused.value.code == "sync_deadline_passed"
    assert "last day to hand it in" in str(refused.value)
    [status] = late.outbox.statuses()
    assert status.state == "failed" and "last day to hand it in" in str(status.last_error)
    assert late.outbox.pending() == []  # not retried for ever, and not lost: it can be exported


def test_a_hand_in_file_is_scored_once_whoever_delivers_it(
    live: ThreadServer, make_engine: Any, tmp_path: Path
) -> None:
    engine = make_engine()
    invitation = live.invite(offline=True, candidate="Grace Hopper")
    session = sit(engine, live.url, invitation)
    submission_id = engine.seal(session)
    path = engine.export_submission(submission_id, tmp_path / "usb")
    text = path.read_text()
    for secret in ("Grace", submission_id, session.items[0].id, session.items[0].options[0].id):
        assert secret not in text  # the carrier learns nothing
    done = subprocess.run(
        [
            venv_bin("examgate-server"),
            "import-submissions",
            "--data",
            str(live.ctx.settings.data_dir),
            "--database",
            live.ctx.settings.database_url,
            str(path),
            str(path),  # the same file twice: answered alike, counted once
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("received: submission") == 2
    assert count(live.ctx, "submissions") == count(live.ctx, "results") == 1
    [delivered] = engine.sync()  # the client, back online, gets the same answer and receipt
    assert delivered.submission_id == submission_id
    assert count(live.ctx, "submissions") == 1
    over_http = requests.post(live.url + "/api/v1/hand-ins", data=path.read_bytes(), timeout=30)
    assert over_http.status_code == 200
    assert over_http.json()["submission_id"] == submission_id
    assert "result" not in over_http.json()  # whoever carries the file does not see the result


def test_a_damaged_or_misdirected_hand_in_file_is_refused(
    live: ThreadServer, make_engine: Any, tmp_path: Path
) -> None:
    engine = make_engine()
    submission_id = engine.seal(sit(engine, live.url, live.invite(offline=True)))
    path = engine.export_submission(submission_id, tmp_path)
    envelope = json.loads(path.read_text())
    damaged = dict(envelope, ciphertext=envelope["ciphertext"][:-8] + "AAAAAAAA")
    elsewhere = dict(envelope, server="0000 0000 0000 0000")
    for body, status, words in (
        (damaged, 400, "changed since"),
        (elsewhere, 409, "another examgate server"),
        ({"format": "nonsense"}, 400, "not an examgate hand-in file"),
    ):
        response = requests.post(live.url + "/api/v1/hand-ins", data=json.dumps(body), timeout=30)
        assert response.status_code == status and words in response.json()["message"]
    assert count(live.ctx, "submissions") == 0


def test_a_journal_restored_from_an_older_copy_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any, tmp_path: Path
) -> None:
    engine = make_engine()
    invitation = sqlite_live.invite()
    session = begin(engine, sqlite_live, invitation)
    engine.checkpoint(session)
    database = engine.settings.database
    engine.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(database, tmp_path / "copy.db")  # the candidate keeps a copy here
    for _ in range(3):
        assert session.current is not None
        session.answer([session.current.options[1].id])
        session.advance()
    engine.checkpoint(session)  # the server sees the sitting at this point
    engine.close()
    shutil.copy(tmp_path / "copy.db", database)  # ...and puts the old copy back
    for suffix in ("-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    again = make_engine()
    restored = again.unlock(session.sitting_id, again.release_code(session.sitting_id))
    assert restored.index == 0  # the client is fooled: back at the first question
    again.checkpoint(restored)  # an earlier point than the server saw
    answer_rest(restored)
    again.seal(restored)
    [delivered] = again.sync()
    assert "rollback" in reasons(delivered.result)
