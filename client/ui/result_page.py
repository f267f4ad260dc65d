"""The result: the overall level and how sure it is, where it stands, then (in a report a
keyboard can reach and scroll) each category's level with the rubric's words, what the
integrity record shows, the study plan, each skill's feedback and the numbers under Details.
The certificate opens in the PDF viewer, or is saved with a message where none exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from client.report import headline, report_html, standing
from client.ui.qt import QHBoxLayout, QVBoxLayout, QWidget, Signal, announce
from client.ui.style import STANDARD
from client.ui.widgets import button, label, report


class ResultPage(QWidget):
    back = Signal()
    open_certificate = Signal()
    save_certificate = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        self.colours = STANDARD
        self.result: dict[str, Any] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 20, 32, 20)
        self.title = label("Your result", name="title")
        layout.addWidget(self.title)
        self.status = label(name="subtitle", wrap=True)
        self.status.setAccessibleName("Result status")
        layout.addWidget(self.status)
        self.overall = label(name="level")
        self.overall.setAccessibleName("Overall level")
        layout.addWidget(self.overall)
        self.overall_note = label(name="subtitle", wrap=True)
        layout.addWidget(self.overall_note)
        self.standing = label(name="subtitle", wrap=True)
        layout.addWidget(self.standing)
        self.report = report("Your result in detail")
        layout.addWidget(self.report, 1)
        self.error = label(name="error", wrap=True)
        self.error.setAccessibleName("Certificate status")
        layout.addWidget(self.error)
        row = QHBoxLayout()
        self.back_button = button("Back to exams")
        self.back_button.clicked.connect(self.back.emit)
        self.save_button = button("Save certificate…")
        self.save_button.clicked.connect(self.save_certificate.emit)
        self.open_button = button("Open certificate", primary=True)
        self.open_button.clicked.connect(self.open_certificate.emit)
        row.addWidget(self.back_button)
        row.addStretch()
        row.addWidget(self.save_button)
        row.addWidget(self.open_button)
        layout.addLayout(row)
        self.waiting("")

    def waiting(self, text: str) -> None:
        """Sent, not scored yet (or kept offline): no level to show."""
        self.result = None
        self.status.setText(text)
        for widget in (self.overall, self.overall_note, self.standing):
            widget.setText("")
        self.report.setHtml("")
        self.error.setText("")
        self.open_button.setEnabled(False)
        self.save_button.setEnabled(False)
        self.back_button.setEnabled(bool(text))
        if text:
            announce(self, text)

    def offline(self, text: str) -> None:
        self.status.setText(text)
        self.back_button.setEnabled(True)
        self.back_button.setFocus()
        announce(self, text)

    def show_result(self, result: dict[str, Any], earlier: bool = False) -> None:
        self.result = result
        self.status.setText(
            "This result was received earlier and is kept on this computer. Overall level:"
            if earlier
            else "Your answers were received and scored. Overall level:"
        )
        level, note = headline(result)
        self.overall.setText(level)
        self.overall_note.setText(note)
        self.standing.setText(standing(result))
        self.report.setHtml(report_html(result, self.colours))
        self.report.verticalScrollBar().setValue(0)  # a new result starts at its top
        self.error.setText("")
        for each in (self.back_button, self.open_button, self.save_button):
            each.setEnabled(True)
        self.open_button.setFocus()
        announce(self, f"Your result: overall level {level}. {note} {self.standing.text()}")

    def certificate_status(self, text: str, problem: bool = False) -> None:
        self.error.setObjectName("error" if problem else "subtitle")
        self.error.style().unpolish(self.error)
        self.error.style().polish(self.error)
        self.error.setText(text)
        if text:
            announce(self, text)

    def certificate_saved_only(self, path: Path) -> None:
        self.certificate_status(
            f"No PDF viewer opened on this computer. Your certificate is saved as {path}: open "
            "it with any PDF reader, or use Save certificate to keep a copy elsewhere.",
            problem=True,
        )
