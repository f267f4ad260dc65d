"""The sync view: each finished exam pending, refused or received, and the hand-in file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from client.ui.sync_page import SyncPage
from server.settings import Settings
from tests.conftest import ProcessServer, Templates
from tests.helpers import sit


def test_a_finished_exam_is_followed_from_waiting_to_received(
    qtbot: QtBot, tmp_path: Path, make_engine: Any, templates: Templates
) -> None:
    settings = Settings(tmp_path / "srv", f"sqlite:///{tmp_path / 'srv.db'}")
    templates.initialise(settings)
    engine = make_engine()
    with ProcessServer(settings) as server:
        engine.seal(sit(engine, server.url, server.invite(offline=True)))
        port = server.port
    usb = tmp_path / "usb"
    page = SyncPage(engine, folder=lambda: str(usb))
    qtbot.addWidget(page)
    page.resize(1000, 600)
    page.show()
    page.refresh()
    assert page.table.item(0, 0).text() == "Deep learning skills test"
    assert page.table.item(0, 1).text() == "Waiting to be sent"
    qtbot.mouseClick(page.send_button, Qt.MouseButton.LeftButton)  # the server is down
    qtbot.waitUntil(
        lambda: "Not sent yet (1 tries)" in page.table.item(0, 1).text(), timeout=15_000
    )
    assert "cannot be reached" in page.table.item(0, 2).text()
    assert "save it to a file" in page.table.item(0, 2).text()
    page.table.selectRow(0)
    qtbot.mouseClick(page.export_button, Qt.MouseButton.LeftButton)
    [saved] = list(usb.iterdir())
    assert json.loads(saved.read_text())["format"] == "examgate-hand-in/1"
    assert "Give this file to your proctor" in page.status.text()
    with ProcessServer(settings, port):  # the same server back on the same port
        qtbot.mouseClick(page.send_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.table.item(0, 1).text().startswith("Received"), timeout=15_000)
    assert "1 exam(s) received by the server" in page.status.text()
    assert not page.export_button.isEnabled()
