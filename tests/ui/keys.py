"""Driving the app as a keyboard-only candidate does: each key goes where a real key would (the
widget holding the keyboard grab, else the focused widget)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from client.ui.exam_window import ExamWindow
from client.ui.main_window import MainWindow
from client.ui.qt import QApplication, Qt, QWidget


def target() -> QWidget:
    widget = QWidget.keyboardGrabber() or QApplication.focusWidget()
    assert widget is not None, "no widget has the keyboard focus"
    return widget


def press(qtbot: QtBot, key: Qt.Key, modifier: Qt.KeyboardModifier | None = None) -> None:
    if modifier is None:
        qtbot.keyClick(target(), key)
    else:
        qtbot.keyClick(target(), key, modifier)


def tab_to(qtbot: QtBot, widget: QWidget, limit: int = 40) -> None:
    """Tab until ``widget`` has the focus (fails if Tab never reaches it: a focus trap)."""
    for _ in range(limit):
        if widget.hasFocus():
            return
        press(qtbot, Qt.Key.Key_Tab)
    assert widget.hasFocus(), f"Tab never reached {widget.accessibleName() or widget}"


def answer_all(qtbot: QtBot, exam: ExamWindow, key: Qt.Key = Qt.Key.Key_1) -> None:
    """Answer every remaining question with ``key`` and Enter, then confirm the finish."""
    for _ in range(exam.session.total + 1):
        if exam.pages.currentWidget() is not exam.exam_page or exam.session.state != "running":
            break
        press(qtbot, key)
        press(qtbot, Qt.Key.Key_Return)
    confirm_finish(qtbot, exam)


def confirm_finish(qtbot: QtBot, exam: ExamWindow) -> None:
    if exam.pages.currentWidget() is not exam.confirm_page:
        return
    assert exam.confirm_page.no.hasFocus()  # the safe answer first
    tab_to(qtbot, exam.confirm_page.yes)
    press(qtbot, Qt.Key.Key_Return)


def quiet_windows() -> None:
    """Windows a test leaves behind stop their timers and watchers (an exam window refuses to
    close while its sitting runs, as it should), so nothing of one test runs in the next."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    for widget in app.topLevelWidgets():
        if isinstance(widget, ExamWindow):
            for timer in (widget.timer, widget.report_timer, widget.retry_timer):
                timer.stop()
            widget.guards.stop()
            widget.report = None
            widget.closed = True
            widget.hide()
        elif isinstance(widget, MainWindow):
            widget.sync_timer.stop()
