"""Watchers that turn what the session sees into events: the clipboard, displays, programs.

Each emits ``event(kind, data)``; the lockdown journals it and applies the policy.
"""

from __future__ import annotations

from typing import Any

from client.checks import prohibited_running
from client.ui.qt import QGuiApplication, QObject, QScreen, QTimer, Signal
from shared.policy import Policy


def _app() -> QGuiApplication:
    app = QGuiApplication.instance()
    assert isinstance(app, QGuiApplication)
    return app


class ClipboardGuard(QObject):
    """Empties the clipboard at the start and end, and empties and records anything put on it
    during the sitting."""

    observed = Signal(str, dict)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clipboard = _app().clipboard()
        self._clearing = False

    def clear(self) -> None:
        self._clearing = True
        self.clipboard.clear()  # X11: the selection loses its owner, whoever it was
        self._clearing = False

    def start(self) -> None:
        self.clear()
        self.clipboard.dataChanged.connect(self._changed)

    def stop(self) -> None:
        self.clipboard.dataChanged.disconnect(self._changed)
        self.clear()

    def _changed(self) -> None:
        if self._clearing:
            return
        data = self.clipboard.mimeData()
        formats = sorted(data.formats()) if data is not None else []
        if not formats:
            return
        self.observed.emit("clipboard_used", {"formats": formats[:5]})
        self.clear()


def screen_count() -> int:
    return len(_app().screens())


class DisplayWatcher(QObject):
    observed = Signal(str, dict)

    def start(self) -> None:
        _app().screenAdded.connect(self._added)

    def stop(self) -> None:
        _app().screenAdded.disconnect(self._added)

    def _added(self, screen: QScreen) -> None:
        geometry = screen.geometry()
        self.observed.emit(
            "display_added",
            {
                "name": screen.name(),
                "size": f"{geometry.width()}x{geometry.height()}",
                "displays": screen_count(),
            },
        )


class ProgramWatcher(QObject):
    """Checks for prohibited programs every ``policy.check_interval_s`` seconds."""

    observed = Signal(str, dict)

    def __init__(self, policy: Policy, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.policy = policy
        self.reported: set[int] = set()
        self.timer = QTimer(self)
        self.timer.setInterval(policy.check_interval_s * 1000)
        self.timer.timeout.connect(self.scan)

    def start(self) -> None:
        self.scan()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def scan(self) -> list[dict[str, Any]]:
        found = []
        for pid, name in prohibited_running(self.policy):
            if pid not in self.reported:
                self.reported.add(pid)
                found.append({"name": name, "pid": pid})
                self.observed.emit("program_found", {"name": name, "pid": pid})
        return found
