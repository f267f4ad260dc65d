"""An end-of-exam burst: past the inline limit an upload is verified, stored and receipted at
once (202) and scored by the ``score`` job; the device then asks for its result. Exactly once
either way, on SQLite and PostgreSQL, over real HTTP."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
import requests

from client.errors import ServerRefused
from server import db, results
from shared.models import LEVELS
from tests.conftest import ThreadServer
from tests.helpers import count, queued, run_queued, sealed, signed_headers, sit, stored_document
from tests.security.attacker import answer_rest, begin, forged_submission, post
from tests.server.test_exactly_once import DAY_MS, shift


def under_load(server: ThreadServer) -> None:
    """Every upload counts as one past the limit (as in a burst)."""
    server.ctx.settings = dataclasses.replace(server.ctx.settings, score_inline_limit=0)


def get(server: ThreadServer, engine: Any, route: str) -> requests.Response:
    target = "/api/v1" + route
    device = engine.enrolment().device_id
    headers = signed_headers(device, engine.keys.signing, "GET", target, b"")
    return requests.get(server.url + target, headers=headers, timeout=30)


def test_an_upload_under_load_is_receipted_at_once_and_scored_by_the_job(
    idle_live: ThreadServer, make_engine: Any
) -> None:
    under_load(idle_live)
    engine, submission_id = sealed(make_engine, idle_live)
    [delivered] = engine.sync(result_wait_s=0)
    assert delivered.submission_id == submission_id and delivered.result is None
    [status] = engine.outbox.statuses()
    assert status.state == "scoring" and status.received_ms is not None  # the receipt is kept
    assert count(idle_live.ctx, "submissions") == 1 and count(idle_live.ctx, "results") == 0
    assert queued(idle_live.ctx, "score", submission_id) == 1
    asked = get(idle_live, engine, f"/results/{submission_id}")
    assert asked.status_code == 202 and asked.headers["Retry-After"].isdigit()
    assert asked.json()["status"] == "pending"
    pdf = get(idle_live, engine, f"/results/{submission_id}/certificate")
    assert pdf.status_code == 202  # no result yet, so no certificate yet: not a 500

    while run_queued(idle_live.ctx):  # the score job (first: it has priority), then certify
        pass
    assert count(idle_live.ctx, "results") == 1
    [scored] = engine.sync(result_wait_s=5, sleep=lambda _s: None)
    assert scored.submission_id == submission_id and scored.result is not None
    assert scored.result["overall"] in LEVELS
    assert engine.outbox.statuses()[0].state == "received"
    assert engine.result(submission_id) == scored.result
    # A repeat of the upload now gets the result, with the receipt first given.
    again = post(idle_live, engine, "/submissions", stored_document(engine, submission_id).encode())
    assert again.status_code == 200
    assert again.json()["receipt"]["body"] == engine.outbox.entry(submission_id)["receipt"]["body"]
    assert again.json()["result"]["verification_code"] == scored.result["verification_code"]
    assert get(idle_live, engine, f"/results/{submission_id}/certificate").status_code == 200


def test_a_repeat_and_a_job_run_twice_still_score_once(
    idle_live: ThreadServer, make_engine: Any
) -> None:
    under_load(idle_live)
    engine, submission_id = sealed(make_engine, idle_live)
    document = stored_document(engine, submission_id).encode()
    first = post(idle_live, engine, "/submissions", document)
    repeat = post(idle_live, engine, "/submissions", document)
    assert first.status_code == repeat.status_code == 202
    assert first.json()["receipt"]["body"] == repeat.json()["receipt"]["body"]
    results.score_received(idle_live.ctx, submission_id)
    results.score_received(idle_live.ctx, submission_id)  # a retried job: nothing more
    assert count(idle_live.ctx, "results") == 1
    with idle_live.ctx.reader.connect() as connection:
        counted = connection.execute(
            db.result_distribution.select().with_only_columns(db.result_distribution.c.count)
        ).scalars()
        assert sum(counted) == 1
        result_id = connection.execute(db.results.select()).mappings().one()["id"]
    assert result_id == first.json()["receipt"]["body"]["result_id"]  # as the receipt named it
    assert queued(idle_live.ctx, "certify", result_id, every=True) == 1


def test_what_scoring_refuses_after_the_receipt_is_told_to_the_device(
    idle_live: ThreadServer, make_engine: Any
) -> None:
    """A submission signed by its device whose log does not bear its responses out passes the
    checks made before the receipt; scoring refuses it, and the device learns why."""
    under_load(idle_live)
    engine = make_engine()
    session = begin(engine, idle_live, idle_live.invite(offline=True))
    assert session.current is not None
    session.answer([session.current.options[0].id])
    body = forged_submission(engine, session, session.journal.events, responses=[])
    submission_id = engine.outbox.put(session.sitting_id, json.loads(body))
    [received] = engine.sync(result_wait_s=0)
    assert received.submission_id == submission_id and received.result is None
    run_queued(idle_live.ctx)
    assert count(idle_live.ctx, "results") == 0
    refused = get(idle_live, engine, f"/results/{submission_id}")
    assert refused.status_code == 400 and refused.json()["error"] == "malformed"
    assert "do not match" in refused.json()["message"]
    again = post(idle_live, engine, "/submissions", body)  # a repeat is told the same
    assert again.status_code == 400 and again.json()["message"] == refused.json()["message"]
    engine.sync(result_wait_s=5, sleep=lambda _s: None)  # the device asks, and is told why
    [status] = engine.outbox.statuses()
    assert status.state == "failed" and "do not match" in (status.last_error or "")


def test_below_the_limit_an_upload_is_scored_before_it_is_answered(
    idle_live: ThreadServer, make_engine: Any
) -> None:
    # The default limit: one upload at a time is scored inline.
    engine, submission_id = sealed(make_engine, idle_live)
    response = post(
        idle_live, engine, "/submissions", stored_document(engine, submission_id).encode()
    )
    assert response.status_code == 200 and response.json()["result"]["overall"]
    assert queued(idle_live.ctx, "score", every=True) == 0


def test_a_submission_not_yet_scored_feeds_no_item_times(
    idle_live: ThreadServer, make_engine: Any
) -> None:
    """Stored before it is verified, so its log is not yet evidence of anything."""
    from server.bank.responses import stored_times

    under_load(idle_live)
    engine = make_engine()
    session = sit(engine, idle_live.url, idle_live.invite())
    engine.seal(session)
    engine.sync(result_wait_s=0)
    with idle_live.ctx.reader.connect() as connection:
        assert not [row for row in stored_times(connection) if row[0] == session.sitting_id]
    while run_queued(idle_live.ctx):
        pass
    with idle_live.ctx.reader.connect() as connection:
        assert [row for row in stored_times(connection) if row[0] == session.sitting_id]


def test_a_devices_polling_for_its_result_holds_no_job_back() -> None:
    from server.app import _polling

    def scope(method: str, path: str) -> dict[str, Any]:
        return {"method": method, "path": path}

    assert _polling(scope("GET", "/api/v1/results/abc"))
    assert _polling(scope("GET", "/api/v1/results/abc/certificate"))
    assert _polling(scope("GET", "/ready"))
    assert not _polling(scope("POST", "/api/v1/submissions"))
    assert not _polling(scope("POST", "/api/v1/results/abc/shares"))


def test_a_late_upload_under_load_is_refused_before_any_receipt(
    live: ThreadServer, make_engine: Any
) -> None:
    """The last day to hand in (the assessment's, read with the sitting) is checked before a
    receipt: a sitting sealed offline and uploaded eight days after its window closed gets the
    sentence at once, and nothing is stored or queued."""
    under_load(live)
    engine = make_engine()
    invitation = live.invite(offline=True, closes_ms=live.ctx.now_ms() + 3_600_000)
    session = begin(engine, live, invitation)
    answer_rest(session)
    submission_id = engine.seal(session)
    shift(live, 8 * DAY_MS, engine)
    with pytest.raises(ServerRefused) as refused:
        engine.sync(result_wait_s=0)
    assert refused.value.code == "sync_deadline_passed"
    assert "last day to hand it in" in str(refused.value)
    assert count(live.ctx, "submissions") == 0
    assert queued(live.ctx, "score", submission_id) == 0
