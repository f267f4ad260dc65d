"""Accessibility checked on the real widgets: every interactive widget on every screen has a name a
screen reader can say; every colour pair meets WCAG 2.1 AA; the screens fit 1366x768 at 200%
scaling without clipping; practice wraps instead of scrolling sideways."""

from __future__ import annotations

import re
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from client.practice import PracticeItem
from client.ui.display_page import DisplayPage, apply_display, load_display
from client.ui.lock_screen import LockScreen
from client.ui.main_window import MainWindow
from client.ui.passphrase_dialog import PassphraseDialog
from client.ui.style import PAIRS, THEMES, Display, contrast, stylesheet
from tests.conftest import ManualClock, ThreadServer
from tests.ui.test_lockdown import open_window

INTERACTIVE = (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView, QAbstractScrollArea)
# 1366x768 at 200% scaling: Qt lays the window out in half as many device-independent pixels.
SCALED = (683, 384)


def spoken_name(widget: QWidget) -> str:
    """The name Qt's accessibility layer gives a screen reader for ``widget``."""
    interface = QAccessible.queryAccessibleInterface(widget)
    assert interface is not None
    return str(interface.text(QAccessible.Text.Name)).strip()


def unnamed(root: QWidget) -> list[str]:
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not isinstance(widget, INTERACTIVE) or not (widget is root or widget.isVisibleTo(root)):
            continue  # hidden ones are checked on the screen that shows them
        if widget.focusPolicy() == Qt.FocusPolicy.NoFocus and not isinstance(
            widget, QAbstractButton
        ):
            continue  # a scroll area the keyboard never lands on (its contents are checked)
        if not spoken_name(widget):
            found.append(
                f"{type(widget).__name__} {widget.objectName()!r} in {type(root).__name__}"
            )
    return found


def every_screen(qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any) -> list[QWidget]:
    engine = make_engine()
    window = MainWindow(engine, lockdown=False)
    qtbot.addWidget(window)
    exam, _ = open_window(qtbot, sqlite_live, make_engine("other"))
    screens: list[QWidget] = [window.stack.widget(i) for i in range(window.stack.count())]
    screens += [exam, LockScreen("s", "proctor"), LockScreen("s", "candidate")]
    screens += [DisplayPage(Display()), PassphraseDialog(engine.settings.home)]
    for each in screens[-4:]:
        qtbot.addWidget(each)
    return screens


