"""Before the clock: the rules in plain words, a rehearsal question with the exam's own controls
(not scored, nothing recorded), then the start. Online sittings start with a button (the
server releases the code); supervised sittings ask for the code the proctor reads out.

The start is never the default: Enter in the rehearsal answers the rehearsal, and the start
button must be reached and pressed on purpose.
"""

from __future__ import annotations

from html import escape

from client.package import when
from client.ui.qt import (
    QButtonGroup,
    QFormLayout,
    QHBoxLayout,
    QKeyEvent,
    QLabel,
    QRadioButton,
    QWidget,
    Signal,
    announce,
)
from client.ui.question_view import QuestionView
from client.ui.widgets import button, field, label, report, scrolling
from shared.policy import Policy
from shared.wire import PackageHeader

REHEARSAL_STEM = (
    "Rehearsal (not scored): once you have chosen an answer, which key takes you to the next "
    "question?"
)
REHEARSAL_OPTIONS = ("Enter", "Escape", "F5", "Delete")
REHEARSAL_KEY = 0


def rules(header: PackageHeader, sitting: dict[str, object], now_ms: int) -> str:
    """The sitting's rules as a short HTML list."""
    minutes = header.sitting_ms // 60_000
    extra = (
        f" (including {header.extra_time_s // 60} minutes of extra time)"
        if header.extra_time_s >= 60
        else ""
    )
    policy = Policy.from_json(header.policy)
    release = policy.release_for(header.offline)
    focus = policy.rule("focus_lost")
    leave = "Leaving the exam window, switching programs or using the clipboard is recorded"
    if focus.lock_after:
        leave += f"; after {focus.lock_after} times away the sitting locks"
    lock = (
        "If the sitting locks, your proctor unlocks it with a code; the clock keeps running."
        if release == "proctor"
        else f"If the sitting locks, you can return to it after {policy.release_wait_s} "
        "seconds; the lock is reported with your result and the clock keeps running."
    )
    items = [
        f"{header.item_count} questions, {minutes} minutes{extra}. The clock starts when the "
        "exam opens and keeps running even if this computer restarts.",
        "One question at a time, and no going back: once you move on, the answer is final. "
        "Questions you skip stay unanswered.",
        "Choose with the mouse, or keys 1 to 4 (or A to D); Enter moves on once an answer is "
        "chosen. You are asked before the exam finishes.",
        "Every answer is saved the moment you choose it.",
        f"The exam fills the screen. {leave}.",
        lock,
        "You are told when 5 minutes and 1 minute are left.",
    ]
    closes = header.closes_ms
    if header.offline and closes - now_ms < header.sitting_ms:
        items.append(
            f"The window for this exam closes on {when(closes)}: you will have about "
            f"{max(0, (closes - now_ms) // 60_000)} minutes."
        )
    return "<ul>" + "".join(f"<li>{escape(text)}</li>" for text in items) + "</ul>"


