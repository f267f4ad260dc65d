"""The lockdown in the real exam window (offscreen): locks, proctor codes, voiding, restarts."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from client.engine import Engine
from client.ui.exam_window import ExamWindow
from server import db
from server.invitations import proctor_code
from tests.conftest import ManualClock, ThreadServer, venv_bin
from tests.ui.keys import answer_all


@pytest.fixture(autouse=True)
def stop_lockdowns(qtbot: QtBot) -> Iterator[None]:
    """Each test's exam windows stop watching the (shared) clipboard and screens at the end."""
    yield
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, ExamWindow):
            widget.guards.stop()


def set_policy(server: ThreadServer, policy: dict[str, Any]) -> None:
    with server.ctx.engine.begin() as connection:
        connection.execute(db.assessments.update().values(policy=json.dumps(policy)))


def offline_sitting(server: ThreadServer, engine: Engine) -> tuple[str, str]:
    """Enrol and download an offline sitting; return its id and unlock code."""
    invitation = server.invite(offline=True)
    sitting = engine.enrol(server.url, invitation["invitation"])
    engine.download(sitting["id"])
    return sitting["id"], invitation["unlock_code"]


def exam_window(qtbot: QtBot, engine: Engine, sitting_id: str, code: str) -> ExamWindow:
    window = ExamWindow(
        engine.unlock(sitting_id, code), "Deep learning skills test", lockdown=False, keyboard=False
    )
    qtbot.addWidget(window)
    return window


def open_window(qtbot: QtBot, server: ThreadServer, engine: Engine) -> tuple[ExamWindow, str]:
    sitting_id, code = offline_sitting(server, engine)
    window = exam_window(qtbot, engine, sitting_id, code)
    window.resize(1000, 700)
    window.begin()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    return window, sitting_id


def leave_and_return(qtbot: QtBot, window: ExamWindow, clock: ManualClock, away_ms: int) -> None:
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: window.guards.focus.away, timeout=5_000)
    clock.advance(away_ms)
    window.activateWindow()
    qtbot.waitUntil(lambda: not window.guards.focus.away, timeout=5_000)
    other.close()


