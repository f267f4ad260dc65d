"""The sync view: every finished exam on this computer and how far it has got to the server:
waiting to be sent (with the last reason and the next try), received (with the receipt's time;
its result ready, or still being scored by a server under load), or refused (with the server's
reason and what to do). Each can be sent now or saved to a file for hand-in when this computer
cannot reach the server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from client.engine import Engine
from client.outbox import Status
from client.ui.background import run_in_background
from client.ui.errors import describe
from client.ui.qt import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
)
from client.ui.widgets import button, label


def _when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%d %B %Y, %H:%M") if ms else ""


def describe_status(status: Status, now_ms: int) -> tuple[str, str]:
    """The state in words, and what the candidate can do about it."""
    if status.state == "received":
        return f"Received {_when(status.received_ms)}", "Nothing to do: your result is ready."
    if status.state == "scoring":
        return (
            f"Received {_when(status.received_ms)}",
            "Nothing to do: the server is scoring it, and your result appears here when ready.",
        )
    if status.state == "failed":
        return (
            "Refused by the server",
            f"{status.last_error} Save it to a file and give it to your proctor if asked.",
        )
    if not status.attempts:
        return "Waiting to be sent", "It is sent as soon as this computer is online."
    wait = max(0, ((status.next_attempt_ms or now_ms) - now_ms) // 1000)
    again = f"Next try in {wait} s." if wait else "Trying again now."
    return (
        f"Not sent yet ({status.attempts} tries)",
        f"{status.last_error} {again} If this computer cannot get online, save it to a file.",
    )


class SyncPage(QWidget):
    back = Signal()

    def __init__(self, engine: Engine, folder: Callable[[], str] | None = None) -> None:
        super().__init__()
        self.setObjectName("page")
        self.engine = engine
        # Where to save a hand-in file: asks the candidate (tests give a folder).
        self.folder = folder or (
            lambda: QFileDialog.getExistingDirectory(self, "Save the exam file in…")
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 32, 40, 32)
        layout.addWidget(label("Finished exams", name="title"))
        layout.addWidget(
            label(
                "Each finished exam is sealed and kept on this computer until the server "
                "confirms it has received it.",
                name="subtitle",
                wrap=True,
            )
        )
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Assessment", "State", "What to do"])
        self.table.setAccessibleName("Finished exams and their state")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        layout.addWidget(self.table, 1)
        self.status = label(name="subtitle", wrap=True)
        self.status.setAccessibleName("Sync status")
        layout.addWidget(self.status)
        row = QHBoxLayout()
        self.back_button = QPushButton("Back to exams")
        self.back_button.clicked.connect(self.back.emit)
        self.export_button = QPushButton("Save to a file for hand-in…")
        self.export_button.clicked.connect(self.export)
        self.send_button = button("Send now", primary=True)
        self.send_button.clicked.connect(self.send)
        row.addWidget(self.back_button)
        row.addStretch()
        row.addWidget(self.export_button)
        row.addWidget(self.send_button)
        layout.addLayout(row)
        self.statuses: list[Status] = []

    def refresh(self, message: str = "") -> None:
        found = self.engine.sync_status()
        self.statuses = [status for status, _name in found]
        now = self.engine.request_clock()
        self.table.setRowCount(len(found))
        for row, (status, name) in enumerate(found):
            state, action = describe_status(status, now)
            for column, text in enumerate((name, state, action)):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.resizeRowsToContents()
        if found and not self.table.selectedItems():
            self.table.selectRow(0)
        waiting = sum(1 for s in self.statuses if s.state == "pending")
        self.status.setText(
            message
            or (
                f"{waiting} exam(s) still to be sent; this computer keeps trying while examgate "
                "is open."
                if waiting
                else "Every finished exam has reached the server."
                if found
                else "No exam has been finished on this computer yet."
            )
        )
        self._update_buttons()

    def selected(self) -> Status | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        return self.statuses[rows.pop()] if len(rows) == 1 else None

    def _update_buttons(self) -> None:
        chosen = self.selected()
        self.export_button.setEnabled(bool(chosen and chosen.state in ("pending", "failed")))
        self.send_button.setEnabled(any(s.state == "pending" for s in self.statuses))

    def send(self) -> None:
        self.send_button.setEnabled(False)
        self.status.setText("Sending…")

        def sent(delivered: list[object]) -> None:
            self.refresh(f"{len(delivered)} exam(s) received by the server." if delivered else "")

        run_in_background(
            lambda: self.engine.sync(attempts=1, result_wait_s=0),
            sent,
            lambda e: self.refresh(describe(e)),
        )

    def export(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        folder = self.folder()
        if not folder:
            return
        try:
            path = self.engine.export_submission(chosen.submission_id, Path(folder))
        except (OSError, ValueError) as error:
            self.refresh(f"The file could not be saved: {error}. Choose another folder.")
            return
        self.refresh(
            f"Saved as {path}. Give this file to your proctor: it can only be opened by the "
            "exam server."
        )
