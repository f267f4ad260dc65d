"""Attacks on the evidence: the journal edited between runs (a lock removed, an answer changed,
the time reset), a truncated log, a stripped and re-chained log, a log forged whole, crafted
events and timings. Each is refused, or scored and flagged with its named reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from client.engine import Engine
from server import db
from shared import crypto, events
from shared.errors import Tampered
from tests.conftest import ThreadServer
from tests.helpers import count, stored_document
from tests.security.attacker import (
    answer_rest,
    begin,
    forged_submission,
    observe,
    post,
    read_journal,
    reasons,
    rewrite_journal,
    submit,
)

LOCK_ON_PROGRAM = {"rules": {"program_found": {"action": "lock"}}}


def set_policy(server: ThreadServer, policy: dict[str, Any]) -> None:
    with server.ctx.engine.begin() as connection:
        connection.execute(db.assessments.update().values(policy=json.dumps(policy)))


def restart(engine: Engine, sitting_id: str, code: str) -> Any:
    """The candidate starts the client again: the session is rebuilt from the journal."""
    return engine.unlock(sitting_id, code)


def test_an_untouched_sitting_driven_like_the_window_is_clean(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite(offline=True))
    answer_rest(session)
    result = submit(engine, session)
    assert result["integrity"]["outcome"] == "clean", result["integrity"]["flags"]


def test_removing_a_lock_between_runs_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    set_policy(sqlite_live, LOCK_ON_PROGRAM)
    engine = make_engine()
    invitation = sqlite_live.invite(offline=True)
    session = begin(engine, sqlite_live, invitation)
    observe(session, "program_found", {"name": "anydesk", "pid": 7})
    assert session.locked
    log, _ = read_journal(engine, session.sitting_id)  # killed; the candidate edits the journal
    rewrite_journal(engine, session.sitting_id, [e for e in log if e["type"] != "locked"])
    again = restart(engine, session.sitting_id, invitation["unlock_code"])
    assert not again.locked  # the client believes the edited journal...
    answer_rest(again)
    found = reasons(submit(engine, again))
    assert {"journal_rewritten", "lock_missing"} <= found  # ...the server does not


def test_changing_an_answer_between_runs_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    invitation = sqlite_live.invite(offline=True)
    session = begin(engine, sqlite_live, invitation)
    for _ in range(3):
        assert session.current is not None
        session.answer([session.current.options[0].id])
        session.advance()
    log, _ = read_journal(engine, session.sitting_id)
    first = next(e for e in log if e["type"] == "answer")
    item = next(i for i in session.items if i.id == first["data"]["item"])
    first["data"]["options"] = [item.options[2].id]  # looked it up meanwhile
    rewrite_journal(engine, session.sitting_id, log)
    again = restart(engine, session.sitting_id, invitation["unlock_code"])
    answer_rest(again)
    assert "journal_rewritten" in reasons(submit(engine, again))


def test_resetting_the_time_between_runs_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any, clock: Any
) -> None:
    engine = make_engine()
    invitation = sqlite_live.invite(offline=True)
    session = begin(engine, sqlite_live, invitation)
    clock.advance(400_000)
    session.tick()
    log, _ = read_journal(engine, session.sitting_id)
    for event in log:
        event["elapsed_ms"] = 0  # as if the sitting had just begun
    rewrite_journal(engine, session.sitting_id, log)
    again = restart(engine, session.sitting_id, invitation["unlock_code"])
    assert again.remaining_ms() == 480_000  # the client is fooled
    clock.advance(300_000)  # and the candidate takes 5 more minutes
    answer_rest(again)
    assert {"journal_rewritten", "over_time"} <= reasons(submit(engine, again))


def test_a_stripped_and_re_chained_log_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    invitation = sqlite_live.invite(offline=True)
    session = begin(engine, sqlite_live, invitation)
    for _ in range(2):
        observe(session, "focus_lost", {"source": "window", "count": 1})
        observe(session, "focus_returned", {"source": "window"})
    log, _ = read_journal(engine, session.sitting_id)
    stripped = [e for e in log if not e["type"].startswith("focus")]
    rewrite_journal(engine, session.sitting_id, stripped)
    again = restart(engine, session.sitting_id, invitation["unlock_code"])
    answer_rest(again)
    result = submit(engine, again)
    assert "journal_rewritten" in reasons(result)
    assert result["integrity"]["focus_losses"] == 0  # what is left says nothing; the flag does


def test_a_journal_edited_without_the_keys_does_not_open(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    invitation = sqlite_live.invite(offline=True)
    session = begin(engine, sqlite_live, invitation)
    engine.db.execute("DELETE FROM journal WHERE sitting_id = ? AND seq = 2", (session.sitting_id,))
    with pytest.raises(Tampered, match="changed or damaged"):
        restart(engine, session.sitting_id, invitation["unlock_code"])
    row = engine.db.execute("SELECT event FROM journal LIMIT 1").fetchone()[0]
    assert '"type"' not in row  # encrypted at rest: nothing to read or edit in place


def test_a_log_truncated_before_a_focus_loss_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite(offline=True))
    assert session.current is not None
    session.answer([session.current.options[0].id])
    cut = len(session.journal.events)
    observe(session, "focus_lost", {"source": "window", "count": 1})
    log = session.journal.events[:cut]  # everything up to the focus loss, and no end
    body = forged_submission(
        engine, session, log, responses=session.responses(), end_reason="finished"
    )
    response = post(sqlite_live, engine, "/submissions", body)
    assert response.status_code == 200
    assert "log_incomplete" in reasons(response.json()["result"])


def test_a_log_forged_whole_for_an_online_sitting_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    """A patched client with its own chain key: the server holds the one given at the start."""
    victim = make_engine()
    session = begin(victim, sqlite_live, sqlite_live.invite())
    answer_rest(session)
    document = json.loads(
        stored_document(victim, victim.seal(session))
    )  # the honest log, as a template for the forgery
    ephemeral = crypto.generate_kex_key()
    chain_public = crypto.b64encode(crypto.public_bytes(ephemeral))
    first_key = crypto.shared_key(
        ephemeral, sqlite_live.ctx.kex_public, events.CHAIN_INFO + session.sitting_id.encode()
    )
    prev, key, forged = events.genesis(session.sitting_id), first_key, []
    for seq, event in enumerate(document["body"]["events"]):
        fields = {k: v for k, v in event.items() if k not in ("seq", "prev", "hash", "mac")}
        linked = events.link(prev, seq, fields, key)
        forged.append(linked)
        prev, key = linked["hash"], events.next_key(key)
    body = forged_submission(
        victim,
        session,
        forged,
        chain_public=chain_public,
        responses=document["body"]["responses"],
    )
    response = post(sqlite_live, victim, "/submissions", body)
    assert response.status_code == 200
    found = reasons(response.json()["result"])
    assert "chain_not_committed" in found and "journal_rewritten" not in found


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("focus_returned", {"source": "window", "away_ms": "abc"}, "data"),
        ("focus_returned", "away", "data"),
        ("focus_returned", ["x"], "data"),
        ("health_check", {"checks": ["x"]}, "checks"),
        ("focus_lost", {"source": "window", "count": -1}, "count"),
    ],
)
def test_each_crafted_event_is_a_400_naming_what_is_wrong(
    sqlite_live: ThreadServer, make_engine: Any, kind: str, data: Any, field: str
) -> None:
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite(offline=True))
    log = session.journal.events
    log.insert(1, dict(log[0], type=kind, data=data))
    body = forged_submission(engine, session, log)
    response = post(sqlite_live, engine, "/submissions", body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "malformed" and f"'{field}'" in response.json()["message"]
    assert count(sqlite_live.ctx, "submissions") == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("elapsed_ms", -30_000), ("elapsed_ms", 10**12), ("at_ms", "yesterday"), ("mono_ms", None)],
)
def test_bad_timings_are_refused(
    sqlite_live: ThreadServer, make_engine: Any, field: str, value: Any
) -> None:
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite(offline=True))
    log = session.journal.events
    log[1][field] = value
    body = forged_submission(engine, session, log)
    response = post(sqlite_live, engine, "/submissions", body)
    assert response.status_code == 400 and f"'{field}'" in response.json()["message"]
    forged_timing = forged_submission(
        engine, session, session.journal.events, timing={"elapsed_ms": "3 s"}
    )
    assert post(sqlite_live, engine, "/submissions", forged_timing).status_code == 400
    assert count(sqlite_live.ctx, "submissions") == 0


def test_time_away_cannot_be_cancelled_out(
    sqlite_live: ThreadServer, make_engine: Any, clock: Any
) -> None:
    """Away 40 s: the client's own figures (+40 s, then -40 s) no longer exist; the times do."""
    set_policy(sqlite_live, {"rules": {"focus_lost": {"action": "warn", "lock_after_away_s": 30}}})
    engine = make_engine()
    invitation = sqlite_live.invite(offline=True)
    session = begin(engine, sqlite_live, invitation)
    observe(session, "focus_lost", {"source": "window", "count": 1})
    clock.advance(40_000)
    session.record("focus_returned", {"source": "window"})  # a patched client skips the lock
    answer_rest(session)
    result = submit(engine, session)
    assert result["integrity"]["time_away_ms"] == 40_000
    assert "lock_missing" in reasons(result)


def test_a_proctor_code_heard_once_and_reused_for_a_later_lock_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    from server.invitations import proctor_code

    set_policy(sqlite_live, LOCK_ON_PROGRAM)
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite(offline=True))
    observe(session, "program_found", {"name": "anydesk", "pid": 7})
    first = session.lock_challenge
    assert first is not None
    heard = proctor_code(sqlite_live.ctx, session.sitting_id, first)  # the proctor reads it out
    assert session.try_unlock(heard).outcome == "accepted"
    # A patched client locks again with the first challenge, so the code it heard fits again.
    session.record("program_found", {"name": "anydesk", "pid": 7})
    session.record("locked", {"reason": "program_found", "challenge": first, "index": 0})
    session.record("unlocked", {"challenge": first, "response": heard, "index": 0})
    answer_rest(session)
    assert "unlock_invalid" in reasons(submit(engine, session))
