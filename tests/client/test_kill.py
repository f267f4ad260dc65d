"""Kill test: a headless sitting in a child process killed with SIGKILL at random points
(mid-answer, mid-commit, mid-seal, mid-upload) and reopened each time. No acknowledged answer
is ever lost, the time left is as at the last durable write (within 1 s), the database stays
intact, and each sitting reaches the server exactly once.

``make test`` kills 16 times; ``make faults`` 150 times (EXAMGATE_KILLS).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from client.engine import Engine
from client.keystore import FileKeyStore
from client.settings import ClientSettings
from server import db
from shared import canonical
from tests.conftest import ThreadServer

KILLS = int(os.environ.get("EXAMGATE_KILLS", "16"))

CHILD = """
import random, sys
from pathlib import Path
from client.engine import Engine
from client.errors import ClientError
from client.keystore import FileKeyStore
from client.settings import ClientSettings

home, sitting, code, seed = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
rng = random.Random(seed)
settings = ClientSettings.load(home)
engine = Engine(settings, FileKeyStore(settings.home))
def say(*words):
    print(*words, flush=True)
if engine.outbox.for_sitting(sitting) is None:
    session = engine.unlock(sitting, code)
    session.start()
    say("READY")
    while session.state == "running":
        item = session.current
        option = rng.choice(item.options).id
        session.answer([option])
        event = session.journal.events[-1]
        say("ACK", event["seq"], item.id, option, session.remaining_ms())
        if rng.random() < 0.02:
            session.advance()
    engine.seal(session)
else:
    say("READY")
say("SEALED")
while engine.outbox.pending():
    try:
        engine.sync(attempts=None, sleep=lambda s: None)
    except ClientError:
        pass
say("SYNCED")
"""


def start_sitting(engine: Engine, server: ThreadServer, n: int) -> tuple[str, str]:
    invitation = server.invite(offline=True, candidate=f"Candidate {n}")
    sitting = engine.enrol(server.url, invitation["invitation"])
    engine.download(sitting["id"])
    return sitting["id"], invitation["unlock_code"]


def logged_events(engine: Engine, sitting_id: str) -> list[dict[str, Any]]:
    """The sitting's events as this computer holds them: the journal, or once sealed, the
    sealed submission."""
    entry = engine.outbox.for_sitting(sitting_id)
    if entry is not None:
        document = canonical.loads(engine.outbox.document(entry["submission_id"]))
        return list(document["body"]["events"])
    return engine.journal(sitting_id).events


def test_sigkill_at_random_points_loses_no_acknowledged_answer(
    sqlite_live: ThreadServer, tmp_path: Path
) -> None:
    settings = ClientSettings.load(tmp_path / "client")
    rng = random.Random(2026)
    acked: dict[str, list[tuple[int, str, str]]] = {}  # sitting -> (seq, item, option)
    sittings: list[tuple[str, str]] = []
    kills = resumes = 0
    engine = Engine(settings, FileKeyStore(settings.home))
    sittings.append(start_sitting(engine, sqlite_live, 0))
    engine.close()
    while kills < KILLS:
        sitting_id, code = sittings[-1]
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(settings.home), sitting_id, code, str(kills)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert child.stdout is not None
        ready = child.stdout.readline()
        assert ready.startswith("READY"), child.communicate()[1][-2000:]
        time.sleep(rng.uniform(0.0, 0.6))
        child.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        out, _ = child.communicate()
        kills += 1
        lines = out.splitlines()
        last_remaining = None
        for number, line in enumerate(lines):
            if line.startswith("ACK"):
                if len(line.split()) != 5 and number == len(lines) - 1:
                    continue  # killed while printing it: a half line names no answer
                _, seq, item, option, remaining = line.split()
                acked.setdefault(sitting_id, []).append((int(seq), item, option))
                last_remaining = int(remaining)
        check = sqlite3.connect(settings.database)
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        check.close()
        engine = Engine(settings, FileKeyStore(settings.home))
        try:
            events = {e["seq"]: e for e in logged_events(engine, sitting_id)}
            for seq, item, option in acked.get(sitting_id, []):
                event = events.get(seq)
                assert event is not None and event["type"] == "answer", (seq, kills)
                assert event["data"] == {"item": item, "options": [option]}
            done = engine.outbox.for_sitting(sitting_id)
            if done is None and last_remaining is not None:
                session = engine.unlock(sitting_id, code)  # reopened, as after a crash
                resumes += 1
                assert session.remaining_ms() <= last_remaining + 1_000
                slack = (time.monotonic() - killed_at) * 1000
                assert session.remaining_ms() >= last_remaining - slack - 1_000
            if done is not None and done["receipt"] is not None:
                sittings.append(start_sitting(engine, sqlite_live, len(sittings)))
        finally:
            engine.close()
    # Finish every sitting left open, then count what reached the server.
    engine = Engine(settings, FileKeyStore(settings.home))
    for sitting_id, code in sittings:
        if engine.outbox.for_sitting(sitting_id) is None:
            session = engine.unlock(sitting_id, code)
            session.start()
            session.finish("finished")
            engine.seal(session)
    engine.sync(attempts=None, sleep=lambda _s: None)
    with sqlite_live.ctx.engine.connect() as connection:
        stored = connection.execute(
            select(db.submissions.c.sitting_id, func.count()).group_by(db.submissions.c.sitting_id)
        ).all()
    assert sorted(sitting for sitting, _n in stored) == sorted(s for s, _c in sittings)
    assert all(n == 1 for _sitting, n in stored)
    total = sum(len(a) for a in acked.values())
    engine.close()
    print(f"\n{kills} kills, {resumes} resumes, {len(sittings)} sittings, {total} answers kept")
