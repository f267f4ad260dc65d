"""The exam window: full screen, one item at a time, a countdown, keyboard shortcuts.

It renders the session and forwards choices to it; the session decides everything (what is
allowed, when time is up). A choice is shown as chosen only after the session has written it to
the journal.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QHBoxLayout,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from client.proctor.focus import FocusWatcher
from client.session import ExamSession
from client.ui.widgets import button, label, option_button
from shared.models import category_name

LETTERS = "ABCDEFGH"
TICK_MS = 200


def format_clock(ms: int) -> str:
    seconds = (ms + 999) // 1000
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


class ExamWindow(QWidget):
    finished = Signal()

    def __init__(self, session: ExamSession, title: str, lockdown: bool = True) -> None:
        super().__init__()
        self.session = session
        self.lockdown = lockdown
        self.setObjectName("exam")
        self.setWindowTitle(f"examgate: {title}")
        if lockdown:
            self.setWindowFlags(
                Qt.WindowType.Window
                | Qt.WindowType.FramelessWindowHint
                | Qt.WindowType.WindowStaysOnTopHint
            )
        self.title = label(title, name="subtitle")
        self.position = label(name="subtitle")
        self.clock = label(name="clock")
        self.progress = QProgressBar(textVisible=False, maximum=session.total)
        self.warning = label(name="warning", wrap=True)
        self.warning.hide()
        self.category = label(name="subtitle")
        self.stem = label(name="stem", wrap=True)
        self.stem.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.options_box = QVBoxLayout()
        self.options_box.setSpacing(10)
        self.saved = label(name="subtitle")
        self.hint = label(name="subtitle")
        self.next_button = button("Next", primary=True)
        self.next_button.clicked.connect(self.advance)
        self.group: QButtonGroup | None = None
        self.buttons: list[QAbstractButton] = []

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch()
        top.addWidget(self.position)
        top.addSpacing(24)
        top.addWidget(self.clock)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint)
        bottom.addStretch()
        bottom.addWidget(self.saved)
        bottom.addSpacing(12)
        bottom.addWidget(self.next_button)
        column = QVBoxLayout()
        column.addLayout(top)
        column.addWidget(self.progress)
        column.addSpacing(8)
        column.addWidget(self.warning)
        column.addSpacing(16)
        column.addWidget(self.category)
        column.addWidget(self.stem)
        column.addSpacing(16)
        column.addLayout(self.options_box)
        column.addStretch()
        column.addLayout(bottom)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 6)
        outer.addStretch(1)

        self.focus = FocusWatcher(self, self._record, session.clock.mono_ms)
        self.focus.returned.connect(self._warn_return)
        self.timer = QTimer(self, interval=TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.shown_item: str | None = None
        self.done = False

    def _record(self, kind: str, data: dict[str, object]) -> None:
        self.session.record(kind, data)

    def begin(self) -> None:
        """Show the window and start (or resume) the sitting."""
        self.session.start()
        self.refresh_view()
        if self.lockdown:
            self.showFullScreen()
        else:
            self.show()
        self.raise_()
        self.activateWindow()
        self.timer.start()

    # -- rendering ---------------------------------------------------------------------------
    def refresh_view(self) -> None:
        item = self.session.current
        if item is None:
            return
        number = self.session.index + 1
        self.position.setText(f"Question {number} of {self.session.total}")
        self.progress.setValue(self.session.index)
        if self.shown_item != item.id:
            self._build_options()
            self.shown_item = item.id
            self.saved.setText("")
        chosen = set(self.session.answers.get(item.id, []))
        for choice, option in zip(self.buttons, item.options, strict=True):
            choice.setChecked(option.id in chosen)
        last = number == self.session.total
        self.next_button.setText(("Finish" if last else "Next") if chosen else "Skip")
        self.hint.setText(
            f"Keys: 1-{len(item.options)} or A-{LETTERS[len(item.options) - 1]} to choose, "
            "Enter to continue. No going back."
        )
        self._render_clock()

    def _build_options(self) -> None:
        item = self.session.current
        assert item is not None
        for old in self.buttons:
            self.options_box.removeWidget(old)
            old.deleteLater()
        self.category.setText(category_name(item.category))
        self.stem.setText(item.stem)
        self.group = QButtonGroup(self)
        self.group.setExclusive(not item.multiple)
        self.buttons = []
        for number, option in enumerate(item.options):
            text = f"{LETTERS[number]}   {option.text}"
            choice = option_button(text, item.multiple)
            choice.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            choice.clicked.connect(lambda _checked=False, n=number: self.choose(n))
            self.group.addButton(choice, number)
            self.options_box.addWidget(choice)
            self.buttons.append(choice)

    def _render_clock(self) -> None:
        remaining = self.session.remaining_ms()
        self.clock.setText(format_clock(remaining))
        urgent = remaining <= 60_000
        if self.clock.property("urgent") != urgent:
            self.clock.setProperty("urgent", urgent)
            self.clock.style().unpolish(self.clock)
            self.clock.style().polish(self.clock)

    # -- intent ------------------------------------------------------------------------------
    def choose(self, number: int) -> None:
        item = self.session.current
        if item is None or number >= len(item.options):
            return
        option = item.options[number].id
        chosen = list(self.session.answers.get(item.id, []))
        if item.multiple:
            chosen = [o for o in chosen if o != option] if option in chosen else [*chosen, option]
        else:
            chosen = [option]
        self.session.answer(chosen)  # on disk before the window shows it
        self.saved.setText("Answer saved")
        self.refresh_view()
        self._check_end()

    def advance(self) -> None:
        if self.session.state != "running":
            return
        self.session.advance()
        self.warning.hide()
        self.refresh_view()
        self._check_end()

    def tick(self) -> None:
        self.session.tick()
        self._render_clock()
        self._check_end()

    def _check_end(self) -> None:
        if self.session.state == "ended" and not self.done:
            self.done = True
            self.timer.stop()
            self.focus.stop()
            self.finished.emit()
            self.close()

    def _warn_return(self, away_ms: int, losses: int) -> None:
        seconds = max(1, round(away_ms / 1000))
        times = "once" if losses == 1 else f"{losses} times"
        self.warning.setText(
            f"You left the exam window for {seconds} s. Leaving the exam is recorded and reported "
            f"with your result (you have left it {times}). Stay in this window until you finish."
        )
        self.warning.show()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_8:
            self.choose(key - Qt.Key.Key_1)
        elif Qt.Key.Key_A <= key <= Qt.Key.Key_H:
            self.choose(key - Qt.Key.Key_A)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.advance()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.session.state == "ended":
            event.accept()
        else:
            event.ignore()  # the sitting ends by finishing or at time-up, not by closing
