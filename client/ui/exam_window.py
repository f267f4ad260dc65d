"""The exam window: full screen, one item at a time, a countdown, keyboard shortcuts.

It renders the session and forwards choices to it; the session decides everything (what is
allowed, when time is up). A choice is shown as chosen only after the session has written it to
the journal.

Nothing irreversible happens on one key: Enter moves on only from an answered question; Skip
is its own button; finishing (the last question, or ending a locked sitting) asks first, with
the number unanswered and the time left. Warnings appear in a slot kept free for them, so the
options never move under the pointer. Five minutes and one minute before the end the window
says so, and at the end a calm screen says the answers are saved before the result appears.
"""

from __future__ import annotations

from collections.abc import Callable

from client.checks import Check
from client.engine import Step, Stepper
from client.errors import SaveFailed, SittingClosed, SittingLocked
from client.proctor.lockdown import Lockdown
from client.proctor.platform import PlatformGuard
from client.session import ExamSession
from client.ui.background import run_in_background
from client.ui.lock_screen import LockScreen
from client.ui.qt import (
    QApplication,
    QCloseEvent,
    QEvent,
    QGuiApplication,
    QHBoxLayout,
    QKeyEvent,
    QProgressBar,
    QStackedLayout,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
    announce,
)
from client.ui.question_view import QuestionView
from client.ui.widgets import LETTERS, Button, button, label
from shared.models import category_name

TICK_MS = 200
RETRY_SAVE_MS = 1_000
REPORT_MS = 30_000
# Time left at which the window warns, in words (only if the sitting is longer than that).
MILESTONES_MS = (300_000, 60_000)
# How long the end screen shows before the result (time up: longer, it comes unasked).
END_PAUSE_MS = {"time_up": 2_500, "finished": 1_000, "voided": 3_000}


def format_clock(ms: int) -> str:
    seconds = (ms + 999) // 1000
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def spoken_time(ms: int) -> str:
    """Time left in words: "3 minutes 12 seconds"."""
    seconds = (ms + 999) // 1000
    minutes, seconds = divmod(seconds, 60)
    parts = []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if seconds or not minutes:
        parts.append(f"{seconds} second{'s' if seconds != 1 else ''}")
    return " ".join(parts)


