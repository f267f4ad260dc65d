"""Focus-loss detection: the exam window losing activation, or the application going inactive.

Each loss becomes a ``focus_lost`` event and each return a ``focus_returned`` event, both
written through ``record`` (the session's journal) as they happen; the time away is what lies
between the two events' charged times, never a figure of the client's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from client.ui.qt import QEvent, QGuiApplication, QObject, Qt, QWidget

Record = Callable[[str, dict[str, Any]], object]


class FocusWatcher(QObject):
    def __init__(self, window: QWidget, record: Record) -> None:
        super().__init__(window)
        self.window = window
        self.record = record
        self.losses = 0
        self._away = False
        self._active = True
        window.installEventFilter(self)
        app = QGuiApplication.instance()
        assert isinstance(app, QGuiApplication)
        app.applicationStateChanged.connect(self._application_state)

    def stop(self) -> None:
        self._active = False
        self.window.removeEventFilter(self)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.applicationStateChanged.disconnect(self._application_state)

    @property
    def away(self) -> bool:
        return self._away

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window:
            if event.type() == QEvent.Type.WindowDeactivate:
                self._lose("window")
            elif event.type() == QEvent.Type.WindowActivate:
                self._return("window")
        return False

    def _application_state(self, state: Qt.ApplicationState) -> None:
        if state == Qt.ApplicationState.ApplicationActive:
            if self.window.isActiveWindow():
                self._return("application")
        else:
            self._lose("application")

    def _lose(self, source: str) -> None:
        if not self._active or self._away:
            return
        self._away = True
        self.losses += 1
        self.record("focus_lost", {"source": source, "count": self.losses})

    def _return(self, source: str) -> None:
        if not self._active or not self._away:
            return
        self._away = False
        self.record("focus_returned", {"source": source})
