"""The main window: one page at a time (enrolment, home, the check, the ready screen, practice,
finished exams, the result, display), and the exam in its own window.

Pages draw and report what the candidate asked for; this window calls the engine (slow calls in
the background) and shows every failure as a sentence on the page it came from.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client.engine import Engine
from client.errors import ResultNotReady
from client.session import ExamSession
from client.ui.background import run_in_background
from client.ui.display_page import DisplayPage, apply_display, load_display, save_display
from client.ui.enrol_page import EnrolPage
from client.ui.errors import describe
from client.ui.exam_window import ExamWindow
from client.ui.health_page import HealthPage
from client.ui.home_page import HomePage
from client.ui.practice_page import PracticePage
from client.ui.qt import (
    QDesktopServices,
    QFileDialog,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QTimer,
    QUrl,
    QWidget,
    Signal,
    announce,
)
from client.ui.ready_page import ReadyPage
from client.ui.result_page import ResultPage
from client.ui.style import Display
from client.ui.sync_page import SyncPage

SYNC_EVERY_MS = 15_000


class MainWindow(QMainWindow):
    exam_opened = Signal(object)  # the ExamWindow, for tests and the proctor layer
    result_shown = Signal(object)

    def __init__(self, engine: Engine, lockdown: bool = True) -> None:
        super().__init__()
        self.engine = engine
        self.lockdown = lockdown
        self.setWindowTitle("examgate")
        self.resize(960, 680)
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.exam: ExamWindow | None = None
        self.sitting: dict[str, Any] | None = None
        self.submission_id: str | None = None
        self.health: list[Any] = []
        self.display = load_display(engine.settings.home)

        self.enrol_page = EnrolPage()
        self.enrol_page.submitted.connect(self.enrol)
        self.enrol_page.back.connect(lambda: self.show_home())
        self.enrol_page.practice.connect(self.show_practice)
        self.home_page = HomePage()
        self.home_page.add.connect(self.show_enrol)
        self.home_page.refresh.connect(self.refresh)
        self.home_page.finished_exams.connect(self.show_sync)
        self.home_page.practice.connect(self.show_practice)
        self.home_page.display.connect(self.show_display)
        self.home_page.download.connect(self.download)
        self.home_page.take.connect(self.show_health)
        self.home_page.view_result.connect(self.view_result)
        self.health_page = HealthPage()
        self.health_page.back.connect(lambda: self.show_home())
        self.health_page.passed.connect(self._health_passed)
        self.ready_page = ReadyPage()
        self.ready_page.back.connect(lambda: self.show_home())
        self.ready_page.start_online.connect(self.start_online)
        self.ready_page.unlock.connect(self.unlock)
        self.practice_page = PracticePage(engine, self._practice_server)
        self.practice_page.back.connect(self._leave_practice)
        self.sync_page = SyncPage(engine)
        self.sync_page.back.connect(lambda: self.show_home())
        self.result_page = ResultPage()
        self.result_page.back.connect(lambda: self.show_home())
        self.result_page.open_certificate.connect(self.open_certificate)
        self.result_page.save_certificate.connect(self.save_certificate)
        self.result_page.save_badge.connect(self.save_badge)
        self.result_page.add_to_linkedin.connect(self.add_to_linkedin)
        self.result_page.share_with.connect(self.share_result)
        self.result_page.stop_sharing.connect(self.unshare_result)
        self.display_page = DisplayPage(self.display)
        self.display_page.back.connect(self._leave_display)
        self.display_page.changed.connect(self.set_display)
        for page in (
            self.enrol_page,
            self.home_page,
            self.health_page,
            self.ready_page,
            self.practice_page,
            self.sync_page,
            self.result_page,
            self.display_page,
        ):
            self.stack.addWidget(page)
        self._colours()
        # The outbox keeps trying for as long as the app runs (not during an exam: the exam's
        # journal has the database to itself).
        self.sync_timer = QTimer(self, interval=SYNC_EVERY_MS)
        self.sync_timer.timeout.connect(self._sync_in_background)
        self.sync_timer.start()
        self._syncing = False
        self._before_display: QWidget = self.home_page
        if engine.state.enrolment() is None:
            self.show_enrol()
        else:
            self.show_home()

    # Kept for tests and the proctor layer, which reach into the pages by these names.
    @property
    def unlock_page(self) -> ReadyPage:
        return self.ready_page

    def _page(self, page: QWidget, title: str) -> None:
        self.stack.setCurrentWidget(page)
        self.setWindowTitle(f"examgate: {title}")
        announce(page, title)

    def _busy(self, where: QLabel, text: str) -> None:
        where.setText(text)
        announce(where, text)

    def _fail(self, where: QLabel) -> Any:
        def show(error: Exception) -> None:
            where.setText(describe(error))
            announce(where, where.text(), assertive=True)
            self._set_busy(False)

        return show

    def _set_busy(self, busy: bool) -> None:
        self.home_page.set_busy(busy)
        for each in (
            self.enrol_page.enrol_button,
            self.ready_page.start_button,
            self.ready_page.unlock_button,
        ):
            each.setEnabled(not busy)

    # -- display -----------------------------------------------------------------------------
    def _colours(self) -> None:
        self.health_page.palette_colours = self.display.palette
        self.result_page.colours = self.display.palette
        self.practice_page.colours = self.display.palette

    def show_display(self) -> None:
        self._before_display = self.stack.currentWidget() or self.home_page
        self.display_page.show_display(self.display)
        self._page(self.display_page, "Display")

    def set_display(self, display: Display) -> None:
        self.display = display
        save_display(self.engine.settings.home, display)
        apply_display(display)
        self._colours()

    def _leave_display(self) -> None:
        if self._before_display is self.enrol_page:
            self.show_enrol()
        else:
            self.show_home()

    # -- enrolment ---------------------------------------------------------------------------
    @property
    def server_field(self) -> Any:
        return self.enrol_page.server_field

    @property
    def invite_field(self) -> Any:
        return self.enrol_page.invite_field

    @property
    def enrol_button(self) -> Any:
        return self.enrol_page.enrol_button

    def show_enrol(self) -> None:
        self.enrol_page.show_for(self.engine.state.enrolment() is not None)
        self._page(self.enrol_page, self.enrol_page.title.text())

    def prefill(self, server: str, invitation: str) -> None:
        """Fill in the enrolment page (from the command line) and show it."""
        self.enrol_page.fill(server, invitation)
        self.show_enrol()

    def enrol(self, server: str, code: str) -> None:
        self._busy(self.enrol_page.error, "Enrolling…")
        self._set_busy(True)
        run_in_background(
            lambda: self.engine.enrol(server, code),
            self._enrolled,
            self._fail(self.enrol_page.error),
        )

    def _enrolled(self, _sitting: dict[str, Any]) -> None:
        self._set_busy(False)
        self.enrol_page.error.setText("")
        self.enrol_page.invite_field.clear()
        fingerprint = self.engine.enrolment().fingerprint
        self.show_home(
            "Enrolled: your invitation is below.",
            details=f"Server key fingerprint, if your organiser asks: {fingerprint}",
        )

    # -- home ----------------------------------------------------------------------------------
    @property
    def table(self) -> Any:
        return self.home_page.table

    @property
    def download_button(self) -> Any:
        return self.home_page.download_button

    @property
    def open_button(self) -> Any:
        return self.home_page.take_button

    def show_home(self, status: str = "", details: str = "") -> None:
        pending = len(self.engine.outbox.pending())
        waiting = (
            f" {pending} finished exam{'s are' if pending != 1 else ' is'} waiting to be sent."
            if pending
            else ""
        )
        self.home_page.show_views(self.engine.sitting_views(), (status + waiting).strip(), details)
        self.home_page.sync_button.setEnabled(bool(self.engine.outbox.statuses()))
        self._page(self.home_page, "Your exams")
        self.home_page.table.setFocus()

    def refresh(self) -> None:
        self._busy(self.home_page.status, "Checking the server…")
        run_in_background(
            self.engine.refresh,
            lambda _s: self.show_home("Up to date."),
            self._fail(self.home_page.error),
        )

    def download(self, sitting: dict[str, Any]) -> None:
        self._busy(self.home_page.status, "Downloading the sealed exam…")
        self._set_busy(True)

        def downloaded(_header: object) -> None:
            self._set_busy(False)
            self.show_home("Downloaded: this exam can now be taken offline.")

        run_in_background(
            lambda: self.engine.download(sitting["id"]),
            downloaded,
            self._fail(self.home_page.error),
        )

    def show_sync(self) -> None:
        self.sync_page.refresh()
        self._page(self.sync_page, "Finished exams")

    def _sync_in_background(self) -> None:
        if self._syncing or (self.exam is not None and not self.exam.done):
            return
        outbox = self.engine.outbox
        if self.engine.state.enrolment() is None or not (outbox.pending() or outbox.unscored()):
            return
        self._syncing = True

        def finished(delivered: object) -> None:
            self._syncing = False
            waiting = self.stack.currentWidget() is self.result_page and not self.result_page.result
            for item in delivered if isinstance(delivered, list) and waiting else []:
                if item.submission_id == self.submission_id and item.result is not None:
                    self.show_result(item.result)  # the result a busy server scored meanwhile
                    return
            if self.stack.currentWidget() is self.sync_page:
                self.sync_page.refresh()
            elif self.stack.currentWidget() is self.home_page:
                self.show_home()

        run_in_background(self.engine.sync_due, finished, finished)

    # -- practice --------------------------------------------------------------------------------
    def _practice_server(self) -> str | None:
        enrolment = self.engine.state.enrolment()
        if enrolment:
            return enrolment.server_url
        return self.enrol_page.server_field.text().strip() or None

    def show_practice(self) -> None:
        self.practice_page.enter()
        self._page(self.practice_page, "Practice questions")

    def _leave_practice(self) -> None:
        if self.engine.state.enrolment() is None:
            self.show_enrol()
        else:
            self.show_home()

    # -- before the exam ---------------------------------------------------------------------
    def show_health(self, sitting: dict[str, Any] | None = None) -> None:
        """The pre-sitting check, under the sitting's own policy, before any code is asked."""
        chosen = self.home_page.selected()
        self.sitting = sitting or (chosen.sitting if chosen else None)
        if self.sitting is None:
            return
        self.health_page.run(self.engine.sitting_policy(self.sitting["id"]))
        self._page(self.health_page, "Check this computer")

    def _health_passed(self, checks: list[Any]) -> None:
        self.health = checks
        self.show_ready()

    def show_ready(self) -> None:
        if self.sitting is None:
            return
        try:
            header = self.engine.header(self.sitting["id"])
        except Exception as error:
            self.show_home()
            self.home_page.error.setText(describe(error))
            return
        self.ready_page.prepare(header, self.sitting, self.engine.clock.wall_ms())
        self._page(self.ready_page, "Before you start")

    def start_online(self) -> None:
        assert self.sitting is not None
        sitting_id = self.sitting["id"]
        share = self.ready_page.share()
        self._busy(self.ready_page.error, "Starting…")
        self._set_busy(True)
        run_in_background(
            lambda: self.engine.unlock(
                sitting_id, self.engine.release_code(sitting_id), share=share
            ),
            self._unlocked,
            self._fail(self.ready_page.error),
        )

    def unlock(self, code: str) -> None:
        assert self.sitting is not None
        sitting_id = self.sitting["id"]
        share = self.ready_page.share()
        self._busy(self.ready_page.error, "Opening the exam…")
        self._set_busy(True)
        run_in_background(
            lambda: self.engine.unlock(sitting_id, code, share=share),
            self._unlocked,
            self._fail(self.ready_page.error),
        )

    def _unlocked(self, session: ExamSession) -> None:
        self._set_busy(False)
        self.ready_page.error.setText("")
        assert self.sitting is not None
        self.exam = ExamWindow(
            session,
            self.sitting["assessment"],
            lockdown=self.lockdown,
            report=self._checkpoint,
            stepper=self.engine.stepper() if session.adaptive else None,
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
        final, locked = session.state == "ended", session.locked
        run_in_background(
            lambda: api.checkpoint(session.sitting_id, seq, digest, final=final, locked=locked),
            lambda _s: None,
            lambda _e: None,
        )

    # -- after the exam ----------------------------------------------------------------------
    def _exam_finished(self, session: ExamSession) -> None:
        self.submission_id = self.engine.seal(session)
        self.show()
        self.result_page.waiting("")
        self.result_page.status.setText("Your answers are sealed and signed. Sending them…")
        self._page(self.result_page, "Your result")
        run_in_background(
            lambda: self.engine.sync(attempts=3, result_wait_s=0), self._synced, self._offline
        )

    def _synced(self, delivered: list[Any], waited: bool = False) -> None:
        if waited and (
            self.stack.currentWidget() is not self.result_page or self.result_page.result
        ):
            return  # the candidate has moved on; Finished exams has the result
        for item in delivered:
            if item.submission_id != self.submission_id:
                continue
            failed = (self.engine.outbox.entry(item.submission_id) or {}).get("failed")
            if item.result is not None:
                self.show_result(item.result)
            elif failed:  # scoring refused it after the receipt: the server's reason
                self.result_page.offline(
                    f"{failed} Your answers stay on this computer; Finished exams has them."
                )
            elif not waited:  # receipted by a server under load: it scores it in a moment
                self.result_page.waiting(
                    "Your answers were received by the server, and its receipt is kept on "
                    "this computer. It is scoring them now; your result appears here in a "
                    "moment."
                )
                run_in_background(
                    lambda: self.engine.sync(attempts=1),
                    lambda later: self._synced(later, waited=True),
                    self._offline,
                )
            else:
                self.result_page.offline(str(ResultNotReady()))
            return
        if not waited:
            self._offline(None)

    def _offline(self, error: Exception | None) -> None:
        reason = describe(error) + " " if error else ""
        self.result_page.offline(
            reason + "Your answers are sealed and kept safely on this computer. examgate keeps "
            "sending them while it is open; Finished exams shows how far they have got."
        )

    def show_result(self, result: dict[str, Any], earlier: bool = False) -> None:
        self.result = result
        self.result_page.show_result(result, earlier=earlier)
        self._load_shares()
        self._page(self.result_page, "Your result")
        self.result_shown.emit(result)

    def view_result(self, submission_id: str) -> None:
        result = self.engine.result(submission_id)
        if result is None:
            return
        self.submission_id = submission_id
        self.show_result(result, earlier=True)

    # -- sharing the result ------------------------------------------------------------------
    def _load_shares(self) -> None:
        submission_id = self.submission_id
        if submission_id is None:
            return
        self.result_page.shared_with.setText("")
        run_in_background(
            lambda: self.engine.shares(submission_id),
            self.result_page.show_shares,
            lambda _error: self.result_page.shared_with.setText(
                "Who sees this result can be checked when this computer is online."
            ),
        )

    def share_result(self, handle: str) -> None:
        self._change_sharing(
            lambda sid: self.engine.share(sid, handle),
            f"Shared with {handle}: it can see this result now.",
        )

    def unshare_result(self, handle: str) -> None:
        self._change_sharing(
            lambda sid: self.engine.unshare(sid, handle),
            f"{handle} no longer sees this result; it still knows you completed it.",
        )

    def _change_sharing(self, change: Callable[[str], list[dict[str, Any]]], done: str) -> None:
        submission_id = self.submission_id
        if submission_id is None:
            return
        run_in_background(
            lambda: change(submission_id),
            lambda shares: self.result_page.show_shares(shares, done),
            lambda error: self.result_page.sharing_status(describe(error), problem=True),
        )

    # Kept for tests, which read the result page by these names.
    @property
    def overall(self) -> QLabel:
        return self.result_page.overall

    @property
    def overall_note(self) -> QLabel:
        return self.result_page.overall_note

    def _certificate(self, then: Any) -> None:
        assert self.submission_id is not None
        submission_id = self.submission_id
        entry = self.engine.outbox.entry(submission_id)
        if entry and entry["certificate"] and Path(entry["certificate"]).exists():
            then(Path(entry["certificate"]))
            return
        self.result_page.certificate_status(
            "Fetching the certificate… Your result is saved; right after a busy exam the "
            "server may take a minute to prepare it."
        )

        def fetched(path: Path) -> None:
            self.result_page.certificate_status("")
            then(path)

        def failed(error: Exception) -> None:
            self.result_page.certificate_status(describe(error), problem=True)

        run_in_background(lambda: self.engine.save_certificate(submission_id), fetched, failed)

    def open_certificate(self) -> None:
        def open_file(path: Path) -> None:
            if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
                self.result_page.certificate_status(f"Opened {path.name}.")
            else:
                self.result_page.certificate_saved_only(path)

        self._certificate(open_file)

    def save_badge(self) -> None:
        assert self.submission_id is not None
        submission_id = self.submission_id
        target, _ = QFileDialog.getSaveFileName(
            self,
            "Save Open Badge",
            str(Path.home() / self.engine.credential_name(submission_id)),
            "Open Badges credential (*.json)",
        )
        if not target:
            return
        self.result_page.certificate_status("Fetching the Open Badge…")
        run_in_background(
            lambda: self.engine.save_credential(submission_id, Path(target)),
            lambda path: self.result_page.certificate_status(f"Open Badge saved to {path}."),
            lambda error: self.result_page.certificate_status(describe(error), problem=True),
        )

    def add_to_linkedin(self) -> None:
        link = (self.result_page.result or {}).get("linkedin_url")
        if link and QDesktopServices.openUrl(QUrl(link)):
            self.result_page.certificate_status(
                "LinkedIn opened in your browser with this certification filled in."
            )
        elif link:
            self.result_page.certificate_status(
                f"No browser opened on this computer. To add the certification, open {link}",
                problem=True,
            )

    def save_certificate(self) -> None:
        def ask(path: Path) -> None:
            target, _ = QFileDialog.getSaveFileName(
                self, "Save certificate", str(Path.home() / path.name), "PDF (*.pdf)"
            )
            if not target:
                return
            try:
                shutil.copyfile(path, target)
            except OSError as error:
                self.result_page.certificate_status(
                    f"The certificate could not be saved there ({error.strerror}). Choose "
                    "another folder.",
                    problem=True,
                )
                return
            self.result_page.certificate_status(f"Saved to {target}.")

        self._certificate(ask)
