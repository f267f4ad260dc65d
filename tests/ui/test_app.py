"""Starting the desktop app."""

from __future__ import annotations

from pathlib import Path

import keyring
from keyring.backends import fail
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from client.settings import ClientSettings
from client.ui.app import run_app


def test_without_a_keyring_the_app_explains_what_is_needed(qtbot: QtBot, tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())  # the memory keyring fixture restores the previous one
    seen: list[str] = []

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_and_close)
            return
        seen.append(box.text())
        box.accept()

    QTimer.singleShot(20, read_and_close)
    assert run_app(ClientSettings.load(tmp_path / "home")) == 1
    assert seen and "system keyring" in seen[0] and "GNOME Keyring" in seen[0]


EXIT_AFTER_A_SITTING = """
from pathlib import Path
import sys
from PySide6.QtWidgets import QApplication
from client.journal import Journal
from client.session import ExamSession, Item, Option, SystemClock
from client.store import connect
from client.ui.exam_window import ExamWindow

items = [Item("q", "cnn", "s", tuple(Option(f"o{k}", "t") for k in range(4)), False)]
app = QApplication([])
journal = Journal(connect(Path(sys.argv[1])), "x", bytes(32))
journal.open_chain(bytes(range(32)))
session = ExamSession("x", items, 60, journal, SystemClock())
window = ExamWindow(session, "t", lockdown=False)
window.begin()
window.choose(0)
window.advance()
assert session.state == "ended"
"""


def test_the_app_exits_cleanly_after_a_sitting(tmp_path: Path) -> None:
    """Qt objects the lockdown touches (clipboard, screens) must not crash the process on exit."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYNPUT_BACKEND="dummy")
    done = subprocess.run(
        [sys.executable, "-c", EXIT_AFTER_A_SITTING, str(tmp_path / "j.db")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-2000:]
