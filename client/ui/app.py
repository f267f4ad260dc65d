"""Start the desktop app."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from client.engine import Engine
from client.errors import KeyringUnavailable
from client.keystore import KeyringStore, keyring_available
from client.settings import ClientSettings
from client.ui.main_window import MainWindow
from client.ui.style import STYLE


def run_app(
    settings: ClientSettings,
    server: str | None = None,
    invitation: str | None = None,
    lockdown: bool = True,
) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("examgate")
    app.setStyleSheet(STYLE)
    if not keyring_available():
        QMessageBox.critical(None, "examgate needs a keyring", str(KeyringUnavailable()))
        return 1
    engine = Engine(settings, KeyringStore(settings.home))
    window = MainWindow(engine, lockdown=lockdown)
    if server or invitation:
        window.prefill(server or "", invitation or "")
    window.show()
    try:
        return app.exec()
    finally:
        engine.close()
