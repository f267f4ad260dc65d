"""Enrolment: the server's address and an invitation code. Enter in either field enrols; Back
returns home when this computer is already enrolled (adding another invitation)."""

from __future__ import annotations

from client.ui.qt import QFormLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget, Signal
from client.ui.widgets import button, field, label


class EnrolPage(QWidget):
    submitted = Signal(str, str)  # server address, invitation code
    back = Signal()
    practice = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        self.title = label("Enrol this computer", name="title")
        layout.addWidget(self.title)
        layout.addWidget(
            label(
                "Enter the exam server's address and the invitation code you were given (both "
                "are in your invitation). This computer is then remembered by the server.",
                name="subtitle",
                wrap=True,
            )
        )
        layout.addSpacing(12)
        form = QFormLayout()
        self.server_field = field(
            "Server address", "https://exams.example.org", "The address in your invitation"
        )
        self.invite_field = field(
            "Invitation code", "XXXX-XXXX-XXXX-XXXX", "The code in your invitation"
        )
        server_label, invite_label = QLabel("Server &address"), QLabel("&Invitation code")
        server_label.setBuddy(self.server_field)
        invite_label.setBuddy(self.invite_field)
        form.addRow(server_label, self.server_field)
        form.addRow(invite_label, self.invite_field)
        layout.addLayout(form)
        self.error = label(name="error", wrap=True)
        self.error.setAccessibleName("Enrolment status")
        layout.addWidget(self.error)
        self.enrol_button = button("Enrol", primary=True)
        self.enrol_button.clicked.connect(self.submit)
        self.server_field.returnPressed.connect(self.submit)
        self.invite_field.returnPressed.connect(self.submit)
        self.practice_button = button(
            "Practice questions", description="Questions like the test's, with explanations"
        )
        self.practice_button.clicked.connect(self.practice.emit)
        self.back_button = button("Back")
        self.back_button.clicked.connect(self.back.emit)
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addWidget(self.practice_button)
        row.addStretch()
        row.addWidget(self.enrol_button)
        layout.addLayout(row)
        layout.addStretch()

    def show_for(self, enrolled: bool) -> None:
        """Fresh computer: no Back. Enrolled: adding another invitation, Back goes home."""
        self.back_button.setVisible(enrolled)
        self.title.setText("Add an invitation" if enrolled else "Enrol this computer")
        self.error.setText("")
        (self.invite_field if self.server_field.text() else self.server_field).setFocus()

    def fill(self, server: str, invitation: str) -> None:
        self.server_field.setText(server)
        self.invite_field.setText(invitation)

    def submit(self) -> None:
        server, code = self.server_field.text().strip(), self.invite_field.text().strip()
        if not server or not code:
            missing = self.server_field if not server else self.invite_field
            self.error.setText("Enter both the server address and the invitation code.")
            missing.setFocus()
            return
        self.submitted.emit(server, code)
