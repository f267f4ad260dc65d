"""Whole sittings through the real Qt UI (offscreen): one with the keyboard alone, from enrolment
to the certificate; one with the mouse and a focus loss; time warnings and the end of time."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from client.ui.exam_window import ExamWindow
from client.ui.main_window import MainWindow
from client.ui.qt import announced
from client.ui.style import stylesheet
from tests.conftest import ManualClock, ThreadServer
from tests.ui.keys import answer_all, press, tab_to

SHOTS = os.environ.get("EXAMGATE_SCREENSHOTS")


def shot(widget: QWidget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def styled() -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet(stylesheet())


class Opened(QObject):
    """Stands in for the desktop's PDF viewer: Qt's documented hook for opening file URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def type_text(qtbot: QtBot, text: str) -> None:
    widget = QApplication.focusWidget()
    assert widget is not None
    qtbot.keyClicks(widget, text)


def test_keyboard_only_from_enrolment_to_the_certificate(
    qtbot: QtBot,
    sqlite_live: ThreadServer,
    make_engine: Any,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    styled()
    window = MainWindow(make_engine(), lockdown=False)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    invitation = sqlite_live.invite()

    assert window.server_field.hasFocus()  # the first thing to fill in
    type_text(qtbot, sqlite_live.url)
    press(qtbot, Qt.Key.Key_Tab)
    assert window.invite_field.hasFocus()
    type_text(qtbot, invitation["invitation"])
    press(qtbot, Qt.Key.Key_Return)  # Enter submits the form
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.home_page, timeout=10_000)
    home = window.home_page
    assert home.table.item(0, 5).text() == "Not downloaded"
    assert home.table.item(0, 1).text() == "Demo Employer"  # rows tell sittings apart
    assert home.table.hasFocus()
    tab_to(qtbot, home.download_button)  # Tab leaves the table
    press(qtbot, Qt.Key.Key_Return)  # Enter presses the focused button
    qtbot.waitUntil(lambda: home.table.item(0, 5).text() == "Ready to take", timeout=10_000)
    shot(window, "2-home")
    tab_to(qtbot, home.take_button)
    press(qtbot, Qt.Key.Key_Space)  # so does Space
    assert window.stack.currentWidget() is window.health_page
    assert window.health_page.continue_button.hasFocus()
    press(qtbot, Qt.Key.Key_Return)

    ready = window.ready_page
    assert window.stack.currentWidget() is ready
    assert not ready.code_field.isVisible()  # online: no code to type
    assert "20 questions, 8 minutes" in ready.rules.toPlainText()
    shot(window, "3-ready")
    press(qtbot, Qt.Key.Key_Return)  # Enter before choosing: nothing starts
    assert "choose one first" in ready.rehearsal_verdict.text()
    press(qtbot, Qt.Key.Key_2)
    press(qtbot, Qt.Key.Key_Return)
    assert ready.rehearsal_verdict.text().startswith("Not quite")
    press(qtbot, Qt.Key.Key_1)
    press(qtbot, Qt.Key.Key_Return)
    assert ready.rehearsal_verdict.text().startswith("Right")
    # Before the clock: may the organisation see the result? Neither answer is chosen for
    # the candidate, and Start does nothing until one is.
    assert "Demo Employer" in ready.consent_question.text()
    assert ready.share_yes.hasFocus() and ready.share() is None
    tab_to(qtbot, ready.start_button)
    press(qtbot, Qt.Key.Key_Return)
    assert "Choose whether Demo Employer may see your result" in ready.error.text()
    assert ready.share_yes.hasFocus() and window.exam is None
    press(qtbot, Qt.Key.Key_Right)  # the arrow keys move between the two answers
    assert ready.share_no.hasFocus()
    press(qtbot, Qt.Key.Key_Space)
    assert ready.share() is False
    press(qtbot, Qt.Key.Key_Left)
    press(qtbot, Qt.Key.Key_Space)
    assert ready.share() is True
    tab_to(qtbot, ready.start_button)
    assert window.exam is None  # on purpose, not by default
    with qtbot.waitSignal(window.exam_opened, timeout=15_000) as opened:
        press(qtbot, Qt.Key.Key_Return)
    exam: ExamWindow = opened.args[0]
    qtbot.waitUntil(exam.isActiveWindow, timeout=5_000)
    assert exam.buttons[0].hasFocus()
    kinds = [e["type"] for e in exam.session.journal.events]
    assert kinds.index("consent") == kinds.index("started") - 1  # chosen before the clock
    [consent] = [e["data"] for e in exam.session.journal.events if e["type"] == "consent"]
    assert consent["share"] is True and consent["organisation"]

    press(qtbot, Qt.Key.Key_Return)  # nothing chosen: Enter does not skip the question
    assert exam.session.index == 0 and "Choose an answer first" in exam.hint.text()
    press(qtbot, Qt.Key.Key_Down)
    press(qtbot, Qt.Key.Key_Space)  # the focused option, chosen
    item = exam.session.current
    assert item is not None and exam.session.answers[item.id] == [item.options[1].id]
    press(qtbot, Qt.Key.Key_Return)
    assert exam.session.index == 1
    assert any(text.startswith("Question 2 of 20.") for text in announced())
    with qtbot.waitSignal(window.result_shown, timeout=20_000) as shown:
        answer_all(qtbot, exam, Qt.Key.Key_C)
    result = shown.args[0]
    assert window.result_page.open_button.hasFocus()
    shot(window, "6-result")

    viewer = Opened()
    QDesktopServices.setUrlHandler("file", viewer, "open")
    try:
        press(qtbot, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(viewer.urls), timeout=10_000)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    pdf = Path(viewer.urls[0].toLocalFile())
    assert pdf.name.startswith("examgate certificate") and pdf.suffix == ".pdf"

    # LinkedIn's add-certification page, filled in, in the browser (the handler stands in).
    page = window.result_page
    browser = Opened()
    QDesktopServices.setUrlHandler("https", browser, "open")
    try:
        tab_to(qtbot, page.linkedin_button)
        press(qtbot, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(browser.urls), timeout=5_000)
    finally:
        QDesktopServices.unsetUrlHandler("https")
    assert (
        browser.urls[0].toString(QUrl.ComponentFormattingOption.FullyEncoded)
        == (result["linkedin_url"])
    )
    assert "CERTIFICATION_NAME" in result["linkedin_url"]
    assert result["verification_code"] in result["linkedin_url"]
    # The Open Badge, saved where the candidate chooses, verifies against the issuer's key.
    target = tmp_path / "badge.json"
    chosen: list[str] = []

    def choose(*args: Any, **kwargs: Any) -> tuple[str, str]:
        chosen.append(str(args[2]))
        return str(target), ""

    monkeypatch.setattr("client.ui.main_window.QFileDialog.getSaveFileName", choose)
    tab_to(qtbot, page.badge_button)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Open Badge saved" in page.error.text(), timeout=15_000)
    assert Path(chosen[0]).name.startswith("examgate open badge")
    from certificates import credential
    from server.credentials import did_document

    badge = json.loads(target.read_text(encoding="utf-8"))
    resolver = credential.document_resolver(did_document(sqlite_live.ctx))
    assert credential.verify(badge, resolver).issuer == badge["issuer"]["id"]
    if not os.environ.get("EXAMGATE_REQUIRE_PDF_TOOLS") and not _has("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Ada Lovelace" in text and result["verification_code"] in text


def _has(tool: str) -> bool:
    from shutil import which

    return which(tool) is not None


def test_a_sitting_with_the_mouse_and_a_focus_loss(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    styled()
    engine = make_engine()
    window = MainWindow(engine, lockdown=False)
    qtbot.addWidget(window)
    window.show()
    window.prefill(sqlite_live.url, sqlite_live.invite()["invitation"])
    qtbot.mouseClick(window.enrol_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.home_page, timeout=10_000)
    qtbot.mouseClick(window.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.open_button.isEnabled(), timeout=10_000)
    qtbot.mouseClick(window.open_button, Qt.MouseButton.LeftButton)
    names = [check.name for check in window.health_page.checks]
    assert names == [
        "displays",
        "programs",
        "virtual machine",
        "screen capture",
        "keyboard monitor",
        "clipboard",
    ]
    qtbot.mouseClick(window.health_page.continue_button, Qt.MouseButton.LeftButton)
    window.ready_page.share_no.click()  # the candidate keeps the result to themselves
    with qtbot.waitSignal(window.exam_opened, timeout=15_000) as opened:
        qtbot.mouseClick(window.ready_page.start_button, Qt.MouseButton.LeftButton)
    exam: ExamWindow = opened.args[0]
    exam.resize(1100, 720)
    qtbot.waitUntil(exam.isActiveWindow, timeout=5_000)
    assert exam.position.text() == "Question 1 of 20"
    assert exam.clock.text() == "08:00"
    assert not exam.next_button.isEnabled()  # nothing chosen yet
    qtbot.mouseClick(exam.buttons[1], Qt.MouseButton.LeftButton)
    assert exam.buttons[1].isChecked() and exam.saved.text() == "Answer saved"
    assert exam.next_button.text() == "Next" and exam.next_button.isEnabled()
    shot(exam, "4-exam")
    clock.advance(20_000)
    qtbot.mouseClick(exam.next_button, Qt.MouseButton.LeftButton)
    assert exam.position.text() == "Question 2 of 20"
    options_at = exam.buttons[0].mapTo(exam, exam.buttons[0].rect().topLeft())
    qtbot.waitUntil(lambda: exam.clock.text() == "07:40", timeout=2_000)

    intruder = QWidget()
    intruder.setWindowTitle("chat")
    qtbot.addWidget(intruder)
    intruder.show()
    intruder.activateWindow()
    qtbot.waitUntil(lambda: exam.guards.focus.away, timeout=5_000)
    clock.advance(7_000)
    exam.activateWindow()
    qtbot.waitUntil(lambda: not exam.guards.focus.away, timeout=5_000)
    assert "You left the exam window for 7 s" in exam.warning_text
    assert "If you leave it 2 more times, the sitting locks for a while" in exam.warning_text
    # The warning appeared in its own slot: the options did not move under the pointer.
    assert exam.buttons[0].mapTo(exam, exam.buttons[0].rect().topLeft()) == options_at
    shot(exam, "5-warning")
    kinds = [(e["type"], e["data"]) for e in exam.session.journal.events]
    assert ("focus_lost", {"source": "window", "count": 1}) in kinds

    qtbot.mouseClick(exam.skip_button, Qt.MouseButton.LeftButton)  # skipping is its own button
    assert exam.position.text() == "Question 3 of 20" and exam.session.answered() == 1
    with qtbot.waitSignal(window.result_shown, timeout=20_000) as shown:
        while exam.pages.currentWidget() is exam.exam_page:
            qtbot.mouseClick(exam.buttons[0], Qt.MouseButton.LeftButton)
            qtbot.mouseClick(exam.next_button, Qt.MouseButton.LeftButton)
        assert "19 of 20 questions. 1 question is unanswered." in exam.confirm_page.message.text()
        qtbot.mouseClick(exam.confirm_page.yes, Qt.MouseButton.LeftButton)
    result = shown.args[0]
    assert result["integrity"]["focus_losses"] == 1
    assert result["integrity"]["time_away_ms"] == 7_000
    assert window.overall.text() == result["overall"].capitalize()
    assert window.overall_note.text().startswith("How sure this is: ")
    assert "%" not in window.overall_note.text()  # in words, never "100%"
    report = window.result_page.report.toPlainText()
    assert "You left the exam window once (7 s in all)." in report
    assert (
        "Comparisons with other candidates appear once 30 people"
        in window.result_page.standing.text()
    )
    assert not exam.isVisible()
    # The candidate said no before the clock; here they change their mind, then again.
    page = window.result_page
    qtbot.waitUntil(lambda: page.shared_with.text().startswith("Not shared"), timeout=10_000)
    page.share_field.setText("no-such-org")
    qtbot.mouseClick(page.share_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "No organisation has that handle" in page.share_status.text(), timeout=10_000
    )
    page.share_field.setText("demo-employer")
    qtbot.keyClick(page.share_field, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: "Demo Employer (demo-employer)" in page.shared_with.text(), timeout=10_000
    )
    assert page.share_status.text().startswith("Shared with demo-employer")
    qtbot.mouseClick(page.unshare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.shared_with.text().startswith("Not shared"), timeout=10_000)
    assert "still knows you completed it" in page.share_status.text()
    # No PDF viewer on this (offscreen) desktop: the certificate is kept and the page says where.
    qtbot.mouseClick(window.result_page.open_button, Qt.MouseButton.LeftButton)
    status = window.result_page.error
    qtbot.waitUntil(lambda: "No PDF viewer opened" in status.text(), timeout=10_000)
    kept = Path(status.text().split("saved as ")[1].split(": open it")[0])
    assert kept.exists() and kept.read_bytes().startswith(b"%PDF")


def test_finishing_early_asks_first_with_what_is_unanswered_and_the_time_left(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    from tests.ui.test_lockdown import open_window

    window, _ = open_window(qtbot, sqlite_live, make_engine())
    session = window.session
    while session.index + 1 < session.total:
        qtbot.mouseClick(window.skip_button, Qt.MouseButton.LeftButton)
    qtbot.keyClick(window, Qt.Key.Key_2)
    clock.advance(125_000)
    window.tick()
    qtbot.mouseClick(window.next_button, Qt.MouseButton.LeftButton)  # "Finish"
    assert window.pages.currentWidget() is window.confirm_page
    message = window.confirm_page.message.text()
    assert "You answered 1 of 20 questions. 19 questions are unanswered." in message
    assert "5 minutes 55 seconds is left" in message
    assert window.confirm_page.no.hasFocus()
    qtbot.keyClick(window.confirm_page.no, Qt.Key.Key_Return)  # Enter on the safe answer
    assert window.pages.currentWidget() is window.exam_page and session.state == "running"
    qtbot.mouseClick(window.skip_button, Qt.MouseButton.LeftButton)  # "Skip and finish"
    assert window.pages.currentWidget() is window.confirm_page
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.pages.currentWidget() is window.exam_page and session.state == "running"
    with qtbot.waitSignal(window.finished, timeout=5_000):
        qtbot.mouseClick(window.next_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(window.confirm_page.yes, Qt.MouseButton.LeftButton)
        assert window.end_page.title.text() == "Exam finished"
    assert session.end_reason == "finished"


def test_warnings_at_five_and_one_minute_then_a_calm_end_of_time(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    from tests.ui.test_lockdown import open_window

    window, _ = open_window(qtbot, sqlite_live, make_engine())
    qtbot.keyClick(window, Qt.Key.Key_3)
    clock.advance(8 * 60_000 - 300_500)  # 5 min 0.5 s left
    window.tick()
    assert window.warning_text == ""
    clock.advance(1_000)
    window.tick()
    assert window.warning_text.startswith("5 minutes left.")
    assert announced()[-1].startswith("5 minutes left.")
    clock.advance(240_000)
    window.tick()
    assert window.warning_text.startswith("1 minute left.")
    assert window.clock.property("urgent") is True
    clock.advance(59_000)
    window.tick()
    assert window.clock.text() == "00:01"
    with qtbot.waitSignal(window.finished, timeout=10_000):
        clock.advance(1_000)
        window.tick()
        assert window.pages.currentWidget() is window.end_page
        assert window.end_page.title.text() == "Time is up"
        assert "Your answers are saved and being sent" in window.end_page.message.text()
        assert window.isVisible()  # the window does not vanish at 0:00
    assert window.session.end_reason == "time_up" and window.session.answered() == 1


def test_an_offline_sitting_asks_for_the_proctors_code(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    window = MainWindow(make_engine(), lockdown=False)
    qtbot.addWidget(window)
    window.show()
    invitation = sqlite_live.invite(offline=True)
    window.prefill(sqlite_live.url, invitation["invitation"])
    qtbot.mouseClick(window.enrol_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.home_page, timeout=10_000)
    qtbot.mouseClick(window.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.open_button.isEnabled(), timeout=10_000)
    qtbot.mouseClick(window.open_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.health_page.continue_button, Qt.MouseButton.LeftButton)
    ready = window.ready_page
    assert ready.code_field.isVisible() and not ready.start_button.isVisible()
    assert "your proctor unlocks it with a code" in ready.rules.toPlainText()
    ready.code_field.setText("WRNG-C0DE-XXXX")
    qtbot.keyClick(ready.code_field, Qt.Key.Key_Return)
    assert "Choose whether" in ready.error.text()  # the consent question comes first
    ready.share_yes.click()
    qtbot.keyClick(ready.code_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "unlock code is not right" in ready.error.text(), timeout=10_000)
    assert window.exam is None
    with qtbot.waitSignal(window.exam_opened, timeout=15_000) as opened:
        ready.code_field.setText(invitation["unlock_code"])
        qtbot.keyClick(ready.code_field, Qt.Key.Key_Return)
    exam: ExamWindow = opened.args[0]
    assert exam.session.release == "proctor"
    assert not exam.close()  # the candidate cannot close the exam
    exam.guards.stop()
