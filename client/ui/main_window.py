"""The main window: enrolment, home (sittings), unlock, and the result, one page at a time.

Slow engine calls run in the background; every failure is shown as a sentence on the page.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.engine import Engine
from client.package import when
from client.session import ExamSession
from client.ui.background import run_in_background
from client.ui.errors import describe
from client.ui.exam_window import ExamWindow
from client.ui.health_page import HealthPage
from client.ui.practice_page import PracticePage
from client.ui.sync_page import SyncPage
from client.ui.widgets import button, label
from shared.models import level_name

SYNC_EVERY_MS = 15_000


def _page(title: str, subtitle: str = "") -> tuple[QWidget, QVBoxLayout, QLabel]:
    page = QWidget()
    page.setObjectName("page")
    layout = QVBoxLayout(page)
    layout.setContentsMargins(40, 32, 40, 32)
    layout.addWidget(label(title, name="title"))
    if subtitle:
        layout.addWidget(label(subtitle, name="subtitle", wrap=True))
    layout.addSpacing(12)
    error = label(name="error", wrap=True)
    return page, layout, error


class MainWindow(QMainWindow):
    exam_opened = Signal(object)  # the ExamWindow, for tests and the proctor layer
    result_shown = Signal(object)

    def __init__(self, engine: Engine, lockdown: bool = True) -> None:
        super().__init__()
        self.engine = engine
        self.lockdown = lockdown
        self.setWindowTitle("examgate")
        self.resize(900, 640)
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.exam: ExamWindow | None = None
        self.sitting: dict[str, Any] | None = None
        self.submission_id: str | None = None
        self._build_enrol()
        self._build_home()
        self._build_unlock()
        self._build_result()
        self.health_page = HealthPage()
        self.health_page.back.connect(lambda: self.show_home())
        self.health_page.passed.connect(self._health_passed)
        self.stack.addWidget(self.health_page)
        self.health: list[Any] = []
        self.practice_page = PracticePage(engine, self._practice_server)
        self.practice_page.back.connect(self._leave_practice)
        self.stack.addWidget(self.practice_page)
        self.sync_page = SyncPage(engine)
        self.sync_page.back.connect(lambda: self.show_home())
        self.stack.addWidget(self.sync_page)
        # The outbox keeps trying for as long as the app runs (not during an exam: the exam's
        # journal has the database to itself).
        self.sync_timer = QTimer(self, interval=SYNC_EVERY_MS)
        self.sync_timer.timeout.connect(self._sync_in_background)
        self.sync_timer.start()
        self._syncing = False
        if engine.state.enrolment() is None:
            self.stack.setCurrentWidget(self.enrol_page)
        else:
            self.show_home()

    def _busy(self, label: QLabel, text: str) -> None:
        label.setStyleSheet("color: #5b6b7a;")
        label.setText(text)

    def _fail(self, label: QLabel) -> Callable[[Exception], None]:
        def show(error: Exception) -> None:
            label.setStyleSheet("")
            label.setText(describe(error))
            self._set_enabled(True)

        return show

    def _set_enabled(self, enabled: bool) -> None:
        for each in self.findChildren(QPushButton):
            each.setEnabled(enabled)
        if enabled:
            self._update_home_buttons()

    # -- enrolment ---------------------------------------------------------------------------
    def _build_enrol(self) -> None:
        page, layout, self.enrol_error = _page(
            "Enrol this computer",
            "Enter the exam server's address and the invitation code you were given. This "
            "computer gets its own keys; the server's identity is remembered from now on.",
        )
        form = QFormLayout()
        self.server_field = QLineEdit(placeholderText="https://exams.example.org")
        self.invite_field = QLineEdit(placeholderText="XXXX-XXXX-XXXX-XXXX")
        form.addRow("Server address", self.server_field)
        form.addRow("Invitation code", self.invite_field)
        layout.addLayout(form)
        self.enrol_button = button("Enrol", primary=True)
        self.enrol_button.clicked.connect(self.enrol)
        self.invite_field.returnPressed.connect(self.enrol)
        practice = button("Practice questions")
        practice.clicked.connect(self.show_practice)
        row = QHBoxLayout()
        row.addWidget(practice)
        row.addStretch()
        row.addWidget(self.enrol_button)
        layout.addLayout(row)
        layout.addWidget(self.enrol_error)
        layout.addStretch()
        self.enrol_page = page
        self.stack.addWidget(page)

    def prefill(self, server: str, invitation: str) -> None:
        """Fill in the enrolment page (from the command line) and show it."""
        self.server_field.setText(server)
        self.invite_field.setText(invitation)
        self.stack.setCurrentWidget(self.enrol_page)

    def enrol(self) -> None:
        server, code = self.server_field.text().strip(), self.invite_field.text().strip()
        if not server or not code:
            self.enrol_error.setText("Enter both the server address and the invitation code.")
            return
        self._busy(self.enrol_error, "Enrolling…")
        self._set_enabled(False)
        run_in_background(
            lambda: self.engine.enrol(server, code), self._enrolled, self._fail(self.enrol_error)
        )

    def _enrolled(self, _sitting: dict[str, Any]) -> None:
        self._set_enabled(True)
        self.enrol_error.setText("")
        fingerprint = self.engine.enrolment().fingerprint
        self.show_home(f"Enrolled. The server's identity is {fingerprint}.")

    # -- home ----------------------------------------------------------------------------------
    def _build_home(self) -> None:
        page, layout, self.home_error = _page(
            "Your exams",
            "Download an exam before the day: once downloaded it can be taken with no network.",
        )
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Assessment", "Length", "Kind", "Status"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._update_home_buttons)
        layout.addWidget(self.table)
        self.home_status = label(name="subtitle", wrap=True)
        layout.addWidget(self.home_status)
        layout.addWidget(self.home_error)
        row = QHBoxLayout()
        self.add_button = QPushButton("Add invitation")
        self.add_button.clicked.connect(lambda: self.stack.setCurrentWidget(self.enrol_page))
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.send_button = QPushButton("Finished exams")
        self.send_button.clicked.connect(self.show_sync)
        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.download)
        self.open_button = button("Take exam", primary=True)
        self.open_button.clicked.connect(self.show_health)
        self.practice_button = button("Practice")
        self.practice_button.clicked.connect(self.show_practice)
        for each in (self.add_button, self.refresh_button, self.send_button, self.practice_button):
            row.addWidget(each)
        row.addStretch()
        row.addWidget(self.download_button)
        row.addWidget(self.open_button)
        layout.addLayout(row)
        self.home_page = page
        self.stack.addWidget(page)

    def show_home(self, status: str = "") -> None:
        self.sittings = self.engine.sittings()
        self.table.setRowCount(len(self.sittings))
        for row, sitting in enumerate(self.sittings):
            done = sitting["state"] == "scored" or self.engine.outbox.for_sitting(sitting["id"])
            ready = (
                "Finished"
                if done
                else ("Ready offline" if sitting["downloaded"] else "Not downloaded")
            )
            cells = [
                sitting["assessment"],
                f"{sitting['duration_s'] // 60} min",
                "Supervised" if sitting["offline"] else "Online",
                ready,
            ]
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        if self.sittings and not self.table.selectedItems():
            self.table.selectRow(len(self.sittings) - 1)
        pending = len(self.engine.outbox.pending())
        waiting = f" {pending} finished exam(s) are waiting to be sent." if pending else ""
        self.home_status.setText(status + waiting)
        self.home_error.setText("")
        self._update_home_buttons()
        self.stack.setCurrentWidget(self.home_page)

    def selected(self) -> dict[str, Any] | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        if len(rows) != 1 or not hasattr(self, "sittings"):
            return None
        return self.sittings[rows.pop()]

    def _update_home_buttons(self) -> None:
        if not hasattr(self, "open_button"):
            return
        sitting = self.selected()
        finished = bool(sitting and self.engine.outbox.for_sitting(sitting["id"]))
        self.download_button.setEnabled(bool(sitting) and not finished)
        self.open_button.setEnabled(bool(sitting and sitting["downloaded"]) and not finished)
        self.send_button.setEnabled(bool(self.engine.outbox.statuses()))

    def refresh(self) -> None:
        self._busy(self.home_error, "Checking the server…")
        run_in_background(
            self.engine.refresh, lambda _s: self.show_home(), self._fail(self.home_error)
        )

    def download(self) -> None:
        sitting = self.selected()
        if sitting is None:
            return
        self._busy(self.home_error, "Downloading the sealed exam…")
        self._set_enabled(False)

        def downloaded(_header: object) -> None:
            self._set_enabled(True)
            self.show_home("Downloaded: this exam can now be taken offline.")

        run_in_background(
            lambda: self.engine.download(sitting["id"]), downloaded, self._fail(self.home_error)
        )

    def show_sync(self) -> None:
        self.sync_page.refresh()
        self.stack.setCurrentWidget(self.sync_page)

    def _sync_in_background(self) -> None:
        if self._syncing or (self.exam is not None and not self.exam.done):
            return
        if self.engine.state.enrolment() is None or not self.engine.outbox.pending():
            return
        self._syncing = True

        def finished(_delivered: object) -> None:
            self._syncing = False
            if self.stack.currentWidget() is self.sync_page:
                self.sync_page.refresh()
            elif self.stack.currentWidget() is self.home_page:
                self.show_home()

        run_in_background(self.engine.sync_due, finished, finished)

    # -- practice --------------------------------------------------------------------------------
    def _practice_server(self) -> str | None:
        enrolment = self.engine.state.enrolment()
        return enrolment.server_url if enrolment else (self.server_field.text().strip() or None)

    def show_practice(self) -> None:
        self.stack.setCurrentWidget(self.practice_page)

    def _leave_practice(self) -> None:
        if self.engine.state.enrolment() is None:
            self.stack.setCurrentWidget(self.enrol_page)
        else:
            self.show_home()

    # -- unlock ------------------------------------------------------------------------------
    def _build_unlock(self) -> None:
        page, layout, self.unlock_error = _page("Unlock the exam")
        self.unlock_info = label(name="subtitle", wrap=True)
        layout.addWidget(self.unlock_info)
        form = QFormLayout()
        self.code_field = QLineEdit(placeholderText="XXXX-XXXX-XXXX")
        self.code_field.returnPressed.connect(self.unlock)
        form.addRow("Unlock code", self.code_field)
        layout.addLayout(form)
        layout.addWidget(self.unlock_error)
        row = QHBoxLayout()
        back = QPushButton("Back")
        back.clicked.connect(lambda: self.show_home())
        self.start_button = QPushButton("Start now (online)")
        self.start_button.clicked.connect(self.start_online)
        self.unlock_button = button("Unlock and start", primary=True)
        self.unlock_button.clicked.connect(self.unlock)
        row.addWidget(back)
        row.addStretch()
        row.addWidget(self.start_button)
        row.addWidget(self.unlock_button)
        layout.addLayout(row)
        layout.addStretch()
        self.unlock_page = page
        self.stack.addWidget(page)

    def show_health(self) -> None:
        """The pre-sitting check, under the sitting's own policy, before any code is asked."""
        self.sitting = self.selected()
        if self.sitting is None:
            return
        self.health_page.run(self.engine.sitting_policy(self.sitting["id"]))
        self.stack.setCurrentWidget(self.health_page)

    def _health_passed(self, checks: list[Any]) -> None:
        self.health = checks
        self.show_unlock()

    def show_unlock(self) -> None:
        if self.sitting is None:
            return
        minutes = self.sitting["duration_s"] // 60
        how = (
            "Your proctor will read out the unlock code when the sitting begins."
            if self.sitting["offline"]
            else "Press Start now when you are ready: the server releases the code and the "
            "exam begins."
        )
        closes = self.sitting.get("closes_ms")
        if isinstance(closes, int) and self.sitting["offline"]:
            left = (closes - self.engine.clock.wall_ms()) // 60_000
            if left < minutes:
                how += (
                    f" The window for this exam closes on {when(closes)}, so you will have "
                    f"about {max(left, 0)} minutes."
                )
        self.unlock_info.setText(
            f"{self.sitting['assessment']}: {minutes} minutes, one question at a time. The exam "
            "fills the screen; leaving it is recorded. " + how
        )
        self.start_button.setVisible(not self.sitting["offline"])
        self.code_field.clear()
        self.unlock_error.setText("")
        self.stack.setCurrentWidget(self.unlock_page)
        self.code_field.setFocus()

    def start_online(self) -> None:
        assert self.sitting is not None
        sitting_id = self.sitting["id"]
        self._busy(self.unlock_error, "Starting…")
        self._set_enabled(False)
        run_in_background(
            lambda: self.engine.unlock(sitting_id, self.engine.release_code(sitting_id)),
            self._unlocked,
            self._fail(self.unlock_error),
        )

    def unlock(self) -> None:
        assert self.sitting is not None
        code = self.code_field.text().strip()
        if not code:
            self.unlock_error.setText("Enter the unlock code your proctor gives you.")
            return
        sitting_id = self.sitting["id"]
        self._busy(self.unlock_error, "Opening the exam…")
        self._set_enabled(False)
        run_in_background(
            lambda: self.engine.unlock(sitting_id, code),
            self._unlocked,
            self._fail(self.unlock_error),
        )

    def _unlocked(self, session: ExamSession) -> None:
        self._set_enabled(True)
        self.unlock_error.setText("")
        assert self.sitting is not None
        self.exam = ExamWindow(
            session, self.sitting["assessment"], lockdown=self.lockdown, report=self._checkpoint
        )
        self.exam.finished.connect(lambda: self._exam_finished(session))
        self.hide()
        self.exam.begin(health=self.health)
        self.exam_opened.emit(self.exam)

    def _checkpoint(self, session: ExamSession) -> None:
        """Show the server how far the log has come, if it can be reached (never blocking)."""
        events = session.journal.events
        if not events:
            return
        api = self.engine.api()
        seq, digest = len(events) - 1, str(events[-1]["hash"])
        run_in_background(
            lambda: api.checkpoint(session.sitting_id, seq, digest),
            lambda _s: None,
            lambda _e: None,
        )

    def _exam_finished(self, session: ExamSession) -> None:
        self.submission_id = self.engine.seal(session)
        self.show()
        self.result_status.setText("Your answers are sealed and signed. Sending them…")
        self.stack.setCurrentWidget(self.result_page)
        run_in_background(lambda: self.engine.sync(attempts=3), self._synced, self._offline)

    def _synced(self, delivered: list[Any]) -> None:
        for item in delivered:
            if item.submission_id == self.submission_id:
                self.show_result(item.result)
                return
        self._offline(None)

    def _offline(self, error: Exception | None) -> None:
        reason = describe(error) + " " if error else ""
        self.result_status.setText(
            reason + "Your answers are sealed and kept safely on this computer. examgate keeps "
            "sending them while it is open; Finished exams shows how far they have got."
        )
        self.result_back.setEnabled(True)

    # -- result ------------------------------------------------------------------------------
    def _build_result(self) -> None:
        page, layout, self.result_error = _page("Your result")
        self.result_status = label(name="subtitle", wrap=True)
        layout.addWidget(self.result_status)
        self.overall = label(name="level")
        layout.addWidget(self.overall)
        self.overall_note = label(name="subtitle", wrap=True)
        layout.addWidget(self.overall_note)
        self.categories = QTableWidget(0, 2)
        self.categories.setHorizontalHeaderLabels(["Category", "Level"])
        self.categories.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.categories.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.categories.verticalHeader().hide()
        self.categories.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.categories.setFixedHeight(4 * 30 + 32)
        layout.addWidget(self.categories)
        self.feedback = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.feedback.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.feedback)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.result_error)
        row = QHBoxLayout()
        self.result_back = QPushButton("Back to exams")
        self.result_back.clicked.connect(lambda: self.show_home())
        self.save_button = QPushButton("Save certificate…")
        self.save_button.clicked.connect(self.save_certificate)
        self.open_certificate_button = button("Open certificate", primary=True)
        self.open_certificate_button.clicked.connect(self.open_certificate)
        row.addWidget(self.result_back)
        row.addStretch()
        row.addWidget(self.save_button)
        row.addWidget(self.open_certificate_button)
        layout.addLayout(row)
        self.result_page = page
        self.stack.addWidget(page)

    def show_result(self, result: dict[str, Any]) -> None:
        self.result = result
        percentile = result.get("percentile")
        standing = (
            f" You scored higher than {percentile}% of candidates so far."
            if percentile is not None
            else ""
        )
        self.result_status.setText(
            "Your answers were received and scored." + standing + " Overall level:"
        )
        self.overall.setText(level_name(result["overall"]))
        overall = result.get("overall_detail", {})
        self.overall_note.setText(
            f"{overall['confidence']:.0%} likely to be your level; measured ability "
            f"{overall['theta']:+.2f} ± {overall['se']:.2f} on a scale where candidates average 0."
            if "confidence" in overall
            else ""
        )
        details = result["category_details"]
        self.categories.setRowCount(len(details))
        for row, detail in enumerate(details):
            self.categories.setItem(row, 0, QTableWidgetItem(detail["name"]))
            sure = f" ({detail['confidence']:.0%} sure)" if "confidence" in detail else ""
            self.categories.setItem(row, 1, QTableWidgetItem(level_name(detail["level"]) + sure))
        skills = "".join(
            f"<li><b>{escape(s['skill'])}</b> ({escape(s['category'])}): "
            f"{escape(s['feedback'])}"
            + (
                "<ul>" + "".join(f"<li>{escape(why)}</li>" for why in s.get("review", [])) + "</ul>"
                if s.get("review")
                else ""
            )
            + "</li>"
            for s in result["skills"]
        )
        plan = "".join(
            f"<li><b>{escape(p['skill'])}</b> ({escape(p['category'])})</li>"
            for p in result["study_plan"]
        )
        self.feedback.setText(
            (
                f"<h3>Your study plan</h3><p>Start with the first: these skills raise your "
                f"level most.</p><ol>{plan}</ol>"
                if plan
                else ""
            )
            + f"<h3>Feedback on each skill</h3><ul>{skills}</ul>"
        )
        self.result_error.setText("")
        self._set_enabled(True)
        self.stack.setCurrentWidget(self.result_page)
        self.result_shown.emit(result)

    def _certificate(self, then: Callable[[Path], None]) -> None:
        assert self.submission_id is not None
        submission_id = self.submission_id
        entry = self.engine.outbox.entry(submission_id)
        if entry and entry["certificate"] and Path(entry["certificate"]).exists():
            then(Path(entry["certificate"]))
            return
        self._busy(self.result_error, "Fetching the certificate…")

        def fetched(path: Path) -> None:
            self.result_error.setText("")
            then(path)

        run_in_background(
            lambda: self.engine.save_certificate(submission_id),
            fetched,
            self._fail(self.result_error),
        )

    def open_certificate(self) -> None:
        def open_file(path: Path) -> None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

        self._certificate(open_file)

    def save_certificate(self) -> None:
        def ask(path: Path) -> None:
            target, _ = QFileDialog.getSaveFileName(
                self, "Save certificate", str(Path.home() / path.name), "PDF (*.pdf)"
            )
            if target:
                Path(target).write_bytes(path.read_bytes())
                self._busy(self.result_error, f"Saved to {target}.")

        self._certificate(ask)
