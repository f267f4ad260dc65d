"""Attacks on time: the server's clock decides for online sittings; the client's clocks are
checked against each other and against the server's times for offline ones."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from client.engine import Engine
from client.errors import ServerRefused
from client.keystore import FileKeyStore
from client.settings import ClientSettings
from tests.conftest import ManualClock, ThreadServer, need
from tests.security.attacker import answer_rest, begin, forged_submission, post, reasons, submit


def shift_server_clock(server: ThreadServer, ms: int, *engines: Engine) -> None:
    """Real time passes: ``ms`` more on the server's clock, and on the clock the candidate's
    computer stamps its requests with."""
    now = server.ctx.now_ms
    server.ctx.now_ms = lambda: now() + ms
    for engine in engines:
        engine.request_clock = server.ctx.now_ms


def test_an_online_submission_after_the_time_is_up_is_flagged_late(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite())
    answer_rest(session)
    engine.seal(session)
    shift_server_clock(sqlite_live, 510_000 + 60_000, engine)  # uploaded 9.5 min after the start
    [delivered] = engine.sync()
    assert "late_submission" in reasons(delivered.result)


def test_an_online_sitting_on_time_is_not_late(sqlite_live: ThreadServer, make_engine: Any) -> None:
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite())
    answer_rest(session)
    assert "late_submission" not in reasons(submit(engine, session))


def test_the_unlock_code_is_released_only_inside_the_window(
    sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    now = sqlite_live.ctx.now_ms()
    early = make_engine("early")
    invitation = sqlite_live.invite(opens_ms=now + 3_600_000, closes_ms=now + 7_200_000)
    sitting = early.enrol(sqlite_live.url, invitation["invitation"])
    early.download(sitting["id"])
    with pytest.raises(ServerRefused) as refused:
        early.release_code(sitting["id"])
    assert refused.value.status == 409 and refused.value.code == "not_open"
    shift_server_clock(sqlite_live, 3 * 3_600_000, early)
    with pytest.raises(ServerRefused) as closed:
        early.release_code(sitting["id"])
    assert closed.value.code == "closed"


def test_the_code_is_not_released_again_once_the_time_is_over(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    sitting = engine.enrol(sqlite_live.url, sqlite_live.invite()["invitation"])
    engine.download(sitting["id"])
    code = engine.release_code(sitting["id"])
    assert engine.release_code(sitting["id"]) == code  # a restart within the time: fine
    shift_server_clock(sqlite_live, 480_000 + 61_000, engine)
    with pytest.raises(ServerRefused) as over:
        engine.release_code(sitting["id"])
    assert over.value.code == "time_over"


def test_a_submission_for_a_never_started_online_sitting_is_refused(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    sitting = engine.enrol(sqlite_live.url, sqlite_live.invite()["invitation"])
    engine.download(sitting["id"])

    class NotStarted:  # what forged_submission reads from a session
        sitting_id = sitting["id"]
        journal = type("J", (), {"chain_public": None})()

    body = forged_submission(engine, NotStarted(), [])  # type: ignore[arg-type]
    response = post(sqlite_live, engine, "/submissions", body)
    assert response.status_code == 409 and response.json()["error"] == "not_started"


def test_an_offline_log_with_no_start_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(engine, sqlite_live, sqlite_live.invite(offline=True))
    log = [e for e in session.journal.events if e["type"] in ("chain_opened", "health_check")]
    response = post(sqlite_live, engine, "/submissions", forged_submission(engine, session, log))
    assert response.status_code == 200
    assert "log_incomplete" in reasons(response.json()["result"])


def test_a_long_kill_and_restart_gap_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    engine = make_engine()
    invitation = sqlite_live.invite(offline=True)
    session = begin(engine, sqlite_live, invitation)
    clock.advance(40_000)  # killed; the candidate looks things up for 40 s; restarted
    again = engine.unlock(session.sitting_id, invitation["unlock_code"])
    assert again.remaining_ms() == 480_000  # not charged (a crash must not cost the candidate)
    answer_rest(again)
    result = submit(engine, again)
    assert "downtime_exceeded" in reasons(result)
    assert result["integrity"]["downtime_ms"] == 40_000


def test_a_wall_clock_set_back_to_hide_the_gap_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    engine = make_engine()
    invitation = sqlite_live.invite(offline=True)
    session = begin(engine, sqlite_live, invitation)
    clock.mono += 40_000  # 40 s pass on the same boot...
    assert clock.uptime is not None
    clock.uptime += 40_000
    # ...and the wall clock is put back to where it was at the kill
    again = engine.unlock(session.sitting_id, invitation["unlock_code"])
    answer_rest(again)
    found = reasons(submit(engine, again))
    assert {"clock_changed", "downtime_exceeded"} <= found


def test_an_offline_sitting_outside_its_window_is_flagged(
    sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    engine = make_engine()
    now = sqlite_live.ctx.now_ms()
    invitation = sqlite_live.invite(offline=True, closes_ms=now + 3_600_000)
    session = begin(engine, sqlite_live, invitation)
    clock.advance(2 * 3_600_000)  # the candidate's client was kept going past the window
    session.tick()
    answer_rest(session)
    engine.seal(session)
    shift_server_clock(sqlite_live, 2 * 3_600_000 + 60_000, engine)
    [delivered] = engine.sync()
    assert "outside_window" in reasons(delivered.result)


SLOWED_SITTING = """
import sys, time
from pathlib import Path
from client.engine import Engine
from client.keystore import FileKeyStore
from client.settings import ClientSettings
from tests.security.attacker import HEALTHY

def uptime():
    return float(Path("/proc/uptime").read_text().split()[0])

settings = ClientSettings.load(Path(sys.argv[1]))
engine = Engine(settings, FileKeyStore(settings.home))
session = engine.unlock(sys.argv[2], sys.argv[3])
session.record("health_check", {"checks": HEALTHY})
session.start()
session.record("lockdown_started", {"platform": "test", "capture_protection": True,
                                    "keyboard_monitor": True})
begun = uptime()
while uptime() - begun < 3.0:  # three real seconds, whatever this process's clock says
    session.tick()
    time.sleep(0.01)
print("CHARGED", session.elapsed_ms(), flush=True)
while session.state == "running":
    session.answer([session.current.options[0].id])
    session.advance()
engine.seal(session)
engine.close()
"""


def test_a_slowed_clock_is_charged_in_real_time_and_flagged(
    sqlite_live: ThreadServer, tmp_path: Path
) -> None:
    need(bool(shutil.which("faketime")), "EXAMGATE_REQUIRE_FAKETIME", "faketime is not installed")
    settings = ClientSettings.load(tmp_path / "client")
    engine = Engine(settings, FileKeyStore(settings.home))
    invitation = sqlite_live.invite(offline=True)
    sitting = engine.enrol(sqlite_live.url, invitation["invitation"])
    engine.download(sitting["id"])
    engine.close()
    done = subprocess.run(
        [
            "faketime",
            "-f",
            "+0 x0.1",  # the candidate's clock runs at a tenth of real time
            sys.executable,
            "-c",
            SLOWED_SITTING,
            str(settings.home),
            sitting["id"],
            invitation["unlock_code"],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    charged = int(done.stdout.split("CHARGED")[1].split()[0])
    assert charged >= 2_500  # three real seconds, charged as such (0.3 s by the faked clock)
    engine = Engine(settings, FileKeyStore(settings.home))
    try:
        [delivered] = engine.sync()
    finally:
        engine.close()
    assert "clock_slowed" in reasons(delivered.result)
