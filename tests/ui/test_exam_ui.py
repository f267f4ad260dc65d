"""The whole sitting through the real Qt UI (offscreen), a focus loss included."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from client.ui.exam_window import ExamWindow
from client.ui.main_window import MainWindow
from client.ui.style import STYLE
from tests.conftest import ManualClock, ThreadServer

SHOTS = os.environ.get("EXAMGATE_SCREENSHOTS")


def shot(widget: QWidget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def open_exam(
    qtbot: QtBot, window: MainWindow, live: ThreadServer, offline: bool = False
) -> dict[str, Any]:
    invitation = live.invite(offline=offline)
    window.prefill(live.url, invitation["invitation"])
    shot(window, "1-enrol")
    qtbot.mouseClick(window.enrol_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.home_page, timeout=10_000)
    assert "Not downloaded" in window.table.item(0, 3).text()
    qtbot.mouseClick(window.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.table.item(0, 3).text() == "Ready offline", timeout=10_000)
    shot(window, "2-home")
    qtbot.mouseClick(window.open_button, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.health_page
    names = [check.name for check in window.health_page.checks]
    assert names == ["displays", "programs", "virtual machine", "screen capture"]
    shot(window, "2b-health")
    qtbot.mouseClick(window.health_page.continue_button, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.unlock_page
    shot(window, "3-unlock")
    return invitation


def test_a_whole_sitting_through_the_window_with_a_focus_loss(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet(STYLE)
    engine = make_engine()
    window = MainWindow(engine, lockdown=False)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    open_exam(qtbot, window, sqlite_live)

    with qtbot.waitSignal(window.exam_opened, timeout=15_000) as opened:
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    exam: ExamWindow = opened.args[0]
    exam.resize(1100, 720)
    qtbot.waitUntil(exam.isActiveWindow, timeout=5_000)
    assert exam.position.text() == "Question 1 of 20"
    assert exam.clock.text() == "08:00"

    qtbot.keyClick(exam, Qt.Key.Key_2)
    assert exam.buttons[1].isChecked() and exam.saved.text() == "Answer saved"
    assert exam.next_button.text() == "Next"
    shot(exam, "4-exam")
    clock.advance(20_000)
    qtbot.keyClick(exam, Qt.Key.Key_Return)
    assert exam.position.text() == "Question 2 of 20"
    qtbot.waitUntil(lambda: exam.clock.text() == "07:40", timeout=2_000)

    # Another window takes focus, then the candidate comes back 7 seconds later.
    intruder = QWidget()
    intruder.setWindowTitle("chat")
    qtbot.addWidget(intruder)
    intruder.show()
    intruder.activateWindow()
    qtbot.waitUntil(lambda: exam.guards.focus.away, timeout=5_000)
    clock.advance(7_000)
    exam.activateWindow()
    qtbot.waitUntil(lambda: not exam.guards.focus.away, timeout=5_000)
    assert exam.warning.isVisible()
    assert "You left the exam window for 7 s" in exam.warning.text()
    assert "If you leave it 2 more times, the sitting locks" in exam.warning.text()
    shot(exam, "5-warning")
    kinds = [(e["type"], e["data"]) for e in exam.session.journal.events]
    assert ("focus_lost", {"source": "window", "count": 1}) in kinds
    assert ("focus_returned", {"source": "window"}) in kinds

    with qtbot.waitSignal(window.result_shown, timeout=20_000) as shown:
        for number in range(2, 21):
            assert exam.position.text() == f"Question {number} of 20"
            qtbot.keyClick(exam, Qt.Key.Key_A)
            qtbot.keyClick(exam, Qt.Key.Key_Enter)
    result = shown.args[0]
    assert result["integrity"]["focus_losses"] == 1
    assert result["integrity"]["time_away_ms"] == 7_000
    assert window.overall.text() == result["overall"].capitalize()
    confidence = f"{result['overall_detail']['confidence']:.0%} likely to be your level"
    assert window.overall_note.text().startswith(confidence)
    assert window.categories.rowCount() == 4
    assert not exam.isVisible()
    shot(window, "6-result")
    assert len(engine.outbox.pending()) == 0


def test_time_up_ends_the_exam_window_by_itself(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    engine = make_engine()
    window = MainWindow(engine, lockdown=False)
    qtbot.addWidget(window)
    window.show()
    invitation = open_exam(qtbot, window, sqlite_live, offline=True)
    window.code_field.setText("WRNG-C0DE-XXXX")
    qtbot.mouseClick(window.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "unlock code is not right" in window.unlock_error.text(), timeout=10_000
    )
    assert window.exam is None
    with qtbot.waitSignal(window.exam_opened, timeout=15_000) as opened:
        window.code_field.setText(invitation["unlock_code"])
        qtbot.mouseClick(window.unlock_button, Qt.MouseButton.LeftButton)
    exam: ExamWindow = opened.args[0]
    qtbot.keyClick(exam, Qt.Key.Key_3)
    assert not exam.close()  # the candidate cannot close the exam
    clock.advance(479_000)
    qtbot.waitUntil(lambda: exam.clock.text() == "00:01", timeout=2_000)
    assert exam.clock.property("urgent") is True
    with qtbot.waitSignal(window.result_shown, timeout=20_000) as shown:
        clock.advance(1_000)
    assert shown.args[0]["category_details"]
    assert exam.session.end_reason == "time_up"
    assert exam.session.answered() == 1