def _centred(*widgets: QWidget, stretch: int = 3) -> QWidget:
    page = QWidget()
    column = QVBoxLayout()
    column.addStretch()
    for widget in widgets:
        column.addWidget(widget)
    column.addStretch()
    outer = QHBoxLayout(page)
    outer.addStretch(1)
    outer.addLayout(column, stretch)
    outer.addStretch(1)
    return page


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
        stepper: Stepper | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        # Adaptive sittings: fetches the next question (in the background) and applies it.
        self.stepper = stepper
        self._fetching = False
        # Shows the server how far the log has come (a checkpoint), every REPORT_MS.
        self.report = report
        self.lockdown = lockdown
        self.setObjectName("exam")
        self.setWindowTitle(f"examgate: {title}")
        self.setAccessibleName(f"Exam: {title}")
        if lockdown:
            self.setWindowFlags(
                Qt.WindowType.Window
                | Qt.WindowType.FramelessWindowHint
                | Qt.WindowType.WindowStaysOnTopHint
            )
        self.title = label(title, name="subtitle")
        self.position = label(name="subtitle")
        self.clock = label(name="clock")
        self.clock.setAccessibleName("Time left")
        self.progress = QProgressBar(textVisible=False, maximum=max(1, session.total))
        self.progress.setAccessibleName("Progress through the questions")
        if session.adaptive:  # no fixed number of questions: the time used shows progress
            self.progress.setMaximum(max(1, session.duration_ms // 1000))
            self.progress.setAccessibleName("Time used")
        # The warning's slot is always there (empty when there is nothing to say), so nothing
        # below it moves when a warning appears.
        self.warning = label(name="warning", wrap=True)
        self.warning.setAccessibleName("Warning")
        self.warning.setProperty("empty", True)
        self.warning.ensurePolished()
        self.warning.setFixedHeight(self.warning.fontMetrics().lineSpacing() * 4 + 24)
        self.warning.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.question = QuestionView()
        self.question.chosen.connect(self.choose)
        self.saved = label(name="subtitle")
        self.saved.setAccessibleName("Saving")
        self.hint = label(name="details", wrap=True)
        self.skip_button = button(
            "Skip question",
            description="Leave this question unanswered and go on. You cannot come back to it.",
        )
        self.skip_button.clicked.connect(self.skip)
        self.next_button = button("Next", primary=True)
        self.next_button.clicked.connect(self.next_question)

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.position)
        top.addSpacing(24)
        top.addWidget(self.clock)
        bottom = QHBoxLayout()
        bottom.addWidget(self.hint, 1)
        bottom.addWidget(self.saved)
        bottom.addSpacing(12)
        bottom.addWidget(self.skip_button)
        bottom.addWidget(self.next_button)
        column = QVBoxLayout()
        column.addLayout(top)
        column.addWidget(self.progress)
        column.addWidget(self.warning)
        column.addWidget(self.question, 1)
        column.addLayout(bottom)
        exam_page = QWidget()
        outer = QHBoxLayout(exam_page)
        outer.setContentsMargins(12, 12, 12, 12)
        outer.addStretch(1)
        outer.addLayout(column, 10)
        outer.addStretch(1)
        self.exam_page = exam_page

        self.lock_page = LockScreen(session.sitting_id, session.release)
        self.lock_page.submitted.connect(self._try_unlock)
        self.lock_page.end_requested.connect(self._end_while_locked)
        self.lock_page.release_requested.connect(self._release)
        self.save_page = SaveFailedScreen()
        self.confirm_page = ConfirmScreen()
        self.confirm_page.confirmed.connect(self._confirmed)
        self.confirm_page.cancelled.connect(self._cancelled)
        self.end_page = EndScreen()
        self.pages = QStackedLayout(self)
        for page in (exam_page, self.lock_page, self.save_page, self.confirm_page, self.end_page):
            self.pages.addWidget(page)
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
        self.closed = False
        self._page_before_failure = 0
        self._confirming: str | None = None  # "finish" or "end_locked"
        self._milestones = [m for m in MILESTONES_MS if self.session.duration_ms > m]
        self._forwarding = False

    def begin(self, health: list[Check] | None = None) -> None:
        """Show the window and start (or resume) the sitting.

        ``health`` is the pre-sitting check, journalled so it travels in the signed submission.
        """
        if health is not None:
            self.session.record("health_check", {"checks": [c.to_json() for c in health]})
        self.session.start()
        remaining = self.session.remaining_ms()
        # A resumed sitting does not announce milestones long past.
        self._milestones = [m for m in self._milestones if remaining > m - 10_000]
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
        if self.session.awaiting() and not self.session.locked:
            self._fetch_next()  # an adaptive sitting's first question, or the check on a restart
        self._check_end()

    def _report(self) -> None:
        if self.report is not None and self.session.state == "running" and not self.save_failing:
            self.report(self.session)

    # -- rendering ---------------------------------------------------------------------------
    @property
    def buttons(self) -> list[Button]:
        return self.question.buttons  # type: ignore[return-value]

    @property
    def warning_text(self) -> str:
        return "" if self.warning.property("empty") else self.warning.text()

    def _open_ended(self) -> bool:
        """An adaptive sitting still on the server's questions: their number is not known."""
        return self.session.adaptive and not self.session.fell_back

    def _of_total(self) -> str:
        return "" if self._open_ended() else f" of {self.session.total}"

    def refresh_view(self) -> None:
        item = self.session.current
        if item is None:
            return
        number = self.session.index + 1
        self.position.setText(f"Question {number}{self._of_total()}")
        if self.session.adaptive:
            self.progress.setMaximum(max(1, self.session.duration_ms // 1000))
            self.progress.setValue(self.session.elapsed_ms() // 1000)
        else:
            self.progress.setValue(self.session.index)
        new = self.shown_item != item.id
        if new:
            self.question.show_question(
                category_name(item.category),
                item.stem,
                [option.text for option in item.options],
                item.multiple,
                item.images,
            )
            self.shown_item = item.id
            self.saved.setText("")
        chosen = set(self.session.answers.get(item.id, []))
        numbers = {n for n, option in enumerate(item.options) if option.id in chosen}
        self.question.set_chosen(numbers)
        last = number == self.session.total and not self._open_ended()
        self.next_button.setText("Finish" if last else "Next")
        self.next_button.setAccessibleName(
            "Finish the exam" if last else "Next question (no going back)"
        )
        self.next_button.setEnabled(bool(chosen))
        self.skip_button.setText("Skip and finish" if last else "Skip question")
        self.skip_button.setAccessibleName(self.skip_button.text())
        letters = f"1-{len(item.options)} or A-{LETTERS[len(item.options) - 1]}"
        how = "choose one or more" if item.multiple else "choose"
        self.hint.setText(f"Keys: {letters} to {how}, Enter to go on. No going back.")
        self._render_clock()
        if new:
            self.question.focus_option(min(numbers) if numbers else 0)
            several = " Choose all that apply." if item.multiple else ""
            announce(self, f"Question {number}{self._of_total()}.{several} {item.stem}")

    def _render_clock(self) -> None:
        remaining = self.session.remaining_ms()
        text = format_clock(remaining)
        self.clock.setText(text)
        self.clock.setAccessibleDescription(f"{spoken_time(remaining)} left")
        self.lock_page.set_clock(text)
        self.confirm_page.set_clock(text)
        urgent = remaining <= 60_000
        if self.clock.property("urgent") != urgent:
            for clock in (self.clock, self.lock_page.clock, self.confirm_page.clock):
                clock.setProperty("urgent", urgent)
                clock.style().unpolish(clock)
                clock.style().polish(clock)
        for milestone in list(self._milestones):
            if remaining <= milestone and self.session.state == "running":
                self._milestones.remove(milestone)
                self._time_warning(milestone)

    def _time_warning(self, milestone: int) -> None:
        minutes = milestone // 60_000
        words = "1 minute" if minutes == 1 else f"{minutes} minutes"
        text = f"{words.capitalize()} left. Your answers are saved as you go."
        if self.session.locked:
            announce(self, text, assertive=True)
            return
        self._warn(text)

    # -- intent ------------------------------------------------------------------------------
    def choose(self, number: int) -> None:
        if (
            self.session.locked
            or self.save_failing
            or self._fetching  # the answer is on its way: it stays as sent
            or self.pages.currentWidget() is not (self.exam_page)
        ):
            self.refresh_view()
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
        self.question.focus_option(number)  # the focus follows the choice, keys or mouse
        self._check_end()

    def next_question(self) -> None:
        """Next (or Finish on the last question): only from an answered question."""
        item = self.session.current
        if item is None or not self.session.answers.get(item.id):
            self.hint.setText(
                "Choose an answer first, or press Skip question to leave it unanswered."
            )
            announce(self, self.hint.text())
            return
        if self.session.at_frontier():
            self._go_on()
            return
        if self.session.index + 1 >= self.session.total:
            self._confirm_finish()
            return
        self.advance()

    def skip(self) -> None:
        if self.session.at_frontier():
            announce(self, "Question skipped.")
            self._go_on()
            return
        if self.session.index + 1 >= self.session.total:
            self._confirm_finish()
            return
        self.advance()
        announce(self, "Question skipped.")

    # -- adaptive sittings: the next question comes from the server -----------------------------
    def _go_on(self) -> None:
        """From the last question given: on to the server's next one."""
        if self.session.state != "running" or self.session.locked or self.save_failing:
            return
        self.session.advance()  # notes that the candidate went on
        self._fetch_next()

    def _fetch_next(self) -> None:
        """Send the answer on screen and fetch the next question without freezing the window;
        the answer is on disk already, so nothing is lost whatever the network does."""
        if self.stepper is None:
            self.session.fall_back("This computer cannot ask the server for questions.")
            self.refresh_view()
            return
        if (
            self._fetching
            or not self.session.awaiting()
            or self.session.locked
            or self.save_failing
        ):
            return
        self._fetching = True
        self.next_button.setEnabled(False)
        self.skip_button.setEnabled(False)
        self.question.setEnabled(False)
        self.saved.setText("Getting the next question…")
        announce(self, "Getting the next question.")
        try:
            work = self.stepper.fetcher(self.session)
        except Exception as error:
            self._fetch_failed(error)
            return
        run_in_background(work, self._fetched, self._fetch_failed)

    def _fetched(self, step: Step) -> None:
        self._fetching = False
        self.question.setEnabled(True)
        self.skip_button.setEnabled(True)
        if self.closed or self.session.state != "running":
            self._check_end()
            return
        if self.session.locked:  # shown again after the unlock (the server keeps it)
            return
        assert self.stepper is not None
        try:
            self.stepper.apply(self.session, step)
        except SaveFailed as error:
            self._save_failed(str(error))
            return
        except (SittingClosed, SittingLocked):  # the time ran out or a lock came meanwhile
            self._check_end()
            return
        if step.fallback is not None:
            self._warn(
                "The connection to the exam server was lost. Your exam goes on with questions "
                "kept on this computer; your answers are saved as you go."
            )
        self.saved.setText("")
        self.refresh_view()
        self._check_end()

    def _fetch_failed(self, error: Exception) -> None:
        self._fetched(Step(fallback=str(error)[:200] or "The next question could not be fetched."))

    def advance(self) -> None:
        if self.session.state != "running" or self.session.locked or self.save_failing:
            return
        try:
            self.session.advance()
        except SaveFailed as error:
            self._save_failed(str(error))
            return
        self._clear_warning()
        self.refresh_view()
        self._check_end()

    def _confirm_finish(self) -> None:
        self._confirming = "finish"
        answered = self.session.answered()
        unanswered = self.session.total - answered
        left = spoken_time(self.session.remaining_ms())
        missing = (
            "All questions are answered."
            if not unanswered
            else f"{unanswered} question{'s are' if unanswered != 1 else ' is'} unanswered."
        )
        self.confirm_page.ask(
            "Finish the exam?",
            f"You answered {answered} of {self.session.total} questions. {missing} "
            f"{left} is left. Once you finish, your answers cannot be changed.",
            "Finish and send my answers",
            "Go back to the question",
        )
        self.pages.setCurrentWidget(self.confirm_page)

    def _confirmed(self) -> None:
        what, self._confirming = self._confirming, None
        if self.session.state != "running":
            self._check_end()
            return
        try:
            if what == "end_locked":
                self.session.finish("finished")
            else:
                self.pages.setCurrentWidget(self.exam_page)
                self.session.advance()  # past the last question: the sitting is finished
        except SaveFailed as error:
            self._save_failed(str(error))
            return
        self._check_end()

    def _cancelled(self) -> None:
        what, self._confirming = self._confirming, None
        if what == "end_locked" and self.session.locked:
            self.pages.setCurrentWidget(self.lock_page)
            return
        self.pages.setCurrentWidget(self.exam_page)
        self.refresh_view()
        self.question.focus_option(0)

    def tick(self) -> None:
        if not self.save_failing:
            try:
                self.session.tick()
            except SaveFailed as error:
                self._save_failed(str(error))
        if (  # an adaptive sitting's question still to come (at the start, after a lock)
            self.session.awaiting()
            and not self._fetching
            and not self.session.locked
            and self.pages.currentWidget() is self.exam_page
        ):
            self._fetch_next()
        self._render_clock()
        if self.session.locked and self.pages.currentWidget() is self.lock_page:
            if self.session.release == "candidate":
                self.lock_page.show_release_wait(self.session.release_wait_ms())
            else:
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
        announce(self, f"{self.save_page.title.text()}. {message}", assertive=True)
        self.retry_timer.start()

    def _retry_save(self) -> None:
        if not self.session.recover():
            self.save_page.still_failing()
            return
        self.retry_timer.stop()
        self.pages.setCurrentIndex(self._page_before_failure)
        self.refresh_view()
        self._warn("Saving works again. Choose your last answer again if it is not marked.")

    def _check_end(self) -> None:
        if self.session.state != "ended" or self.done:
            return
        if self.report is not None:
            self.report(self.session)  # the end, shown to the server at once if it can be
        self.done = True
        self.timer.stop()
        self.report_timer.stop()
        self.retry_timer.stop()
        self.guards.stop()
        reason = self.session.end_reason or "finished"
        self.end_page.show_end(reason, self.warning_text if reason == "voided" else "")
        self.pages.setCurrentWidget(self.end_page)
        announce(self, f"{self.end_page.title.text()} {self.end_page.message.text()}", True)
        QTimer.singleShot(END_PAUSE_MS.get(reason, 1_000), self._leave)

    def _leave(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.releaseKeyboard()
        self.finished.emit()
        self.close()

    def _warn(self, message: str) -> None:
        if self.session.locked:
            return  # the lock screen says what matters now
        self.warning.setText(message)
        if self.warning.property("empty"):
            self.warning.setProperty("empty", False)
            self.warning.style().unpolish(self.warning)
            self.warning.style().polish(self.warning)
        announce(self, message, assertive=True)

    def _clear_warning(self) -> None:
        if not self.warning.property("empty"):
            self.warning.setText("")
            self.warning.setProperty("empty", True)
            self.warning.style().unpolish(self.warning)
            self.warning.style().polish(self.warning)

    def _show_lock(self, challenge: str) -> None:
        self._report()  # the proctor's room sees the lock at once, where the server is reachable
        self.lock_page.show_challenge(challenge, self.session.lock_reason())
        self._render_clock()  # in view from the first moment: it keeps running
        if self.session.release == "candidate":
            self.lock_page.show_release_wait(self.session.release_wait_ms())
        else:
            self.lock_page.show_status(self.session.unlock_status())
        self.pages.setCurrentWidget(self.lock_page)
        if self.session.release == "proctor":
            self.lock_page.response.setFocus()

    def _hide_lock(self) -> None:
        self._report()
        self.pages.setCurrentWidget(self.exam_page)
        self._clear_warning()
        self.refresh_view()
        self.question.focus_option(0)

    def _try_unlock(self, response: str) -> None:
        attempt = self.guards.try_unlock(response)
        if attempt.outcome != "accepted":
            self.lock_page.refuse(attempt)

    def _release(self) -> None:
        self.guards.release()

    def _end_while_locked(self) -> None:
        """The candidate (or the proctor) ends a locked sitting: the answers so far are sent."""
        self._confirming = "end_locked"
        answered = self.session.answered()
        self.confirm_page.ask(
            "End the exam?",
            f"End the exam now and send your {answered} answer(s) of {self.session.total}? "
            "This cannot be undone.",
            "End the exam and send my answers",
            "Stay on the lock screen",
        )
        self.pages.setCurrentWidget(self.confirm_page)

    def _voided(self, message: str) -> None:
        self._warn(message)
        self._check_end()

    # -- the keyboard --------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._forwarding:  # came back up from the focused widget, which did not want it
            event.ignore()
            return
        key = event.key()
        on_exam = self.pages.currentWidget() is self.exam_page
        focused = QApplication.focusWidget()
        if on_exam and self.question.handle_key(event, self.choose, self.next_question):
            return
        if self._forward(event, focused):
            return
        if key == Qt.Key.Key_Escape and self.pages.currentWidget() is self.confirm_page:
            self._cancelled()
        else:
            super().keyPressEvent(event)

    def _forward(self, event: QKeyEvent, focused: QWidget | None) -> bool:
        """Under the keyboard grab every key comes here: pass it to the focused widget (a
        button, the response field), as it would have gone without the grab."""
        if (
            QWidget.keyboardGrabber() is not self
            or focused is None
            or focused is self
            or not self.isAncestorOf(focused)
        ):
            return False
        copy = QKeyEvent(
            QEvent.Type.KeyPress, event.key(), event.modifiers(), event.text(), False, 1
        )
        self._forwarding = True
        try:
            QApplication.sendEvent(focused, copy)
        finally:
            self._forwarding = False
        return copy.isAccepted()

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
        self.title.setWordWrap(True)
        self.message = label(name="subtitle", wrap=True)
        self.status = label(name="error", wrap=True)
        self.status.setAccessibleName("Saving status")
        layout = QVBoxLayout(self)
        layout.addWidget(_centred(self.title, self.message, self.status))
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


class ConfirmScreen(QWidget):
    """A question before something that cannot be undone; the safe answer has the focus."""

    confirmed = Signal()
    cancelled = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title = label(name="title", wrap=True)
        self.clock = label(name="clock")
        self.clock.setAccessibleName("Time left")
        self.message = label(name="subtitle", wrap=True)
        self.yes = button("Finish", primary=True)
        self.yes.clicked.connect(self.confirmed.emit)
        self.no = button("Go back")
        self.no.clicked.connect(self.cancelled.emit)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.clock)
        row = QHBoxLayout()
        row.addWidget(self.no)
        row.addStretch()
        row.addWidget(self.yes)
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.addLayout(top)
        column.addWidget(self.message)
        column.addSpacing(16)
        column.addLayout(row)
        layout = QVBoxLayout(self)
        layout.addWidget(_centred(holder))

    def set_clock(self, text: str) -> None:
        self.clock.setText(text)

    def ask(self, title: str, message: str, yes: str, no: str) -> None:
        self.title.setText(title)
        self.message.setText(message)
        self.yes.setText(yes)
        self.yes.setAccessibleName(yes)
        self.no.setText(no)
        self.no.setAccessibleName(no)
        self.no.setFocus()
        announce(self, f"{title} {message}", assertive=True)


class EndScreen(QWidget):
    """The moment between the end and the result: the answers are safe and on their way."""

    def __init__(self) -> None:
        super().__init__()
        self.title = label(name="title", wrap=True)
        self.message = label(name="subtitle", wrap=True)
        layout = QVBoxLayout(self)
        layout.addWidget(_centred(self.title, self.message))

    def show_end(self, reason: str, detail: str = "") -> None:
        self.title.setText(
            {"time_up": "Time is up", "voided": "The exam has ended"}.get(reason, "Exam finished")
        )
        self.message.setText(
            (detail + " " if detail else "")
            + "Your answers are saved and being sent. Your result appears in a moment."
        )
