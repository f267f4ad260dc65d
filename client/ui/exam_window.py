"""The exam window: full screen, one item at a time, a countdown, keyboard shortcuts.

It renders the session and forwards choices to it; the session decides everything (what is
allowed, when time is up). A choice is shown as chosen only after the session has written it to
the journal.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from client.checks import Check
from client.errors import SaveFailed
from client.proctor.lockdown import Lockdown
from client.proctor.platform import PlatformGuard
from client.session import ExamSession, UnlockAttempt
from client.ui.widgets import LETTERS, button, label, option_button
from shared.models import category_name

TICK_MS = 200
RETRY_SAVE_MS = 1_000
REPORT_MS = 30_000


def format_clock(ms: int) -> str:
    seconds = (ms + 999) // 1000
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


class ExamWindow(QWidget):
    finished = Signal()

    def __init__(
        self,
        session: ExamSession,
        title: str,
        lockdown: bool = True,
        guard: PlatformGuard | None = None,
        keyboard: bool = True,
        report: Callable[[ExamSession], None] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        # Shows the server how far the log has come (a checkpoint), every REPORT_MS.
        self.report = report
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
        exam_page = QWidget()
        outer = QHBoxLayout(exam_page)
        outer.addStretch(1)
        outer.addLayout(column, 6)
        outer.addStretch(1)
        self.lock_page = LockScreen(session.sitting_id)
        self.lock_page.submitted.connect(self._try_unlock)
        self.lock_page.end_requested.connect(self._end_while_locked)
        self.save_page = SaveFailedScreen()
        self.pages = QStackedLayout(self)
        self.pages.addWidget(exam_page)
        self.pages.addWidget(self.lock_page)
        self.pages.addWidget(self.save_page)
        self.retry_timer = QTimer(self, interval=RETRY_SAVE_MS)
        self.retry_timer.timeout.connect(self._retry_save)

        self.guard = guard
        self.guards = Lockdown(self, session, guard, keyboard=keyboard)
        self.guards.warned.connect(self._warn)
        self.guards.locked.connect(self._show_lock)
        self.guards.unlocked.connect(self._hide_lock)
        self.guards.voided.connect(self._voided)
        self.guards.save_failed.connect(self._save_failed)
        self.timer = QTimer(self, interval=TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.report_timer = QTimer(self, interval=REPORT_MS)
        self.report_timer.timeout.connect(self._report)
        self.shown_item: str | None = None
        self.done = False
        self._page_before_failure = 0

    def begin(self, health: list[Check] | None = None) -> None:
        """Show the window and start (or resume) the sitting.

        ``health`` is the pre-sitting check, journalled so it travels in the signed submission.
        """
        if health is not None:
            self.session.record("health_check", {"checks": [c.to_json() for c in health]})
        self.session.start()
        self.refresh_view()
        if self.lockdown:
            screen = QGuiApplication.primaryScreen()
            if screen is not None:
                self.setGeometry(screen.geometry())
            self.showFullScreen()
        else:
            self.show()
        self.raise_()
        self.activateWindow()
        if self.lockdown:
            self.grabKeyboard()  # X11: shortcuts reach the exam, not the window manager
        self.guards.start()
        if self.session.locked:
            self._show_lock(self.session.lock_challenge or "")  # a lock outlives a restart
        self.timer.start()
        self.report_timer.start()
        self._report()

    def _report(self) -> None:
        if self.report is not None and self.session.state == "running" and not self.save_failing:
            self.report(self.session)

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
        if self.session.locked or self.save_failing:
            return
        item = self.session.current
        if item is None or number >= len(item.options):
            return
        option = item.options[number].id
        chosen = list(self.session.answers.get(item.id, []))
        if item.multiple:
            chosen = [o for o in chosen if o != option] if option in chosen else [*chosen, option]
        else:
            chosen = [option]
        try:
            self.session.answer(chosen)  # on disk before the window shows it
        except SaveFailed as error:
            self._save_failed(str(error))
            return
        self.saved.setText("Answer saved")
        self.refresh_view()
        self._check_end()

    def advance(self) -> None:
        if self.session.state != "running" or self.session.locked or self.save_failing:
            return
        try:
            self.session.advance()
        except SaveFailed as error:
            self._save_failed(str(error))
            return
        self.warning.hide()
        self.refresh_view()
        self._check_end()

    def tick(self) -> None:
        if not self.save_failing:
            try:
                self.session.tick()
            except SaveFailed as error:
                self._save_failed(str(error))
        self._render_clock()
        if self.session.locked:
            self.lock_page.show_status(self.session.unlock_status())
        self._check_end()

    # -- a disk that refuses to save -----------------------------------------------------------
    @property
    def save_failing(self) -> bool:
        return self.pages.currentWidget() is self.save_page

    def _save_failed(self, message: str) -> None:
        """Block the exam until the journal takes writes again; nothing saved is lost."""
        if self.save_failing:
            return
        self._page_before_failure = self.pages.currentIndex()
        self.save_page.show_message(message)
        self.pages.setCurrentWidget(self.save_page)
        self.retry_timer.start()

    def _retry_save(self) -> None:
        if not self.session.recover():
            self.save_page.still_failing()
            return
        self.retry_timer.stop()
        self.pages.setCurrentIndex(self._page_before_failure)
        self.refresh_view()
        self._warn(
            "Saving works again. Your last choice was not saved: choose it again if it is not "
            "marked."
        )
        self.setFocus()

    def _check_end(self) -> None:
        if self.session.state == "ended" and not self.done:
            if self.report is not None:
                self.report(self.session)  # the end, shown to the server at once if it can be
            self.done = True
            self.timer.stop()
            self.report_timer.stop()
            self.guards.stop()
            self.releaseKeyboard()
            self.finished.emit()
            self.close()

    def _warn(self, message: str) -> None:
        if self.session.locked:
            return  # the lock screen says what matters now
        self.warning.setText(message)
        self.warning.show()

    def _show_lock(self, challenge: str) -> None:
        self.lock_page.show_challenge(challenge, self.session.lock_reason())
        self.lock_page.show_status(self.session.unlock_status())
        self.pages.setCurrentWidget(self.lock_page)
        self.lock_page.response.setFocus()
        if self.lockdown:  # the keyboard grab moves to the response field
            self.lock_page.response.grabKeyboard()

    def _hide_lock(self) -> None:
        self.pages.setCurrentIndex(0)
        self.setFocus()
        if self.lockdown:
            self.grabKeyboard()
        self.refresh_view()

    def _try_unlock(self, response: str) -> None:
        attempt = self.guards.try_unlock(response)
        if attempt.outcome != "accepted":
            self.lock_page.refuse(attempt)

    def _end_while_locked(self) -> None:
        """The candidate (or the proctor) ends a locked sitting: the answers so far are sent."""
        answered = self.session.answered()
        confirm = QMessageBox.question(
            self,
            "End the exam?",
            f"End the exam now and send your {answered} answer(s) of {self.session.total}? "
            "This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if confirm == QMessageBox.StandardButton.Yes:
            self.session.finish("finished")
            self._check_end()

    def _voided(self, message: str) -> None:
        self._warn(message)
        self._check_end()

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


class SaveFailedScreen(QWidget):
    """Shown while the journal cannot write: what happened, what to do, and that it is retried."""

    def __init__(self) -> None:
        super().__init__()
        self.title = label("Your last answer could not be saved", name="title")
        self.message = label(name="subtitle", wrap=True)
        self.status = label(name="error", wrap=True)
        self.status.setAccessibleName("Saving status")
        column = QVBoxLayout()
        column.addStretch()
        for widget in (self.title, self.message, self.status):
            column.addWidget(widget)
        column.addStretch()
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 3)
        outer.addStretch(1)
        self.tries = 0

    def show_message(self, message: str) -> None:
        self.tries = 0
        self.message.setText(message)
        self.status.setText("Trying to save again every second…")

    def still_failing(self) -> None:
        self.tries += 1
        self.status.setText(
            f"Still not saving after {self.tries} tries. Free some space on this computer or "
            "call your proctor; this screen closes by itself once saving works."
        )


class LockScreen(QWidget):
    """Shown while the policy has the sitting locked: the challenge for the proctor, and a field
    for the response code the proctor reads back. The code is only checked here (against a
    commitment in the package); only the proctor's tool can compute it."""

    submitted = Signal(str)
    end_requested = Signal()

    def __init__(self, sitting_id: str) -> None:
        super().__init__()
        self.sitting_id = sitting_id
        self.title = label("This sitting is locked", name="title")
        self.explanation = label(name="subtitle", wrap=True)
        self.challenge = label(name="clock")
        self.response = QLineEdit(placeholderText="XXXXX-XXXXX")
        self.response.setAccessibleName("Response code from your proctor")
        self.response.returnPressed.connect(self._submit)
        self.unlock_button = button("Unlock", primary=True)
        self.unlock_button.clicked.connect(self._submit)
        self.error = label(name="error", wrap=True)
        self.error.setAccessibleName("Unlock status")
        self.end_button = button("End the exam and send my answers")
        self.end_button.clicked.connect(self.end_requested.emit)
        self.end_button.hide()
        column = QVBoxLayout()
        column.addStretch()
        for widget in (
            self.title,
            self.explanation,
            self.challenge,
            self.response,
            self.unlock_button,
            self.error,
            self.end_button,
        ):
            column.addWidget(widget)
        column.addStretch()
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 3)
        outer.addStretch(1)

    def show_challenge(self, challenge: str, reason: str) -> None:
        if challenge:
            self.explanation.setText(
                f"{reason} Your answers so far are saved and the clock keeps running. Ask your "
                "proctor to unlock the sitting: read them the sitting and the challenge below, "
                "and type the response code they give you."
            )
            self.challenge.setText(f"Sitting    {self.sitting_id}\nChallenge  {challenge}")
        else:
            self.explanation.setText(
                f"{reason} This sitting has been unlocked as often as it can be on this "
                "computer. Your answers so far are saved; you can end the exam and send them."
            )
            self.challenge.setText(f"Sitting    {self.sitting_id}")
        self.response.clear()
        self.error.setText("")

    def show_status(self, status: UnlockAttempt) -> None:
        """Enable the field, or say how long to wait, or that no more codes can be tried."""
        can_try = status.outcome == "ready"
        self.response.setEnabled(can_try)
        self.unlock_button.setEnabled(can_try)
        self.end_button.setVisible(status.outcome == "exhausted")
        if status.outcome == "wait":
            seconds = (status.wait_ms + 999) // 1000
            self.error.setText(
                f"Too many codes were wrong. Wait {seconds} s, then type the code your proctor "
                f"gives you ({status.attempts_left} tries left)."
            )
        elif status.outcome == "exhausted":
            self.error.setText(
                "No more codes can be tried for this lock. Ask your proctor what to do; you can "
                "end the exam and send your answers so far."
            )
        elif self.error.text().startswith("Too many codes"):
            self.error.setText("You can type the code again now.")
            self.response.setFocus()

    def refuse(self, attempt: UnlockAttempt) -> None:
        if attempt.outcome == "format":
            self.error.setText(
                "A response code has 10 letters and digits, like 7KQ2M-9XD4T. Check what your "
                "proctor read out and type it again."
            )
            self.response.selectAll()
            return
        if attempt.outcome == "wrong":
            self.error.setText(
                "That response code is not right for this challenge. Check it with your proctor "
                f"and type it again ({attempt.attempts_left} tries left)."
            )
            self.response.selectAll()
            if attempt.wait_ms:
                self.show_status(UnlockAttempt("wait", attempt.wait_ms, attempt.attempts_left))
            return
        self.show_status(attempt)

    def _submit(self) -> None:
        if self.response.text().strip() and self.unlock_button.isEnabled():
            self.submitted.emit(self.response.text().strip())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # The Enter that sends the code must not also answer the question behind the lock.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return
        super().keyPressEvent(event)