def test_every_interactive_widget_on_every_screen_has_a_name(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    screens = every_screen(qtbot, sqlite_live, make_engine)
    checked = sum(
        1
        for screen in screens
        for widget in [screen, *screen.findChildren(QWidget)]
        if isinstance(widget, INTERACTIVE)
    )
    assert checked >= 60  # the walk sees the widgets (buttons, fields, options, tables...)
    missing = [name for screen in screens for name in unnamed(screen)]
    assert missing == []


def test_a_widget_without_a_name_is_caught(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QPushButton, QVBoxLayout

    page = QWidget()
    qtbot.addWidget(page)
    QVBoxLayout(page).addWidget(QPushButton(""))  # no text, no accessible name
    assert len(unnamed(page)) == 1


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_every_colour_pair_meets_wcag_aa(theme: str) -> None:
    palette = THEMES[theme]
    failing = [
        f"{fg} on {bg} ({where}): {contrast(palette[fg], palette[bg]):.2f} < {minimum}"
        for fg, bg, minimum, where in PAIRS
        if contrast(palette[fg], palette[bg]) < minimum
    ]
    assert failing == []
    used = set(re.findall(r"#[0-9a-fA-F]{6}\b", stylesheet(Display(theme=theme))))
    assert used <= {colour.lower() for colour in palette.values()}  # nothing off the palette


def test_the_contrast_formula_matches_wcag() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near-miss
    assert contrast("#1f6f8b", "#1f6f8b") == pytest.approx(1.0)


def longest_warnings() -> list[str]:
    """The longest sentences the exam's warning slot has to hold."""
    from client.policy import Decision, message
    from client.proctor.lockdown import _focus_message

    lost = Decision("warn", "focus_lost", 10, 10)
    program = Decision("warn", "program_found", 10, 10)
    return [
        _focus_message(lost, 999, "proctor"),
        _focus_message(lost, 999, "candidate"),
        message(program, {"name": "telegram-desktop"}),
        message(Decision("warn", "key_blocked", 10, 10), {"combo": "alt+tab"}),
        "Saving works again. Choose your last answer again if it is not marked.",
        "5 minutes left. Your answers are saved as you go.",
    ]


def clipped(root: QWidget) -> list[str]:
    """Visible labels whose text needs more room than they have (cut off at the edge)."""
    found = []
    for widget in root.findChildren(QLabel):
        if not widget.isVisibleTo(root) or not widget.text():
            continue
        width = widget.width()
        if widget.wordWrap():
            need = widget.heightForWidth(width) if widget.hasHeightForWidth() else 0
            if need > widget.height() + 2 and not _scrolls(widget, root):
                found.append(f"{widget.text()[:40]!r}: {need} > {widget.height()}")
        elif widget.sizeHint().width() > width + 2 and not _scrolls(widget, root):
            found.append(f"{widget.text()[:40]!r}: {widget.sizeHint().width()} > {width}")
    return found


def _scrolls(widget: QWidget, root: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not root:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


@pytest.mark.parametrize("text_size", ["standard", "largest"])
def test_the_exam_fits_1366x768_at_200_percent(
    qtbot: QtBot,
    sqlite_live: ThreadServer,
    make_engine: Any,
    clock: ManualClock,
    text_size: str,
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet(stylesheet(Display(text_size=text_size)))
    try:
        exam, _ = open_window(qtbot, sqlite_live, make_engine())
        exam.resize(*SCALED)
        qtbot.wait(50)
        hint = exam.minimumSizeHint()
        assert hint.width() <= SCALED[0] and hint.height() <= SCALED[1], hint
        for page in (exam.exam_page, exam.lock_page, exam.confirm_page):
            exam.pages.setCurrentWidget(page)
            qtbot.wait(20)
            assert clipped(page) == []
        view = exam.question
        assert view.widget().width() <= view.viewport().width()  # no sideways scrolling
        exam.pages.setCurrentWidget(exam.exam_page)
        for warning in longest_warnings():
            exam._warn(warning)
            qtbot.wait(10)
            need = exam.warning.heightForWidth(exam.warning.width())
            assert need <= exam.warning.height(), (warning, need, exam.warning.height())
    finally:
        app.setStyleSheet(stylesheet())


def test_the_main_screens_fit_1366x768_at_200_percent(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    window = MainWindow(make_engine(), lockdown=False)
    qtbot.addWidget(window)
    window.show()
    window.resize(*SCALED)
    for index in range(window.stack.count()):
        window.stack.setCurrentIndex(index)
        qtbot.wait(20)
        page = window.stack.currentWidget()
        hint = page.minimumSizeHint()
        assert hint.width() <= SCALED[0], (type(page).__name__, hint)
        assert hint.height() <= SCALED[1], (type(page).__name__, hint)
    ready = window.ready_page  # with the consent question an invited candidate is asked
    window.stack.setCurrentWidget(ready)
    ready.consent_question.setText(
        "May Acme Hiring International see your result? Either way it learns that you "
        "completed the exam."
    )
    for part in (ready.consent_question, ready.share_yes, ready.share_no):
        part.setVisible(True)
    qtbot.wait(20)
    hint = ready.minimumSizeHint()
    assert hint.width() <= SCALED[0] and hint.height() <= SCALED[1], hint


def longest_practice_item(engine: Any) -> PracticeItem:
    items = engine.practice_items()
    return max(items, key=lambda item: max(len(o.text) for o in item.options))


def test_practice_wraps_its_options_instead_of_scrolling_sideways(
    qtbot: QtBot, sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    engine.fetch_practice(sqlite_live.url)
    apply_display(load_display(engine.settings.home))  # as the app does when it starts
    window = MainWindow(engine, lockdown=False)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.show_practice()
    page = window.practice_page
    longest = longest_practice_item(engine)
    page._begin([longest])
    qtbot.wait(50)
    view = page.view
    assert view.widget().width() <= view.viewport().width()
    widest = max(range(len(longest.options)), key=lambda n: len(longest.options[n].text))
    option = page.choices[widest]
    text = option.text_label  # type: ignore[attr-defined]
    assert text.geometry().right() <= option.width()  # inside its box
    assert option.mapTo(view.viewport(), option.rect().topRight()).x() <= view.viewport().width()
    if len(longest.options[widest].text) > 120:  # wrapped, not cut (the first layout of a
        # new process's first window can take longer than the wait above)
        qtbot.waitUntil(
            lambda: text.height() > 1.5 * text.fontMetrics().lineSpacing(), timeout=5000
        )
    qtbot.keyClick(page, "2")  # keys as in the exam
    assert page.chosen == {1}
    qtbot.mouseClick(page.submit_button, Qt.MouseButton.LeftButton)
    assert page.verdict.isVisible() and page.verdict.text()
    # The verdict is in view above the buttons, not below the fold.
    assert page.verdict.mapTo(window, page.verdict.rect().bottomLeft()).y() <= window.height()


def test_the_certificates_text_colours_meet_wcag_aa_on_its_white_page() -> None:
    from certificates.render import TEXT_COLOURS

    failing = {
        name: round(contrast(colour, "#ffffff"), 2)
        for name, colour in TEXT_COLOURS.items()
        if contrast(colour, "#ffffff") < 4.5
    }
    assert failing == {}
