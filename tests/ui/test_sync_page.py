"""The sync view: each finished exam pending, refused or received, and the hand-in file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from client.outbox import Status
from client.ui.sync_page import SyncPage, describe_status
from server.settings import Settings
from tests.conftest import ProcessServer, Templates
from tests.helpers import queued, sit


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


def busy_server(tmp_path: Path, templates: Templates, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A server whose every upload counts as one past the inline limit (as in a burst)."""
    monkeypatch.setenv("EXAMGATE_SCORE_INLINE_LIMIT", "0")
    settings = Settings(tmp_path / "srv", f"sqlite:///{tmp_path / 'srv.db'}")
    templates.initialise(settings)
    return settings


def test_a_result_scored_after_the_receipt_follows_once_ready(
    qtbot: QtBot,
    tmp_path: Path,
    make_engine: Any,
    templates: Templates,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server under load receipts the upload at once and scores it moments later: the row
    says received and scoring, and the result comes to this computer when it is ready."""
    settings = busy_server(tmp_path, templates, monkeypatch)
    engine = make_engine()
    page = SyncPage(engine, folder=lambda: str(tmp_path))
    qtbot.addWidget(page)
    page.show()
    with ProcessServer(settings) as server:
        submission_id = engine.seal(sit(engine, server.url, server.invite(offline=True)))
        page.refresh()
        qtbot.mouseClick(page.send_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.table.item(0, 1).text().startswith("Received"), timeout=15_000)
        assert queued(server.ctx, "score", submission_id, every=True) == 1  # receipted first
        assert not page.export_button.isEnabled()  # received: nothing to hand in

        def scored() -> bool:
            engine.sync_due()  # what the app's timer does
            return engine.result(submission_id) is not None

        qtbot.waitUntil(scored, timeout=30_000)
    page.refresh()
    assert page.table.item(0, 2).text() == "Nothing to do: your result is ready."


def test_a_received_exam_still_being_scored_is_described_as_such() -> None:
    status = Status("s", "t", "scoring", 1, None, None, 1_700_000_000_000, None)
    state, action = describe_status(status, 1_700_000_000_000)
    assert state.startswith("Received ")
    assert "scoring it" in action and "appears here" in action


def test_after_the_exam_a_busy_servers_receipt_is_said_then_the_result_shown(
    qtbot: QtBot,
    tmp_path: Path,
    make_engine: Any,
    templates: Templates,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server receipts the upload before scoring it: the result page says the answers
    were received and are being scored, then shows the result when it comes."""
    from client.ui.main_window import MainWindow

    settings = busy_server(tmp_path, templates, monkeypatch)
    engine = make_engine()
    window = MainWindow(engine, lockdown=False)
    qtbot.addWidget(window)
    window.show()
    with ProcessServer(settings) as server:
        session = sit(engine, server.url, server.invite(offline=True))
        said: list[str] = []
        with qtbot.waitSignal(window.result_shown, timeout=60_000) as shown:
            window._exam_finished(session)
            qtbot.waitUntil(lambda: "received by the server" in window.result_page.status.text())
            said.append(window.result_page.status.text())
            assert not window.result_page.share_button.isEnabled()  # no result to share yet
    assert "scoring them now" in said[0] and "receipt is kept" in said[0]
    assert shown.args[0]["overall"] and window.result_page.result == shown.args[0]
