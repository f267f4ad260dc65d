"""A sitting in a real exam window under X, for the Xvfb tests (run as a child process).

    python -m tests.proctor.x11_sitting JOURNAL_DB          the exam window, locked down
    python -m tests.proctor.x11_sitting --intruder          another application's window

Prints ``READY <window id>`` once its window is shown and active, then runs until its standard
input closes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "xcb"

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from client.journal import Journal
from client.session import ExamSession, Item, Option, SystemClock
from client.store import connect
from client.ui.exam_window import ExamWindow

ITEMS = [
    Item(
        f"q{n}",
        "foundations",
        f"Question {n}",
        tuple(Option(f"o{n}{k}", f"option {k}") for k in range(4)),
        multiple=False,
    )
    for n in range(5)
]


def main() -> int:
    app = QApplication(sys.argv[:1])
    window: QWidget
    if sys.argv[1] == "--intruder":
        window = QLabel("another program")
        window.setWindowTitle("intruder")
        window.resize(300, 200)
        window.show()
    else:
        session = ExamSession(
            "x11", ITEMS, 480, Journal(connect(Path(sys.argv[1])), "x11"), SystemClock()
        )
        window = ExamWindow(session, "X11 sitting", lockdown=True)
        window.begin()

    def announce() -> None:
        if window.isActiveWindow() or sys.argv[1] == "--intruder":
            print(f"READY {int(window.winId())}", flush=True)
        else:
            QTimer.singleShot(50, announce)

    QTimer.singleShot(50, announce)
    stdin = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)

    def on_input() -> None:
        if not sys.stdin.readline():  # the test closed our input: time to go
            app.exit(0)  # not quit(): the unfinished exam rightly refuses to close

    stdin.activated.connect(on_input)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
