"""The one module through which the desktop app imports Qt.

Pages and the lockdown import Qt's names from here, so the binding (PySide6), its version
checks and the app's accessibility helpers live in one place. ``announce`` speaks a sentence to
a screen reader through Qt's accessibility events; the last few are kept for tests.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import (
    QEvent,
    QObject,
    QPoint,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    QUrl,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QCloseEvent,
    QColor,
    QDesktopServices,
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QPalette,
    QPixmap,
    QScreen,
)
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QStackedLayout,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

__all__ = [
    "QAbstractButton",
    "QAbstractItemView",
    "QAccessible",
    "QApplication",
    "QButtonGroup",
    "QCheckBox",
    "QCloseEvent",
    "QColor",
    "QComboBox",
    "QDesktopServices",
    "QDialog",
    "QEvent",
    "QFileDialog",
    "QFormLayout",
    "QFrame",
    "QGuiApplication",
    "QHBoxLayout",
    "QHeaderView",
    "QKeyEvent",
    "QLabel",
    "QLineEdit",
    "QMainWindow",
    "QMessageBox",
    "QMouseEvent",
    "QObject",
    "QPalette",
    "QPixmap",
    "QPoint",
    "QProgressBar",
    "QPushButton",
    "QRadioButton",
    "QRunnable",
    "QScreen",
    "QScrollArea",
    "QSize",
    "QSizePolicy",
    "QStackedLayout",
    "QStackedWidget",
    "QTableWidget",
    "QTableWidgetItem",
    "QTextBrowser",
    "QThreadPool",
    "QTimer",
    "QUrl",
    "QVBoxLayout",
    "QWidget",
    "Qt",
    "Signal",
    "SignalInstance",
    "announce",
    "announced",
]

_announced: deque[str] = deque(maxlen=50)


def announce(widget: QObject, text: str, assertive: bool = False) -> None:
    """Have a screen reader say ``text`` (Qt's announcement event, from ``widget``)."""
    _announced.append(text)
    if not QAccessible.isActive():
        return  # no assistive technology listening: nothing to send
    event = QAccessibleAnnouncementEvent(widget, text)
    if assertive:
        event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
    QAccessible.updateAccessibility(event)


def announced() -> list[str]:
    """What ``announce`` was asked to say most recently, oldest first."""
    return list(_announced)
