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
