"""Display choices: a larger text size and a high-contrast theme, kept in the client's home and
applied to the whole app at once."""

from __future__ import annotations

import json
from pathlib import Path

from client.ui.qt import (
    QApplication,
    QColor,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPalette,
    QVBoxLayout,
    QWidget,
    Signal,
)
from client.ui.style import TEXT_SIZES, THEMES, Display, stylesheet
from client.ui.widgets import button, label, set_text_scale

FILE = "display.json"
THEME_NAMES = {"standard": "Standard", "high_contrast": "High contrast"}
SIZE_NAMES = {"standard": "Standard", "large": "Large (125%)", "largest": "Largest (150%)"}


def load_display(home: Path) -> Display:
    try:
        data = json.loads((home / FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Display()
    theme = data.get("theme") if data.get("theme") in THEMES else "standard"
    size = data.get("text_size") if data.get("text_size") in TEXT_SIZES else "standard"
    return Display(theme=theme, text_size=size)


def save_display(home: Path, display: Display) -> None:
    home.mkdir(parents=True, exist_ok=True)
    body = {"theme": display.theme, "text_size": display.text_size}
    partial = home / (FILE + ".part")
    partial.write_text(json.dumps(body) + "\n", encoding="utf-8")
    partial.replace(home / FILE)


def apply_display(display: Display) -> None:
    set_text_scale(display.scale)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        app.setStyleSheet(stylesheet(display))
        palette = app.palette()  # the stylesheet cannot colour placeholders: the palette does
        palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(display.palette["muted"]))
        app.setPalette(palette)


class DisplayPage(QWidget):
    back = Signal()
    changed = Signal(object)  # the new Display

    def __init__(self, display: Display) -> None:
        super().__init__()
        self.setObjectName("page")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.addWidget(label("Display", name="title"))
        layout.addWidget(
            label(
                "Make the text larger or the colours stronger. The choice applies to every "
                "screen, the exam included, and is remembered on this computer.",
                name="subtitle",
                wrap=True,
            )
        )
        form = QFormLayout()
        self.text_size = QComboBox()
        self.text_size.setAccessibleName("Text size")
        for key, name in SIZE_NAMES.items():
            self.text_size.addItem(name, key)
        self.theme = QComboBox()
        self.theme.setAccessibleName("Colours")
        for key, name in THEME_NAMES.items():
            self.theme.addItem(name, key)
        size_label, theme_label = QLabel("Text &size"), QLabel("&Colours")
        size_label.setBuddy(self.text_size)
        theme_label.setBuddy(self.theme)
        form.addRow(size_label, self.text_size)
        form.addRow(theme_label, self.theme)
        layout.addLayout(form)
        self.status = label(name="subtitle", wrap=True)
        layout.addWidget(self.status)
        layout.addStretch()
        row = QHBoxLayout()
        self.back_button = button("Back")
        self.back_button.clicked.connect(self.back.emit)
        self.apply_button = button("Apply", primary=True)
        self.apply_button.clicked.connect(self.apply)
        row.addWidget(self.back_button)
        row.addStretch()
        row.addWidget(self.apply_button)
        layout.addLayout(row)
        self.show_display(display)

    def show_display(self, display: Display) -> None:
        self.text_size.setCurrentIndex(max(0, self.text_size.findData(display.text_size)))
        self.theme.setCurrentIndex(max(0, self.theme.findData(display.theme)))
        self.status.setText("")
        self.text_size.setFocus()

    def apply(self) -> None:
        display = Display(theme=self.theme.currentData(), text_size=self.text_size.currentData())
        self.changed.emit(display)
        self.status.setText("Applied.")
