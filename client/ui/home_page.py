"""Home: this computer's exams, one row each (assessment, employer, when, kind, length, status),
and what can be done with the selected one. Tab moves out of the table to the buttons; the
arrows move between rows; what the row's status means is said in a sentence under the table."""

from __future__ import annotations

from client.status import SittingView
from client.ui.qt import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    Signal,
    SignalInstance,
)
from client.ui.widgets import button, label

COLUMNS = ("Assessment", "Employer", "When", "Kind", "Length", "Status")


class HomePage(QWidget):
    add = Signal()
    refresh = Signal()
    finished_exams = Signal()
    practice = Signal()
    display = Signal()
    download = Signal(dict)
    take = Signal(dict)
    view_result = Signal(str)  # submission id

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        self.views: list[SittingView] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 16, 32, 16)
        layout.addWidget(label("Your exams", name="title"))
        layout.addWidget(
            label(
                "Download an exam before the day: once downloaded it can be taken with no network.",
                name="subtitle",
                wrap=True,
            )
        )
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Your exams")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setWordWrap(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.itemActivated.connect(lambda _item: self._activate())
        layout.addWidget(self.table, 1)
        self.detail = label(name="subtitle", wrap=True)
        self.detail.setAccessibleName("About the selected exam")
        layout.addWidget(self.detail)
        self.status = label(name="subtitle", wrap=True)
        self.status.setAccessibleName("Status")
        layout.addWidget(self.status)
        self.error = label(name="error", wrap=True)
        self.error.setAccessibleName("Problem")
        layout.addWidget(self.error)
        self.details = label(name="details", wrap=True)
        layout.addWidget(self.details)

        self.add_button = button("Add invitation")
        self.add_button.clicked.connect(self.add.emit)
        self.refresh_button = button("Refresh", description="Ask the server for new exams")
        self.refresh_button.clicked.connect(self.refresh.emit)
        self.sync_button = button("Finished exams", description="How far each has got")
        self.sync_button.clicked.connect(self.finished_exams.emit)
        self.practice_button = button("Practice")
        self.practice_button.clicked.connect(self.practice.emit)
        self.display_button = button("Display…", description="Text size and high contrast")
        self.display_button.clicked.connect(self.display.emit)
        self.download_button = button("Download")
        self.download_button.clicked.connect(lambda: self._emit(self.download))
        self.result_button = button("View result")
        self.result_button.clicked.connect(self._view_result)
        self.take_button = button("Take exam", primary=True)
        self.take_button.clicked.connect(lambda: self._emit(self.take))
        first = QHBoxLayout()
        for each in (self.add_button, self.refresh_button, self.sync_button):
            first.addWidget(each)
        first.addStretch()
        second = QHBoxLayout()
        for each in (self.practice_button, self.display_button):
            second.addWidget(each)
        second.addStretch()
        for each in (self.download_button, self.result_button, self.take_button):
            second.addWidget(each)
        layout.addLayout(second)
        layout.addLayout(first)
        self.setTabOrder(self.table, self.download_button)

    def show_views(self, views: list[SittingView], status: str = "", details: str = "") -> None:
        keep = self.selected()
        keep_id = keep.sitting["id"] if keep else None
        self.views = views
        self.table.setRowCount(len(views))
        for row, each in enumerate(views):
            cells = (
                each.sitting["assessment"],
                each.sitting.get("employer", ""),
                each.window,
                each.kind,
                each.length,
                each.status,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(each.detail)
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()
        ids = [v.sitting["id"] for v in views]
        if keep_id in ids:
            self.table.selectRow(ids.index(keep_id))
        elif views:
            takeable = [n for n, v in enumerate(views) if v.can_take or v.can_download]
            self.table.selectRow(takeable[0] if takeable else len(views) - 1)
        self.status.setText(status)
        self.details.setText(details)
        self.error.setText("")
        self._selection_changed()

    def selected(self) -> SittingView | None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        row = rows.pop()
        return self.views[row] if row < len(self.views) else None

    def _selection_changed(self) -> None:
        chosen = self.selected()
        self.detail.setText(chosen.detail if chosen else "")
        self.download_button.setEnabled(bool(chosen and chosen.can_download))
        self.take_button.setEnabled(bool(chosen and chosen.can_take))
        self.result_button.setEnabled(bool(chosen and chosen.has_result))
        self.result_button.setVisible(any(v.has_result for v in self.views))

    def set_busy(self, busy: bool) -> None:
        for each in (self.add_button, self.refresh_button, self.download_button, self.take_button):
            each.setEnabled(not busy)
        if not busy:
            self._selection_changed()

    def _emit(self, signal: SignalInstance) -> None:
        chosen = self.selected()
        if chosen is not None:
            signal.emit(chosen.sitting)

    def _view_result(self) -> None:
        chosen = self.selected()
        if chosen is not None and chosen.submission_id:
            self.view_result.emit(chosen.submission_id)

    def _activate(self) -> None:
        """Enter on a row: its main action (the result, or the exam's check; never the start)."""
        chosen = self.selected()
        if chosen is None:
            return
        if chosen.has_result:
            self._view_result()
        elif chosen.can_take:
            self._emit(self.take)
