"""The Qt binding itself: calls that return nothing must not use up Python's references to None
(PySide6 6.12.0 on Python 3.11 does: the app aborts after a few thousand calls)."""

from __future__ import annotations

import sys

from pytestqt.qtbot import QtBot

from client.ui.qt import QLabel, QWidget


def test_calls_that_return_nothing_keep_none_alive(qtbot: QtBot) -> None:
    text, widget = QLabel(), QWidget()
    qtbot.addWidget(text)
    qtbot.addWidget(widget)
    before = sys.getrefcount(None)
    for _ in range(500):
        text.setText("x")  # returns nothing
        widget.property("not set")  # returns None
        QWidget.keyboardGrabber()  # None: no grab
    assert sys.getrefcount(None) >= before - 10
