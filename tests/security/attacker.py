"""What a determined candidate does with root on their own machine, as test tooling: read the
keyring, decrypt the journal, rewrite it and re-chain it with every key the disk holds, build
and sign submissions by hand. Each attack test uses these and asserts the server's answer.

Also the honest side of a sitting driven without a window, as the exam window would drive it:
the health check and lockdown events, and locks where the policy calls for them.
"""

from __future__ import annotations

import copy
from typing import Any

import requests

from client.engine import Engine
from client.journal import Journal
from client.session import ExamSession
from shared import canonical, crypto, events
from shared.policy import PolicyEngine
from tests.conftest import ThreadServer
from tests.helpers import signed_headers

HEALTHY = [
    {"name": "displays", "status": "ok", "detail": "One display.", "action": ""},
    {"name": "programs", "status": "ok", "detail": "None running.", "action": ""},
]


def begin(engine: Engine, server: ThreadServer, invitation: dict[str, Any]) -> ExamSession:
    """Enrol, download and open a sitting, and start it as the exam window does."""
    sitting = engine.enrol(server.url, invitation["invitation"])
    engine.download(sitting["id"])
    code = invitation.get("unlock_code") or engine.release_code(sitting["id"])
    session = engine.unlock(sitting["id"], code)
    session.record("health_check", {"checks": HEALTHY})
    session.start()
    session.record(
        "lockdown_started",
        {"platform": "test", "capture_protection": True, "keyboard_monitor": True},
    )
    return session


def observe(session: ExamSession, kind: str, data: dict[str, Any]) -> None:
    """A watcher's event, acted on as the lockdown acts on it (it locks when the policy says)."""
    engine = PolicyEngine(session.policy)
    for earlier in session.journal.events:
        if engine.judges(earlier["type"]):
            engine.observe(earlier)
    event = session.record(kind, data)
    assert event is not None
    decision = engine.observe(event)
    if decision.action == "lock":
        session.lock(kind)
    elif decision.action == "void":
        session.finish("voided")


def answer_rest(session: ExamSession) -> None:
    while session.state == "running":
        assert session.current is not None
        session.answer([session.current.options[0].id])
        session.advance()


def submit(engine: Engine, session: ExamSession) -> dict[str, Any]:
    """Seal and send; return the server's result."""
    engine.seal(session)
    [delivered] = engine.sync()
    return delivered.result


def reasons(result: dict[str, Any]) -> set[str]:
    return {flag["reason"] for flag in result["integrity"]["flags"]}


# -- the journal, as root sees it ---------------------------------------------------------------
def read_journal(engine: Engine, sitting_id: str) -> tuple[list[dict[str, Any]], bytes]:
    """Every event in the clear and the chain key on disk (the storage key is in the keyring)."""
    journal = Journal(engine.db, sitting_id, engine.keys.storage)
    token = engine.db.execute(
        "SELECT chain_key FROM journal_state WHERE sitting_id = ?", (sitting_id,)
    ).fetchone()[0]
    key = crypto.decrypt_at_rest(engine.keys.storage, token, journal._context("key"))
    return journal.events, key


def rewrite_journal(engine: Engine, sitting_id: str, kept: list[dict[str, Any]]) -> None:
    """Replace the journal with ``kept`` (events, perhaps edited), re-chained from the genesis and
    MAC'd with the keys that follow from the one on disk: everything a candidate has."""
    _, key = read_journal(engine, sitting_id)
    journal = Journal(engine.db, sitting_id, engine.keys.storage)
    prev = events.genesis(sitting_id)
    with engine.db:
        engine.db.execute("BEGIN IMMEDIATE")
        engine.db.execute("DELETE FROM journal WHERE sitting_id = ?", (sitting_id,))
        for seq, original in enumerate(kept):
            fields = {k: v for k, v in original.items() if k not in ("seq", "prev", "hash", "mac")}
            event = events.link(prev, seq, fields, key)
            token = crypto.encrypt_at_rest(
                engine.keys.storage, canonical.dumps(event), journal._context(seq)
            )
            engine.db.execute(
                "INSERT INTO journal (sitting_id, seq, event) VALUES (?, ?, ?)",
                (sitting_id, seq, token),
            )
            prev, key = event["hash"], events.next_key(key)
        engine.db.execute(
            "UPDATE journal_state SET next_seq = ?, chain_key = ? WHERE sitting_id = ?",
            (
                len(kept),
                crypto.encrypt_at_rest(engine.keys.storage, key, journal._context("key")),
                sitting_id,
            ),
        )


# -- submissions and requests by hand -------------------------------------------------------------
def forged_submission(
    engine: Engine, session: ExamSession, log: list[dict[str, Any]], **body: Any
) -> bytes:
    """A submission the candidate builds and signs with the device key from the keyring."""
    enrolment = engine.enrolment()
    header = engine.header(session.sitting_id)
    document: dict[str, Any] = {
        "format": "examgate-submission/1",
        "submission_id": crypto.b64encode(crypto.generate_signing_key().sign(b"id"))[:32],
        "sitting_id": session.sitting_id,
        "package_id": header.package_id,
        "device_id": enrolment.device_id,
        "chain_public": session.journal.chain_public,
        "responses": [],
        "events": copy.deepcopy(log),
        "timing": {"started_ms": 0, "ended_ms": 0, "elapsed_ms": 0, "duration_s": 480},
        "end_reason": "finished",
    }
    document.update(body)
    return canonical.dumps(crypto.sign_document(document, engine.keys.signing))


def post(
    server: ThreadServer, engine: Engine, route: str, body: bytes = b"", **signing: Any
) -> requests.Response:
    """A signed POST to ``route`` (under /api/v1), as a device (or a replaying attacker)."""
    target = "/api/v1" + route
    headers = signed_headers(
        engine.enrolment().device_id, engine.keys.signing, "POST", target, body, **signing
    )
    return requests.post(server.url + target, data=body, headers=headers, timeout=30)
