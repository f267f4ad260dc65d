"""Practice through the window: pick a category, answer, Submit, read the explanations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from client.ui.main_window import MainWindow
from tests.conftest import ThreadServer

SHOTS = os.environ.get("EXAMGATE_SCREENSHOTS")


def test_practice_before_enrolling(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any
) -> None:
    window = MainWindow(make_engine(), lockdown=False)
    qtbot.addWidget(window)
    window.resize(1000, 760)
    window.show()
    window.server_field.setText(sqlite_live.url)
    window.show_practice()
    page = window.practice_page
    page.category.setCurrentIndex(page.category.findData("improving"))
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.round is not None and page.choices != [], timeout=10_000)
    assert page.round is not None
    assert all(item.category == "improving" for item in page.round.items)
    assert "Question 1 of" in page.position.text()
    assert not page.submit_button.isEnabled()

    item = page.round.items[0]
    wrong = next(n for n, o in enumerate(item.options) if o.id not in item.key)
    # A click anywhere on the option's box chooses it, not only on its text.
    box = page.choices[wrong]
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(box.width() - 5, box.height() // 2))
    assert box.isChecked()
    assert page.submit_button.isEnabled()
    qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
    assert page.verdict.text().startswith("Not quite: the answer is ")
    assert all(label.isVisible() for label in page.explanations)
    assert item.options[wrong].feedback[-30:] in page.explanations[wrong].text()
    first = page.explanations[0]
    qtbot.waitUntil(lambda: first.height() >= first.heightForWidth(first.width()), timeout=2_000)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(SHOTS) / "7-practice.png"))

    for _ in range(len(page.round.items)):
        qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
        current = page.round.current
        if current is None:
            break
        right = next(n for n, o in enumerate(current.options) if o.id in current.key)
        qtbot.mouseClick(page.choices[right], Qt.MouseButton.LeftButton)
        qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
        assert page.verdict.text() == "Right."
    total = len(page.round.items)
    assert page.verdict.text().startswith(f"You answered {total - 1} of {total}")
