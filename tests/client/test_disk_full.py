"""A disk that refuses to save: SQLite's own "database or disk is full" (the journal's database
capped with max_page_count). The candidate is told at once, nothing saved is lost, the answer
that failed is not shown as saved, and the sitting goes on once the disk takes writes again."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from client.errors import SaveFailed
from client.journal import Journal
from client.store import connect
from client.ui.exam_window import ExamWindow
from tests.conftest import ThreadServer
from tests.ui.keys import quiet_windows


def fill_the_disk(engine: Any) -> None:
    """The disk is about to be full: the database may not grow by a single page more, so the
    first write that needs a new page fails (what is left in pages already there still fills)."""
    pages = engine.db.execute("PRAGMA page_count").fetchone()[0]
    engine.db.execute(f"PRAGMA max_page_count = {pages}")


def free_space(engine: Any) -> None:
    engine.db.execute("PRAGMA max_page_count = 1073741823")


def offline_session(server: ThreadServer, engine: Any) -> Any:
    invitation = server.invite(offline=True)
    sitting = engine.enrol(server.url, invitation["invitation"])
    engine.download(sitting["id"])
    return engine.unlock(sitting["id"], invitation["unlock_code"])


def test_a_full_disk_loses_nothing_and_the_sitting_goes_on(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    session = offline_session(sqlite_live, engine)
    session.start()
    assert session.current is not None
    first = session.current.options[0].id
    session.answer([first])
    fill_the_disk(engine)
    options = [o.id for o in session.current.options]
    last = first
    for attempt in range(500):  # answers are saved until the disk has no room left
        choice = options[attempt % len(options)]
        try:
            session.answer([choice])
        except SaveFailed as error:
            assert "could not be saved: this computer's disk is full" in str(error)
            break
        last = choice
    else:
        raise AssertionError("the disk never filled up")
    saved = session.journal.events
    failures = 1
    for option in options:
        with pytest.raises(SaveFailed):
            session.answer([option])
        failures += 1
    assert session.answers[session.current.id] == [last]  # the failed choices are not taken
    with pytest.raises(SaveFailed):
        session.advance()
    assert session.index == 0
    reopened = Journal(connect(engine.settings.database), session.sitting_id, engine.keys.storage)
    assert reopened.events == saved  # nothing saved before is lost
    assert not session.recover()  # still full
    free_space(engine)
    assert session.recover()
    recorded = session.journal.events[-1]
    assert recorded["type"] == "save_failed" and recorded["data"]["failures"] == failures + 2
    session.advance()
    while session.state == "running":
        assert session.current is not None
        session.answer([session.current.options[0].id])
        session.advance()
    engine.seal(session)
    [delivered] = engine.sync()
    assert delivered.result["integrity"]["outcome"] == "clean" or "save_failed" not in {
        f["reason"] for f in delivered.result["integrity"]["flags"]
    }


def test_the_exam_window_blocks_until_the_disk_takes_writes(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    window = ExamWindow(
        offline_session(sqlite_live, engine), "Deep learning", lockdown=False, keyboard=False
    )
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.begin()
    qtbot.keyClick(window, Qt.Key.Key_1)
    assert window.saved.text() == "Answer saved"
    fill_the_disk(engine)
    item = window.session.current
    assert item is not None
    presses = 0
    while not window.save_failing and presses < 500:  # until the disk has no room left
        qtbot.keyClick(window, (Qt.Key.Key_1, Qt.Key.Key_2)[presses % 2])
        presses += 1
    assert window.save_failing  # shown at the failed save itself, not a second later
    assert "Free some space or call your proctor" in window.save_page.message.text()
    kept = window.session.answers[item.id]
    assert kept == [item.options[(presses - 2) % 2].id]  # the last choice that was saved
    qtbot.keyClick(window, Qt.Key.Key_3)  # nothing can be chosen meanwhile
    qtbot.keyClick(window, Qt.Key.Key_Return)
    assert window.session.index == 0
    qtbot.waitUntil(lambda: "Still not saving" in window.save_page.status.text(), timeout=5_000)
    free_space(engine)
    qtbot.waitUntil(lambda: not window.save_failing, timeout=5_000)
    assert "Choose your last answer again" in window.warning_text
    shown = [b.isChecked() for b in window.buttons[:2]]
    assert shown == [kept == [item.options[0].id], kept == [item.options[1].id]]
    qtbot.keyClick(window, Qt.Key.Key_3)
    assert window.session.answers[item.id] == [item.options[2].id]
    quiet_windows()
