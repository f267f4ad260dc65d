"""A sitting whose process is killed (SIGKILL) resumes with nothing lost."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from shared import events
from tests.conftest import ThreadServer

CHILD = """
import sys
from client.engine import Engine
from client.keystore import FileKeyStore
from client.settings import ClientSettings
settings = ClientSettings.load(__import__("pathlib").Path(sys.argv[1]))
engine = Engine(settings, FileKeyStore(settings.home))
session = engine.unlock(sys.argv[2], sys.argv[3])
session.start()
for _ in range(3):
    session.answer([session.current.options[1].id])
    session.advance()
print("ANSWERED", session.current.id, flush=True)
sys.stdin.readline()  # wait here to be killed
"""


def test_a_killed_sitting_resumes_at_the_same_item(
    sqlite_live: ThreadServer, tmp_path: Path
) -> None:
    from client.engine import Engine
    from client.keystore import FileKeyStore
    from client.settings import ClientSettings

    settings = ClientSettings.load(tmp_path / "client")
    engine = Engine(settings, FileKeyStore(settings.home))
    invitation = sqlite_live.invite(offline=True)
    sitting = engine.enrol(sqlite_live.url, invitation["invitation"])
    engine.download(sitting["id"])
    engine.close()

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(settings.home), sitting["id"], invitation["unlock_code"]],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    line = child.stdout.readline()
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    child.stdin.close()
    assert line.startswith("ANSWERED"), line
    current_item = line.split()[1]

    engine = Engine(settings, FileKeyStore(settings.home))
    try:
        session = engine.unlock(sitting["id"], invitation["unlock_code"])
        assert session.state == "running"
        assert session.current is not None and session.current.id == current_item
        assert session.answered() == 3 and session.index == 3
        events.verify_chain(session.journal.events, sitting["id"])
        assert session.journal.events[-1]["type"] == "resumed"
        while session.state == "running":
            session.advance()
        submission_id = engine.seal(session)
        [delivered] = engine.sync()
        assert delivered.submission_id == submission_id
        assert sum(d["total"] for d in delivered.result["category_details"]) == 20
    finally:
        engine.close()
