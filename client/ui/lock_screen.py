"""The lock screen, shown while the integrity policy has the sitting locked.

Supervised sittings: the challenge for the proctor (two groups of four, to read aloud) and a
field for the response code the proctor reads back. The code is only checked here (against a
commitment in the package); only the proctor's tool can compute it.

Unsupervised online sittings have no proctor: after a short pause the candidate returns to the
exam themselves; the return is journalled and the result says the sitting was locked.

The clock stays in view: it keeps running while the sitting is locked.
"""

from __future__ import annotations

from client.session import UnlockAttempt
from client.ui.qt import QHBoxLayout, QKeyEvent, Qt, QVBoxLayout, QWidget, Signal, announce
from client.ui.widgets import button, field, label


class LockScreen(QWidget):
    submitted = Signal(str)
    end_requested = Signal()
    release_requested = Signal()

    def __init__(self, sitting_id: str, release: str = "proctor") -> None:
        super().__init__()
        self.sitting_id = sitting_id
        self.release = release
        self.title = label("This sitting is locked", name="title")
        self.title.setWordWrap(True)
        self.clock = label(name="clock")
        self.clock.setAccessibleName("Time left")
        self.explanation = label(name="subtitle", wrap=True)
        self.challenge = label(name="challenge", wrap=True)
        self.challenge.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.challenge.setAccessibleName("Sitting and challenge for your proctor")
        self.response = field(
            "Response code from your proctor",
            "XXXXX-XXXXX",
            "Ten letters and digits your proctor reads out",
        )
        self.response.returnPressed.connect(self._submit)
        self.unlock_button = button("Unlock", primary=True)
        self.unlock_button.clicked.connect(self._submit)
        self.return_button = button(
            "Return to the exam",
            primary=True,
            description="Going back after a lock is recorded and reported with your result",
        )
        self.return_button.clicked.connect(self.release_requested.emit)
        self.error = label(name="error", wrap=True)
        self.error.setAccessibleName("Unlock status")
        self.end_button = button("End the exam and send my answers")
        self.end_button.clicked.connect(self.end_requested.emit)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.clock, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout()
        column.addStretch()
        column.addLayout(top)
        for widget in (self.explanation, self.challenge, self.response, self.error):
            column.addWidget(widget)
        row = QHBoxLayout()
        row.addWidget(self.end_button)
        row.addStretch()
        row.addWidget(self.unlock_button)
        row.addWidget(self.return_button)
        column.addLayout(row)
        column.addStretch()
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 4)
        outer.addStretch(1)
        self._apply_mode()

    def _apply_mode(self) -> None:
        proctor = self.release == "proctor"
        for widget in (self.challenge, self.response, self.unlock_button):
            widget.setVisible(proctor)
        self.return_button.setVisible(not proctor)
        self.end_button.setVisible(False)

    def set_clock(self, text: str) -> None:
        self.clock.setText(text)

    def show_challenge(self, challenge: str, reason: str) -> None:
        self._apply_mode()
        if self.release == "candidate":
            self.explanation.setText(
                f"{reason} Your answers so far are saved and the clock keeps running. Take a "
                "moment; you can return to the exam in a few seconds. The lock is reported with "
                "your result."
            )
            self.challenge.setText("")
        elif challenge:
            self.explanation.setText(
                f"{reason} Your answers so far are saved and the clock keeps running. Ask your "
                "proctor to unlock the sitting: read them the sitting and the challenge below, "
                "and type the response code they give you."
            )
            self.challenge.setText(f"Sitting    {self.sitting_id}\nChallenge  {challenge}")
            self.response.setFocus()
        else:
            self.explanation.setText(
                f"{reason} This sitting has been unlocked as often as it can be on this "
                "computer. Your answers so far are saved; you can end the exam and send them."
            )
            self.challenge.setText(f"Sitting    {self.sitting_id}")
        self.response.clear()
        self.error.setText("")
        announce(self, f"{self.title.text()}. {self.explanation.text()}", assertive=True)

    def show_release_wait(self, wait_ms: int) -> None:
        """Candidate release: how long until the candidate may go back."""
        seconds = (wait_ms + 999) // 1000
        ready = wait_ms <= 0
        self.return_button.setEnabled(ready)
        self.end_button.setVisible(True)
        text = "You can return to the exam now." if ready else f"You can return in {seconds} s."
        if self.error.text() != text:
            self.error.setText(text)
            if ready:
                announce(self, text)
                self.return_button.setFocus()

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
        elif attempt.outcome == "wrong":
            self.error.setText(
                "That response code is not right for this challenge. Check it with your proctor "
                f"and type it again ({attempt.attempts_left} tries left)."
            )
            self.response.selectAll()
            if attempt.wait_ms:
                self.show_status(UnlockAttempt("wait", attempt.wait_ms, attempt.attempts_left))
        else:
            self.show_status(attempt)
        announce(self, self.error.text(), assertive=True)

    def _submit(self) -> None:
        if self.response.text().strip() and self.unlock_button.isEnabled():
            self.submitted.emit(self.response.text().strip())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # The Enter that sends the code must not also answer the question behind the lock.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return
        super().keyPressEvent(event)
