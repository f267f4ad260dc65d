"""What a candidate can take from their own disk: never what computes a proctor's code, and,
once the sitting is sealed, nothing that opens to the exam's items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from server import db
from server.bank.store import items_by_id
from shared import canonical, crypto
from tests.conftest import MemoryKeyring, ThreadServer
from tests.security.attacker import answer_rest, begin, observe, reasons, submit
from tests.security.test_evidence import LOCK_ON_PROGRAM, set_policy


def everything_on_disk(home: Path, keyring: MemoryKeyring) -> bytes:
    """Every byte the candidate can read: the client's files (database, WAL) and the keyring."""
    files = b"".join(path.read_bytes() for path in sorted(home.rglob("*")) if path.is_file())
    return files + repr(keyring.secrets).encode()


def sitting_row(server: ThreadServer, sitting_id: str) -> Any:
    with server.ctx.engine.connect() as connection:
        return (
            connection.execute(select(db.sittings).where(db.sittings.c.id == sitting_id))
            .mappings()
            .one()
        )


def test_nothing_on_the_client_computes_a_proctor_response(
    sqlite_live: ThreadServer, make_engine: Any, memory_keyring: MemoryKeyring
) -> None:
    set_policy(sqlite_live, LOCK_ON_PROGRAM)
    engine = make_engine()
    invitation = sqlite_live.invite(offline=True)
    session = begin(engine, sqlite_live, invitation)
    observe(session, "program_found", {"name": "anydesk", "pid": 9})
    challenge = session.lock_challenge
    assert challenge is not None
    # Everything the candidate has: the disk, the keyring, and the package opened with the
    # unlock code they were told and the device key from the keyring.
    sealed = engine.state.package(session.sitting_id)
    assert sealed is not None
    opened = crypto.open_sealed(
        sealed["body"], recipient=engine.keys.kex, unlock_code=invitation["unlock_code"]
    )
    material = everything_on_disk(engine.settings.home, memory_keyring) + opened
    row = sitting_row(sqlite_live, session.sitting_id)
    secret = crypto.b64decode(row["proctor_secret"])
    response = crypto.proctor_response(secret, session.sitting_id, challenge)
    for needle in (
        secret,
        row["proctor_secret"].encode(),
        secret.hex().encode(),
        response.encode(),
        crypto.normalise_unlock_code(response).encode(),
    ):
        assert needle not in material
    content = canonical.loads(opened)
    assert set(content) == {"items", "unlock"}
    unlock = content["unlock"]
    assert set(unlock) == {"kdf", "scrypt_n", "challenges"}
    assert unlock["kdf"] == "scrypt" and unlock["scrypt_n"] >= 2**14
    assert all(set(entry) == {"challenge", "salt", "commitment"} for entry in unlock["challenges"])
    # What it does allow: checking one guess (a slow KDF each) against 2^50 possible responses.
    assert len(crypto.normalise_unlock_code(response)) == 10  # 10 characters of 32: 50 bits
    assert session.try_unlock(response).outcome == "accepted"


def test_guessing_at_the_lock_screen_is_limited_and_flagged(
    sqlite_live: ThreadServer, make_engine: Any, clock: Any
) -> None:
    set_policy(sqlite_live, LOCK_ON_PROGRAM)
    with sqlite_live.ctx.engine.begin() as connection:  # long enough to sit out every wait
        connection.execute(db.assessments.update().values(duration_s=7200))
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite(offline=True))
    observe(session, "program_found", {"name": "anydesk", "pid": 9})
    assert session.try_unlock("AAAAA").outcome == "format"  # not a code's shape: not a try
    outcomes = []
    for guess in range(12):
        attempt = session.try_unlock(f"{guess:05d}-AAAAA")
        outcomes.append(attempt.outcome)
        clock.advance(attempt.wait_ms)  # the candidate sits out every wait
    assert outcomes == ["wrong"] * 9 + ["exhausted"] * 3  # ten wrong codes in all
    assert session.locked
    refused = [e for e in session.journal.events if e["type"] == "unlock_refused"]
    assert len(refused) == 12  # every attempt journalled, the refused-unread ones too
    session.finish("finished")
    assert "unlock_guessing" in reasons(submit(engine, session))


def test_no_item_is_readable_from_the_clients_disk_after_the_sitting(
    sqlite_live: ThreadServer, make_engine: Any, memory_keyring: MemoryKeyring
) -> None:
    engine = make_engine()
    invitation = sqlite_live.invite(offline=True)
    session = begin(engine, sqlite_live, invitation)
    sealed = engine.state.package(session.sitting_id)
    assert sealed is not None
    answer_rest(session)
    result = submit(engine, session)
    assert all(not skill["review"] for skill in result["skills"])  # no worked answers
    material = everything_on_disk(engine.settings.home, memory_keyring)
    assert sealed["body"]["ciphertext"][:64].encode() not in material
    row = sitting_row(sqlite_live, session.sitting_id)
    with sqlite_live.ctx.engine.connect() as connection:
        form = canonical.loads(row["form"])
        bank = items_by_id(connection, [entry["item"] for entry in form])
    for entry in form:
        item = bank[entry["item"]]
        assert item.stem[:60].encode() not in material, item.id
        for option in item.options:
            assert option.feedback[:60].encode() not in material
            if len(option.text) >= 16:
                assert option.text.encode() not in material
    left = engine.db.execute(
        "SELECT (SELECT COUNT(*) FROM journal), (SELECT COUNT(*) FROM journal_state),"
        " (SELECT COUNT(*) FROM sittings WHERE package IS NOT NULL)"
    ).fetchone()
    assert left == (0, 0, 0)
    assert engine.outbox.entry(engine.outbox.for_sitting(session.sitting_id)["submission_id"])
