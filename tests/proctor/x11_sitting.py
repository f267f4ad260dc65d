"""A sitting in a real exam window under X, for the Xvfb tests (run as a child process).

    python -m tests.proctor.x11_sitting JOURNAL_DB [--policy JSON] [--secret HEX] [--health]
    python -m tests.proctor.x11_sitting --intruder          another application's window

Prints ``READY <window id>`` once its window is shown and active, then a line for each lockdown
signal (``WARNED``, ``LOCKED <challenge>``, ``UNLOCKED``), and runs until its input closes. With
``--health`` it runs the pre-sitting check first and prints ``REFUSED <checks>`` if it fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "xcb"

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from client.journal import Journal
from client.proctor.health import can_start, run_health_checks
from client.proctor.platform import platform_guard
from client.session import ExamSession, Item, Option, SystemClock, UnlockChecks
from client.store import connect
from client.ui.exam_window import ExamWindow
from shared import crypto
from shared.policy import Policy
from tests.proctor.harness_keys import SERVER_KEX, STORAGE_KEY

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


def say(line: str) -> None:
    print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("journal", nargs="?")
    parser.add_argument("--intruder", action="store_true")
    parser.add_argument("--policy", default="{}")
    parser.add_argument("--secret", default="")
    parser.add_argument("--health", action="store_true")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    window: QWidget
    policy = Policy.from_json(json.loads(args.policy))
    if args.intruder:
        window = QLabel("another program")
        window.setWindowTitle("intruder")
        window.resize(300, 200)
        window.show()
    else:
        if args.health:
            checks = run_health_checks(policy, platform_guard())
            if not can_start(checks):
                say("REFUSED " + json.dumps([c.to_json() for c in checks]))
                return 3
        journal = Journal(connect(Path(args.journal)), "x11", STORAGE_KEY)
        journal.open_chain(SERVER_KEX)
        checks = None
        if args.secret:
            commitments = crypto.unlock_commitments(bytes.fromhex(args.secret), "x11", count=2)
            checks = UnlockChecks.from_json(commitments)
        session = ExamSession(
            "x11", ITEMS, 480, journal, SystemClock(), policy=policy, unlock=checks
        )
        exam = ExamWindow(session, "X11 sitting", lockdown=True)
        exam.guards.warned.connect(lambda message: say("WARNED " + message))
        exam.guards.locked.connect(lambda challenge: say("LOCKED " + challenge))
        exam.guards.unlocked.connect(lambda: say("UNLOCKED"))
        exam.begin()
        window = exam

    def announce() -> None:
        if window.isActiveWindow() or args.intruder:
            say(f"READY {int(window.winId())}")
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