class ReadyPage(QWidget):
    back = Signal()
    start_online = Signal()
    unlock = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        self.offline = False
        layout = scrolling(self)  # at 200% with the consent question, it scrolls up and down
        layout.setContentsMargins(24, 12, 24, 12)
        self.title = label("Before you start", name="title")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.rules = report("The rules of this exam")
        self.rules.setMinimumHeight(40)
        layout.addWidget(self.rules, 2)
        self.rehearsal_title = label(
            "Try the controls on a rehearsal question first. It is not scored and nothing is "
            "recorded.",
            name="subtitle",
            wrap=True,
        )
        layout.addWidget(self.rehearsal_title)
        self.rehearsal = QuestionView()
        self.rehearsal.chosen.connect(self._rehearse)
        self.rehearsal.setMinimumHeight(50)
        layout.addWidget(self.rehearsal, 3)
        self.rehearsal_verdict = label(name="verdict", wrap=True)
        self.rehearsal_verdict.setAccessibleName("Rehearsal")
        layout.addWidget(self.rehearsal_verdict)
        # Consent, asked of an invited candidate before the clock starts: neither answer is
        # chosen for them, and the exam does not start until one is.
        self.consent_question = label(name="subtitle", wrap=True)
        layout.addWidget(self.consent_question)
        self.share_yes = QRadioButton("Yes, share my result")
        self.share_no = QRadioButton("No, keep my result to myself")
        choices = QHBoxLayout()
        self.consent_choice = QButtonGroup(self)
        for radio in (self.share_yes, self.share_no):
            radio.setObjectName("plain")
            radio.setAccessibleName(radio.text())
            self.consent_choice.addButton(radio)
            choices.addWidget(radio)
        choices.addStretch()
        layout.addLayout(choices)
        for part in (self.consent_question, self.share_yes, self.share_no):
            part.setVisible(False)  # shown for an invited candidate (prepare)
        self.asks_consent = False
        self.organisation = ""
        form = QFormLayout()
        self.code_field = field(
            "Unlock code from your proctor",
            "XXXX-XXXX-XXXX",
            "Your proctor reads it out when the sitting begins",
        )
        self.code_field.returnPressed.connect(self._unlock)
        self.code_label = QLabel("Unlock &code")
        self.code_label.setBuddy(self.code_field)
        form.addRow(self.code_label, self.code_field)
        layout.addLayout(form)
        self.error = label(name="error", wrap=True)
        self.error.setAccessibleName("Start status")
        layout.addWidget(self.error)
        row = QHBoxLayout()
        self.back_button = button("Back")
        self.back_button.clicked.connect(self.back.emit)
        self.start_button = button(
            "Start the exam", primary=True, description="The clock starts when the exam opens"
        )
        self.start_button.clicked.connect(self._start)
        self.unlock_button = button("Unlock and start", primary=True)
        self.unlock_button.clicked.connect(self._unlock)
        row.addWidget(self.back_button)
        row.addStretch()
        row.addWidget(self.start_button)
        row.addWidget(self.unlock_button)
        layout.addLayout(row)
        self._chosen: int | None = None

    def prepare(self, header: PackageHeader, sitting: dict[str, object], now_ms: int) -> None:
        self.offline = header.offline
        self.title.setText(f"Before you start: {header.assessment}")
        self.rules.setHtml(rules(header, sitting, now_ms))
        self.rehearsal.show_question(
            "Rehearsal", REHEARSAL_STEM, list(REHEARSAL_OPTIONS), multiple=False
        )
        self._chosen = None
        self.rehearsal_verdict.setText("Choose an answer with a key (1-4 or A-D) or the mouse.")
        for widget in (self.code_field, self.code_label, self.unlock_button):
            widget.setVisible(header.offline)
        self.start_button.setVisible(not header.offline)
        self.asks_consent = header.ask_consent
        self.organisation = header.organisation or "the organisation that invited you"
        self.consent_question.setText(
            f"May {self.organisation} see your result? Either way it learns that you completed "
            "the exam."
        )
        self.share_yes.setText(f"Yes, share it with {self.organisation}")
        self.share_no.setText("No, keep my result to myself")
        self.share_yes.setAccessibleName(self.share_yes.text())
        self.share_no.setAccessibleName(self.share_no.text())
        self.share_yes.setAccessibleDescription(self.consent_question.text())
        self.share_no.setAccessibleDescription(self.consent_question.text())
        self.consent_choice.setExclusive(False)  # so that neither can be left chosen
        self.share_yes.setChecked(False)
        self.share_no.setChecked(False)
        self.consent_choice.setExclusive(True)
        for part in (self.consent_question, self.share_yes, self.share_no):
            part.setVisible(header.ask_consent)
        self.code_field.clear()
        self.error.setText("")
        self.rehearsal.focus_option(0)
        announce(self, f"{self.title.text()}. The rules follow; then a rehearsal question.")

    def _rehearse(self, number: int) -> None:
        self._chosen = number
        self.rehearsal.set_chosen({number})
        self.rehearsal_verdict.setText("Answer chosen. Press Enter, as in the exam.")

    def _rehearsal_enter(self) -> None:
        if self._chosen is None:
            self.rehearsal_verdict.setText(
                "In the exam, Enter does nothing until you choose an answer: choose one first."
            )
        elif self._chosen == REHEARSAL_KEY:
            ask = self.asks_consent and self.share() is None
            then = (
                "type the unlock code when your proctor gives it."
                if self.offline
                else "press Start the exam when you are."
            )
            if ask:
                then = f"choose whether {self.organisation} may see your result, then {then}"
            self.rehearsal_verdict.setText(
                f"Right: Enter moves on once an answer is chosen. You are ready: {then}"
            )
            if ask:
                self.share_yes.setFocus()
            else:
                (self.code_field if self.offline else self.start_button).setFocus()
        else:
            self.rehearsal_verdict.setText(
                "Not quite: in the exam, Enter takes you on once an answer is chosen. Try again."
            )
        announce(self, self.rehearsal_verdict.text())

    def share(self) -> bool | None:
        """The candidate's answer to the consent question (None: not asked, or not answered)."""
        if not self.asks_consent:
            return None
        if self.share_yes.isChecked():
            return True
        return False if self.share_no.isChecked() else None

    def _consent_missing(self) -> bool:
        if self.asks_consent and self.share() is None:
            self.error.setText(
                f"Choose whether {self.organisation} may see your result, then start."
            )
            announce(self, self.error.text())
            self.share_yes.setFocus()
            return True
        return False

    def _start(self) -> None:
        if not self._consent_missing():
            self.start_online.emit()

    def _unlock(self) -> None:
        if self._consent_missing():
            return
        code = self.code_field.text().strip()
        if not code:
            self.error.setText("Enter the unlock code your proctor gives you.")
            self.code_field.setFocus()
            return
        self.unlock.emit(code)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        typing = self.code_field.hasFocus() or self.share_yes.hasFocus() or self.share_no.hasFocus()
        if typing or not self.rehearsal.handle_key(event, self._rehearse, self._rehearsal_enter):
            super().keyPressEvent(event)
