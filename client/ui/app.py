"""Start the desktop app."""

from __future__ import annotations

import sys

from client.engine import Engine
from client.keystore import KeyringStore, KeyStore, keyring_available
from client.settings import ClientSettings
from client.ui.display_page import apply_display, load_display
from client.ui.main_window import MainWindow
from client.ui.passphrase_dialog import PassphraseDialog
from client.ui.qt import QApplication, QDialog


def run_app(
    settings: ClientSettings,
    server: str | None = None,
    invitation: str | None = None,
    lockdown: bool = True,
) -> int:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("examgate")
    apply_display(load_display(settings.home))
    store: KeyStore
    if keyring_available():
        store = KeyringStore(settings.home)
    else:
        # No system keyring: the keys live in a file locked with the candidate's passphrase.
        dialog = PassphraseDialog(settings.home)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.store is None:
            return 1
        store = dialog.store
    engine = Engine(settings, store)
    window = MainWindow(engine, lockdown=lockdown)
    if server or invitation:
        window.prefill(server or "", invitation or "")
    window.show()
    try:
        return app.exec()
    finally:
        engine.close()
