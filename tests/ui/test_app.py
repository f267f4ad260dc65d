"""Starting the desktop app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from client.errors import WrongPassphrase
from client.keystore import PassphraseKeyStore

PASSPHRASE_RUN = """
import json, sys
from pathlib import Path
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from client.settings import ClientSettings
from client.ui.app import run_app
from client.ui.main_window import MainWindow
from client.ui.passphrase_dialog import PassphraseDialog

answers = json.loads(sys.argv[2])
seen = []

def answer():
    box = QApplication.activeModalWidget()
    if not isinstance(box, PassphraseDialog):
        QTimer.singleShot(20, answer)
        return
    first, again = answers.pop(0)
    box.passphrase.setText(first)
    box.again.setText(again)
    QTest.keyClick(box.passphrase, Qt.Key.Key_Return)
    seen.append(box.error.text())
    QTimer.singleShot(20, answer if answers else quit_main)

def quit_main():
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, MainWindow) and widget.isVisible():
            seen.append("main window")
            QApplication.quit()
            return
    QTimer.singleShot(50, quit_main)

QApplication([])
QTimer.singleShot(20, answer)
code = run_app(ClientSettings.load(Path(sys.argv[1])))
print(json.dumps({"code": code, "seen": seen}))
"""


def run_with_passphrases(home: Path, answers: list[tuple[str, str]]) -> dict[str, Any]:
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        PYNPUT_BACKEND="dummy",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
    )
    done = subprocess.run(
        [sys.executable, "-c", PASSPHRASE_RUN, str(home), json.dumps(answers)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_without_a_keyring_the_keys_are_locked_with_a_passphrase(tmp_path: Path) -> None:
    """No system keyring: the app asks for a passphrase (twice), keeps the keys in a file
    encrypted under it, and at the next start opens with it and refuses a wrong one."""
    home = tmp_path / "home"
    first = run_with_passphrases(
        home, [("short", "short"), ("correct horse", "battery"), ("correct horse", "correct horse")]
    )
    assert first["code"] == 0
    assert first["seen"][0] == "Use at least 8 characters."
    assert first["seen"][1].startswith("The two passphrases differ")
    assert first["seen"][-1] == "main window"
    stored = home / "device-keys.enc"
    assert "correct horse" not in stored.read_text() and stored.stat().st_mode & 0o077 == 0
    with pytest.raises(WrongPassphrase):
        PassphraseKeyStore(home, "wrong horse").load()
    keys = PassphraseKeyStore(home, "correct horse").load()
    assert keys is not None

    again = run_with_passphrases(home, [("wrong horse", ""), ("correct horse", "")])
    assert again["code"] == 0
    assert again["seen"][0].startswith("That passphrase does not open")
    assert again["seen"][-1] == "main window"
    reopened = PassphraseKeyStore(home, "correct horse").load()
    assert reopened is not None and reopened.storage == keys.storage  # the same device


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