def test_the_third_focus_loss_locks_and_only_the_proctor_code_unlocks(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    engine = make_engine()
    window, sitting_id = open_window(qtbot, sqlite_live, engine)
    session = window.session
    for _ in range(2):
        leave_and_return(qtbot, window, clock, 2_000)
        assert window.warning_text and not session.locked
    assert "If you leave it once more, the sitting locks" in window.warning_text
    leave_and_return(qtbot, window, clock, 2_000)
    assert session.locked and window.pages.currentWidget() is window.lock_page
    challenge = session.lock_challenge
    assert challenge and challenge in window.lock_page.challenge.text()
    assert sitting_id in window.lock_page.challenge.text()
    qtbot.keyClick(window, Qt.Key.Key_1)  # answering is impossible while locked
    assert session.answers == {}

    window.lock_page.response.setText("AAAA-BBBB")  # too short: not a code, not a try
    qtbot.keyClick(window.lock_page.response, Qt.Key.Key_Return)
    assert session.locked and "has 10 letters and digits" in window.lock_page.error.text()
    window.lock_page.response.setText("AAAAA-BBBBB")
    qtbot.keyClick(window.lock_page.response, Qt.Key.Key_Return)
    assert session.locked and "not right" in window.lock_page.error.text()
    if shots := __import__("os").environ.get("EXAMGATE_SCREENSHOTS"):
        window.grab().save(str(Path(shots) / "8-lock.png"))
    window.lock_page.response.setText(proctor_code(sqlite_live.ctx, sitting_id, challenge))
    qtbot.keyClick(window.lock_page.response, Qt.Key.Key_Return)
    assert not session.locked and window.pages.currentIndex() == 0
    assert session.index == 0  # the Enter that sent the code did not move on
    kinds = [e["type"] for e in session.journal.events]
    assert kinds.count("focus_lost") == 3 and kinds[-2:] == ["unlock_refused", "unlocked"]


def test_a_lock_outlives_a_restart(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    set_policy(sqlite_live, {"rules": {"clipboard_used": {"action": "lock"}}})
    engine = make_engine()
    sitting_id, code = offline_sitting(sqlite_live, engine)
    first = exam_window(qtbot, engine, sitting_id, code)
    first.begin()
    QGuiApplication.clipboard().setText("copied answer")
    qtbot.waitUntil(lambda: first.session.locked, timeout=5_000)
    assert QGuiApplication.clipboard().text() == ""  # cleared
    challenge = first.session.lock_challenge
    first.guards.stop()  # the candidate kills the client here
    again = engine.unlock(sitting_id, code)
    assert again.locked and again.lock_challenge == challenge
    second = ExamWindow(again, "t", lockdown=False, keyboard=False)
    qtbot.addWidget(second)
    second.begin()
    assert second.pages.currentWidget() is second.lock_page
    assert challenge in second.lock_page.challenge.text()


def test_a_voiding_policy_ends_the_sitting_and_the_server_says_so(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    set_policy(sqlite_live, {"rules": {"clipboard_used": {"action": "void"}}})
    engine = make_engine()
    window, _ = open_window(qtbot, sqlite_live, engine)
    qtbot.keyClick(window, Qt.Key.Key_2)
    with qtbot.waitSignal(window.finished, timeout=5_000):
        QGuiApplication.clipboard().setText("pasted from a chat")
    assert window.session.end_reason == "voided"
    engine.seal(window.session)
    [delivered] = engine.sync()
    integrity = delivered.result["integrity"]
    assert integrity["outcome"] == "voided" and integrity["events"]["clipboard_used"] == 1


def test_a_clean_sitting_reports_its_health_check(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    from client.proctor.health import run_health_checks
    from client.proctor.platform import platform_guard
    from shared.policy import Policy

    engine = make_engine()
    window = exam_window(qtbot, engine, *offline_sitting(sqlite_live, engine))
    window.begin(health=run_health_checks(Policy(), platform_guard()))
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    clock.advance(60_000)
    window.session.tick()  # the wall clock jumped with the monotonic one: no gap
    clock.sleep(20_000)  # the machine slept 20 s: the monotonic clock stood still
    window.session.tick()
    answer_all(qtbot, window)
    assert window.session.state == "ended"
    engine.seal(window.session)
    [delivered] = engine.sync()
    integrity = delivered.result["integrity"]
    assert [c["name"] for c in integrity["health_check"]] == [
        "displays",
        "programs",
        "virtual machine",
        "screen capture",
        "keyboard monitor",
        "clipboard",
    ]
    assert integrity["events"]["clock_gap"] == 1 and integrity["downtime_ms"] == 20_000
    reasons = {flag["reason"] for flag in integrity["flags"]}
    # Only what this machine really shows may be flagged: a virtual machine, by the policy.
    assert reasons <= {"virtual_machine"}, integrity["flags"]


def challenges_of(server: ThreadServer, sitting_id: str) -> list[str]:
    from sqlalchemy import select

    from shared import crypto

    with server.ctx.engine.connect() as connection:
        secret = connection.execute(
            select(db.sittings.c.proctor_secret).where(db.sittings.c.id == sitting_id)
        ).scalar_one()
    return crypto.proctor_challenges(crypto.b64decode(secret), sitting_id)


def test_the_proctor_tool_prints_the_unlock_code(sqlite_live: ThreadServer) -> None:
    invitation = sqlite_live.invite(offline=True)
    challenge = challenges_of(sqlite_live, invitation["sitting_id"])[2]
    command = [
        venv_bin("examgate-server"),
        "proctor-code",
        "--data",
        str(sqlite_live.ctx.settings.data_dir),
        "--database",
        sqlite_live.ctx.settings.database_url,
        "--sitting",
        invitation["sitting_id"],
        "--challenge",
    ]
    done = subprocess.run([*command, challenge.lower()], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == proctor_code(sqlite_live.ctx, invitation["sitting_id"], challenge)
    assert len(done.stdout.strip()) == 11  # XXXXX-XXXXX: 50 bits
    wrong = subprocess.run([*command, "K3MQ-7X2P"], capture_output=True, text=True)
    assert wrong.returncode == 1
    assert "does not belong to this sitting" in wrong.stderr


def test_a_lock_that_can_no_longer_be_lifted_lets_the_candidate_send_their_answers(
    qtbot: QtBot,
    sqlite_live: ThreadServer,
    make_engine: Any,
    clock: ManualClock,
) -> None:
    set_policy(sqlite_live, {"rules": {"clipboard_used": {"action": "lock"}}})
    with sqlite_live.ctx.engine.begin() as connection:  # time enough to sit out every wait
        connection.execute(db.assessments.update().values(duration_s=7200))
    engine = make_engine()
    window, _ = open_window(qtbot, sqlite_live, engine)
    qtbot.keyClick(window, Qt.Key.Key_2)
    QGuiApplication.clipboard().setText("notes")
    qtbot.waitUntil(lambda: window.session.locked, timeout=5_000)
    page = window.lock_page
    for _ in range(10):
        clock.advance(window.session.unlock_status().wait_ms)
        window.tick()
        assert page.unlock_button.isEnabled()
        page.response.setText("AAAAA-BBBBB")
        qtbot.keyClick(page.response, Qt.Key.Key_Return)
    assert not page.unlock_button.isEnabled() and page.end_button.isVisible()
    assert "No more codes can be tried" in page.error.text()
    qtbot.mouseClick(page.end_button, Qt.MouseButton.LeftButton)
    asked = window.confirm_page.message.text()
    assert "send your 1 answer(s) of 20" in asked and "cannot be undone" in asked
    qtbot.mouseClick(window.confirm_page.no, Qt.MouseButton.LeftButton)  # changed their mind
    assert window.pages.currentWidget() is page and window.session.state == "running"
    qtbot.mouseClick(page.end_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.finished, timeout=5_000):
        qtbot.mouseClick(window.confirm_page.yes, Qt.MouseButton.LeftButton)
    assert window.session.end_reason == "finished" and window.session.answered() == 1


def online_window(qtbot: QtBot, server: ThreadServer, engine: Engine) -> ExamWindow:
    invitation = server.invite()
    sitting = engine.enrol(server.url, invitation["invitation"])
    engine.download(sitting["id"])
    session = engine.unlock(sitting["id"], engine.release_code(sitting["id"]))
    window = ExamWindow(session, "Deep learning skills test", lockdown=False, keyboard=False)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.begin()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    return window


def test_an_online_candidate_returns_from_a_lock_without_a_proctor_and_it_is_flagged(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    from client.report import integrity_sentences

    set_policy(sqlite_live, {"rules": {"clipboard_used": {"action": "lock"}}})
    engine = make_engine()
    window = online_window(qtbot, sqlite_live, engine)
    assert window.session.release == "candidate"  # online: no proctor exists
    qtbot.keyClick(window, Qt.Key.Key_2)
    QGuiApplication.clipboard().setText("notes")
    qtbot.waitUntil(lambda: window.session.locked, timeout=5_000)
    page = window.lock_page
    assert window.pages.currentWidget() is page
    assert not page.response.isVisible() and page.return_button.isVisible()
    assert "ask your proctor" not in page.explanation.text().lower()
    assert not page.return_button.isEnabled() and "return in 15 s" in page.error.text()
    assert page.clock.text() == window.clock.text() != ""
    clock.advance(5_000)
    window.tick()
    assert page.clock.text() == window.clock.text()  # the clock stays in view, still running
    qtbot.mouseClick(page.return_button, Qt.MouseButton.LeftButton)
    assert window.session.locked  # too soon: nothing happens
    clock.advance(10_000)
    window.tick()
    assert page.return_button.isEnabled() and page.return_button.hasFocus()
    qtbot.keyClick(page.return_button, Qt.Key.Key_Return)
    assert not window.session.locked and window.pages.currentWidget() is window.exam_page
    answer_all(qtbot, window)
    engine.seal(window.session)
    [delivered] = engine.sync()
    integrity = delivered.result["integrity"]
    reasons = {flag["reason"] for flag in integrity["flags"]}
    assert {"locked", "self_released"} <= reasons and "unlock_invalid" not in reasons
    assert integrity["outcome"] == "flagged" and integrity["self_releases"] == 1
    said = " ".join(integrity_sentences(integrity))
    assert "marked for review" in said and "you returned from a lock without a proctor" in said


def test_a_client_that_lifts_a_proctors_lock_itself_is_caught(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    """A patched client on a supervised sitting writes a self-release: the server's replay of
    the policy says the candidate may not lift that lock."""
    set_policy(sqlite_live, {"rules": {"clipboard_used": {"action": "lock"}}})
    engine = make_engine()
    window, _ = open_window(qtbot, sqlite_live, engine)
    session = window.session
    QGuiApplication.clipboard().setText("notes")
    qtbot.waitUntil(lambda: session.locked, timeout=5_000)
    assert not session.release_lock()  # the honest client refuses
    session.release = "candidate"  # the patched one does not
    clock.advance(20_000)
    assert window.guards.release() and not session.locked
    answer_all(qtbot, window)
    engine.seal(session)
    [delivered] = engine.sync()
    reasons = {flag["reason"] for flag in delivered.result["integrity"]["flags"]}
    assert "unlock_invalid" in reasons


def test_an_online_release_before_the_pause_is_caught(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    set_policy(sqlite_live, {"rules": {"clipboard_used": {"action": "lock"}}})
    engine = make_engine()
    window = online_window(qtbot, sqlite_live, engine)
    session = window.session
    QGuiApplication.clipboard().setText("notes")
    qtbot.waitUntil(lambda: session.locked, timeout=5_000)
    session._write("released", {"index": session.lock_index - 1})  # a client with no pause
    session._locked = False
    window.guards.unlocked.emit()
    answer_all(qtbot, window)
    engine.seal(session)
    [delivered] = engine.sync()
    reasons = {flag["reason"] for flag in delivered.result["integrity"]["flags"]}
    assert "unlock_invalid" in reasons
