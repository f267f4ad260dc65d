"""Run slow engine calls (network, scrypt) off the GUI thread; results come back as signals.

Callbacks run on the GUI thread; workers never touch a widget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from client.ui.qt import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, work: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self.work = work
        self.signals = signals

    def run(self) -> None:
        try:
            value = self.work()
        except Exception as error:  # reported to the GUI thread, which shows it as a sentence
            self.signals.failed.emit(error)
        else:
            self.signals.done.emit(value)


_alive: set[_Signals] = set()


def run_in_background(
    work: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_failed: Callable[[Exception], None],
) -> None:
    signals = _Signals()
    _alive.add(signals)

    def finish(callback: Callable[[Any], None], value: Any) -> None:
        _alive.discard(signals)
        callback(value)

    signals.done.connect(lambda value: finish(on_done, value))
    signals.failed.connect(lambda error: finish(on_failed, error))
    QThreadPool.globalInstance().start(_Job(work, signals))
