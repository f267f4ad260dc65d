"""Attacks and false alarms an independent review found, each now defended: a log re-keyed
whole (offline, or from the first key copied at the start), a proctor code reused for a later
lock, crafted values that made the server fail, item parameters in the result, and honest
sittings that were flagged (a wall clock stepped by NTP, an upload after a network drop)."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import requests

from server.invitations import proctor_code
from shared import canonical, crypto, events
from shared.protocol import enrol_transcript
from tests.conftest import ManualClock, ThreadServer
from tests.security.attacker import (
    answer_rest,
    begin,
    forged_submission,
    observe,
    post,
    read_journal,
    reasons,
    submit,
)
from tests.security.test_evidence import LOCK_ON_PROGRAM, set_policy
from tests.security.test_time import shift_server_clock

CHEATING = {"focus_lost", "focus_returned", "program_found", "locked", "clipboard_used"}


def rechain(log: list[dict[str, Any]], sitting_id: str, first_key: bytes) -> list[dict[str, Any]]:
    prev, key, out = events.genesis(sitting_id), first_key, []
    for seq, event in enumerate(log):
        fields = {k: v for k, v in event.items() if k not in ("seq", "prev", "hash", "mac")}
        linked = events.link(prev, seq, fields, key)
        out.append(linked)
        prev, key = linked["hash"], events.next_key(key)
    return out


def responses_of(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answers: dict[str, list[str]] = {}
    for event in log:
        if event["type"] == "answer":
            answers[event["data"]["item"]] = event["data"]["options"]
    return [{"item": i, "options": o} for i, o in answers.items() if o]


def misbehave(session: Any, clock: ManualClock) -> None:
    """The honest client records leaving, the clipboard and a remote-desktop tool (a lock);
    a patched client then carries on past the lock."""
    assert session.current is not None
    session.answer([session.current.options[0].id])
    observe(session, "focus_lost", {"source": "window", "count": 1})
    clock.advance(25_000)
    observe(session, "focus_returned", {"source": "window"})
    observe(session, "clipboard_used", {"formats": ["text/plain"]})
    observe(session, "program_found", {"name": "anydesk", "pid": 7})
    assert session.locked
    session._locked, session.lock_challenge = False, None
    answer_rest(session)


def test_an_offline_log_re_keyed_whole_after_the_sitting_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite(offline=True))
    misbehave(session, clock)
    log = [e for e in session.journal.events if e["type"] not in CHEATING]
    header = engine.header(session.sitting_id)
    ephemeral = crypto.generate_kex_key()  # a chain key of the candidate's own
    first_key = crypto.shared_key(
        ephemeral,
        crypto.b64decode(header.server_kex_public),
        events.CHAIN_INFO + session.sitting_id.encode(),
    )
    forged = rechain(log, session.sitting_id, first_key)
    body = forged_submission(
        engine,
        session,
        forged,
        chain_public=crypto.b64encode(crypto.public_bytes(ephemeral)),
        responses=responses_of(forged),
    )
    response = post(sqlite_live, engine, "/submissions", body)
    assert response.status_code == 200
    assert "chain_not_committed" in reasons(response.json()["result"])


def test_the_first_chain_key_is_never_on_disk(
    sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    """Copying the key on disk the moment the chain begins gives the key for event 1, not 0."""
    engine = make_engine()
    invitation = sqlite_live.invite()
    sitting = engine.enrol(sqlite_live.url, invitation["invitation"])
    engine.download(sitting["id"])
    opened, key_on_disk = read_journal(engine, sitting["id"])
    assert [e["type"] for e in opened] == ["chain_opened"]
    session = engine.unlock(sitting["id"], engine.release_code(sitting["id"]))
    session.start()
    misbehave(session, clock)
    forged = rechain(
        [e for e in session.journal.events if e["type"] not in CHEATING],
        sitting["id"],
        key_on_disk,
    )
    body = forged_submission(engine, session, forged, responses=responses_of(forged))
    response = post(sqlite_live, engine, "/submissions", body)
    assert response.status_code == 200
    assert "journal_rewritten" in reasons(response.json()["result"])


def test_a_proctor_code_heard_once_does_not_lift_a_later_lock(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    set_policy(sqlite_live, LOCK_ON_PROGRAM)
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite(offline=True))
    observe(session, "program_found", {"name": "anydesk", "pid": 7})
    first = session.lock_challenge
    assert first is not None
    heard = proctor_code(sqlite_live.ctx, session.sitting_id, first)
    assert session.try_unlock(heard).outcome == "accepted"
    observe(session, "program_found", {"name": "anydesk", "pid": 7})
    assert session.locked and session.lock_challenge != first
    session.record("unlocked", {"challenge": first, "response": heard, "index": 0})
    session._locked, session.lock_challenge = False, None  # a patched client
    answer_rest(session)
    assert "unlock_invalid" in reasons(submit(engine, session))


def test_enrolment_with_a_low_order_key_is_refused_not_a_failure(
    sqlite_live: ThreadServer,
) -> None:
    signing = crypto.generate_signing_key()
    body = {
        "invitation": "ANY",
        "sign_public": crypto.b64encode(crypto.public_bytes(signing)),
        "kex_public": crypto.b64encode(bytes(32)),
        "device_name": "x",
        "timestamp": int(time.time() * 1000),
        "nonce": secrets.token_urlsafe(16),
    }
    body["signature"] = crypto.b64encode(signing.sign(enrol_transcript(body)))
    body["kex_proof"] = crypto.b64encode(bytes(32))
    response = requests.post(
        sqlite_live.url + "/api/v1/enrol", data=canonical.dumps(body), timeout=10
    )
    assert response.status_code == 400 and "not usable" in response.json()["message"]


def test_text_no_database_can_hold_is_a_400(live: ThreadServer, make_engine: Any) -> None:
    engine = make_engine()
    session = begin(engine, live, live.invite(offline=True))
    answer_rest(session)
    document = json.loads(
        forged_submission(engine, session, session.journal.events, responses=session.responses())
    )
    for bad in ("\ud800", "abc\x00"):
        document["body"]["sitting_id"] = bad
        response = post(live, engine, "/submissions", json.dumps(document).encode())
        assert response.status_code == 400, (bad, response.text)
    nul_nonce = {"invitation": "ANY", "nonce": "\x00" * 16}  # PostgreSQL text cannot hold NUL
    response = requests.post(live.url + "/api/v1/enrol", data=json.dumps(nul_nonce), timeout=10)
    assert response.status_code == 400 and "NUL" in response.json()["message"]


def test_the_result_carries_no_item_parameters(sqlite_live: ThreadServer, make_engine: Any) -> None:
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite(offline=True))
    answer_rest(session)
    result = submit(engine, session)
    assert result["skills"] and all("expected" not in skill for skill in result["skills"])


def test_a_wall_clock_stepped_by_ntp_is_not_flagged(
    sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite(offline=True))
    for _ in range(4):
        clock.advance(30_000)
        assert session.current is not None
        session.answer([session.current.options[0].id])
        session.advance()
    clock.wall += 12_000  # the laptop reconnects and its clock is corrected
    clock.advance(300_000)
    answer_rest(session)
    engine.seal(session)
    shift_server_clock(sqlite_live, 432_000, engine)
    [delivered] = engine.sync()
    assert reasons(delivered.result) == set(), delivered.result["integrity"]["flags"]
    assert delivered.result["integrity"]["downtime_ms"] == 0


def test_an_online_sitting_that_reached_its_end_in_time_is_not_late(
    sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    """The end is shown to the server at once (a final checkpoint); the upload may come later."""
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite())
    clock.advance(420_000)
    answer_rest(session)
    engine.checkpoint(session)  # the small final checkpoint gets through...
    engine.seal(session)
    shift_server_clock(sqlite_live, 420_000 + 3 * 60_000, engine)  # ...the upload, 3 min later
    [delivered] = engine.sync()
    assert "late_submission" not in reasons(delivered.result)


def test_an_online_upload_long_after_the_time_without_a_final_checkpoint_is_late(
    sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite())
    clock.advance(420_000)
    answer_rest(session)
    engine.seal(session)
    shift_server_clock(sqlite_live, 420_000 + 3 * 60_000, engine)
    [delivered] = engine.sync()
    assert "late_submission" in reasons(delivered.result)
