"""The outbox over real HTTP: a server that is down, then up; repeats never double-count."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from client.errors import ServerUnreachable
from server.context import Context
from server.settings import Settings
from tests.conftest import Templates, ThreadServer, free_port
from tests.helpers import count, sit


def test_upload_waits_out_a_dead_server_with_jittered_backoff(
    tmp_path: Path, make_engine: Any, templates: Templates
) -> None:
    settings = Settings(tmp_path / "srv", f"sqlite:///{tmp_path / 'srv.db'}")
    templates.initialise(settings)
    engine = make_engine()
    with ThreadServer(Context.open(settings)) as server:
        session = sit(engine, server.url, server.invite())
        port = server.port
    submission_id = engine.seal(session)
    assert engine.outbox.pending() == [submission_id]

    waits: list[float] = []
    restarted: list[ThreadServer] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # the server comes back after the second failure
            replacement = ThreadServer(Context.open(settings))
            replacement.port, replacement.url = port, f"http://127.0.0.1:{port}"
            replacement.server.config.port = port
            restarted.append(replacement.__enter__())

    try:
        delivered = engine.sync(attempts=5, sleep=sleep, rng=random.Random(3))
    finally:
        for running in restarted:
            running.__exit__(None, None, None)
    assert [d.submission_id for d in delivered] == [submission_id]
    assert len(waits) == 2 and 0 <= waits[0] <= 1 and 0 <= waits[1] <= 2
    entry = engine.outbox.entry(submission_id)
    assert entry is not None and entry["attempts"] == 2 and entry["receipt"] is not None
    assert engine.outbox.pending() == []


def test_nothing_is_lost_when_every_attempt_fails(
    tmp_path: Path, make_engine: Any, templates: Templates
) -> None:
    settings = Settings(tmp_path / "srv", f"sqlite:///{tmp_path / 'srv.db'}")
    templates.initialise(settings)
    engine = make_engine()
    with ThreadServer(Context.open(settings)) as server:
        session = sit(engine, server.url, server.invite())
    submission_id = engine.seal(session)
    with pytest.raises(ServerUnreachable) as error:
        engine.sync(attempts=3, sleep=lambda _s: None)
    assert "cannot be reached" in str(error.value)
    assert engine.outbox.pending() == [submission_id]
    assert engine.seal(session) == submission_id  # sealing again changes nothing


def test_a_lost_acknowledgement_is_answered_by_the_repeat(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    session = sit(engine, sqlite_live.url, sqlite_live.invite())
    submission_id = engine.seal(session)
    # The server stores the upload, but the answer never reaches the client.
    from tests.helpers import stored_document

    engine.api().submit(stored_document(engine, submission_id).encode())
    assert engine.outbox.pending() == [submission_id]
    [delivered] = engine.sync()
    assert delivered.submission_id == submission_id
    assert count(sqlite_live.ctx, "submissions") == 1 and count(sqlite_live.ctx, "results") == 1


def test_unused_port_is_unreachable_not_a_crash(make_engine: Any) -> None:
    engine = make_engine()
    with pytest.raises(ServerUnreachable):
        engine.enrol(f"http://127.0.0.1:{free_port()}", "AAAA-BBBB-CCCC-DDDD")
