"""The result: the overall level and how sure it is, where it stands, then (in a report a
keyboard can reach and scroll) each category's level with the rubric's words, what the
integrity record shows, the study plan, each skill's feedback and the numbers under Details.
The certificate opens in the PDF viewer, or is saved with a message where none exists; the Open
Badges credential is saved as a file, and LinkedIn's add-certification page opens in the browser
(filled in; nothing is added until the candidate saves it there)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from client.report import headline, report_html, standing
from client.ui.qt import QHBoxLayout, QLabel, QWidget, Signal, announce
from client.ui.style import STANDARD
from client.ui.widgets import button, field, label, report, scrolling


class ResultPage(QWidget):
    back = Signal()
    open_certificate = Signal()
    save_certificate = Signal()
    save_badge = Signal()
    add_to_linkedin = Signal()
    share_with = Signal(str)
    stop_sharing = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        self.colours = STANDARD
        self.result: dict[str, Any] | None = None
        layout = scrolling(self)  # at 200% the page scrolls up and down, never sideways
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
        # Sharing: the result is the candidate's; an organisation sees it only if shared.
        self.shared_with = label(name="subtitle", wrap=True)
        self.shared_with.setAccessibleName("Shared with")
        sharing = QHBoxLayout()
        self.share_field = field(
            "Organisation's handle",
            "acme-hiring",
            "The handle the organisation gave you, to share this result with it or stop",
        )
        self.share_field.returnPressed.connect(self._share)
        self.share_label = QLabel("Share &with (handle)")
        self.share_label.setBuddy(self.share_field)
        self.share_button = button("Share result")
        self.share_button.clicked.connect(self._share)
        self.unshare_button = button("Stop sharing")
        self.unshare_button.clicked.connect(self._unshare)
        for widget in (self.share_label, self.share_field, self.share_button, self.unshare_button):
            sharing.addWidget(widget)
        layout.addLayout(sharing)
        self.share_status = label(name="subtitle", wrap=True)
        self.share_status.setAccessibleName("Sharing status")
        notes = QHBoxLayout()  # the certificate's status, who sees the result, what happened
        notes.addWidget(self.error, 1)
        notes.addWidget(self.shared_with, 1)
        notes.addWidget(self.share_status, 1)
        layout.addLayout(notes)
        # The achievement taken elsewhere: a verifiable credential, a LinkedIn certification.
        elsewhere = QHBoxLayout()
        elsewhere.addStretch()
        self.linkedin_button = button("Add to LinkedIn profile…")
        self.linkedin_button.setToolTip(
            "Opens LinkedIn in your browser with this certification filled in; nothing is "
            "added until you save it there"
        )
        self.linkedin_button.clicked.connect(self.add_to_linkedin.emit)
        self.badge_button = button("Save Open Badge…")
        self.badge_button.setToolTip(
            "Saves the signed Open Badges 3.0 credential (JSON), for a digital wallet or an "
            "employer's checker"
        )
        self.badge_button.clicked.connect(self.save_badge.emit)
        elsewhere.addWidget(self.linkedin_button)
        elsewhere.addWidget(self.badge_button)
        layout.addLayout(elsewhere)
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
        for each in (self.open_button, self.save_button, self.badge_button, self.linkedin_button):
            each.setEnabled(False)
        for control in self._sharing():  # nothing to share before there is a result
            control.setEnabled(False)
        self.back_button.setEnabled(bool(text))
        if text:
            announce(self, text)

    def offline(self, text: str) -> None:
        self.status.setText(text)
        self.back_button.setEnabled(True)
        self.back_button.setFocus()
        announce(self, text)

    def _sharing(self) -> tuple[QWidget, ...]:
        return (self.share_field, self.share_button, self.unshare_button)

    def show_result(self, result: dict[str, Any], earlier: bool = False) -> None:
        self.result = result
        for control in self._sharing():
            control.setEnabled(True)
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
        for each in (self.back_button, self.open_button, self.save_button, self.badge_button):
            each.setEnabled(True)
        self.linkedin_button.setEnabled(bool(result.get("linkedin_url")))
        self.open_button.setFocus()
        announce(self, f"Your result: overall level {level}. {note} {self.standing.text()}")

    def _handle(self) -> str | None:
        handle = self.share_field.text().strip()
        if not handle:
            self.sharing_status("Type the organisation's handle first.", problem=True)
            self.share_field.setFocus()
            return None
        return handle

    def _share(self) -> None:
        handle = self._handle()
        if handle:
            self.sharing_status(f"Sharing with {handle}…")
            self.share_with.emit(handle)

    def _unshare(self) -> None:
        handle = self._handle()
        if handle:
            self.sharing_status(f"Stopping sharing with {handle}…")
            self.stop_sharing.emit(handle)

    def show_shares(self, shares: list[dict[str, Any]], done: str = "") -> None:
        """Who the result is shared with now, and what just happened."""
        names = [f"{s['name']} ({s['organisation']})" for s in shares]
        self.shared_with.setText(
            "Shared with: " + ", ".join(names) + "."
            if names
            else "Not shared with any organisation: only you see this result."
        )
        if done:
            self.sharing_status(done)

    def sharing_status(self, text: str, problem: bool = False) -> None:
        self.share_status.setObjectName("error" if problem else "subtitle")
        self.share_status.style().unpolish(self.share_status)
        self.share_status.style().polish(self.share_status)
        self.share_status.setText(text)
        if text:
            announce(self, text, assertive=problem)

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
