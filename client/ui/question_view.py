"""One question as the exam, the rehearsal and practice show it: the category, the stem and the
options as full-width boxes whose text wraps, in a view that scrolls vertically (never
sideways) when the question is taller than the window. A question's pictures are drawn under
the text that names them (``[Image N: ...]``: the stem, or an option), scaled to fit, each with
its description as its accessible name.

The view only draws and reports: ``chosen`` says which option was clicked or pressed; the page
decides what that means and then calls ``set_chosen`` with what was saved.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence

from client.ui.qt import (
    QAbstractButton,
    QApplication,
    QButtonGroup,
    QFrame,
    QKeyEvent,
    QLabel,
    QMouseEvent,
    QPixmap,
    QScrollArea,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from client.ui.widgets import Button, label, option_button
from shared.wire import PackageImage

_MARKER = re.compile(r"\[Image (\d+)")
PICTURE_WIDTH, PICTURE_HEIGHT = 560, 320  # at most, before the screen's scaling


class Picture(QLabel):
    """A question's picture; one under an option chooses that option when clicked."""

    clicked: Callable[[], None] | None = None

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.clicked is not None and event.button() == Qt.MouseButton.LeftButton:
            self.clicked()
            return
        super().mouseReleaseEvent(event)


class QuestionView(QScrollArea):
    chosen = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        content = QWidget()
        content.setObjectName("page")
        column = QVBoxLayout(content)
        column.setContentsMargins(4, 4, 12, 4)
        self.category = label(name="subtitle", wrap=True)
        self.stem = label(name="stem", wrap=True)
        self.stem.setTextFormat(Qt.TextFormat.PlainText)
        self.stem.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        column.addWidget(self.category)
        column.addWidget(self.stem)
        self.stem_pictures = QVBoxLayout()
        column.addLayout(self.stem_pictures)
        column.addSpacing(12)
        self.options_box = QVBoxLayout()
        self.options_box.setSpacing(8)
        column.addLayout(self.options_box)
        self.below = QVBoxLayout()  # what a page adds under the options (a verdict)
        column.addLayout(self.below)
        column.addStretch()
        self.setWidget(content)
        self.buttons: list[QAbstractButton] = []
        self.explanations: list[QLabel] = []
        self.pictures: list[Picture] = []
        self.group: QButtonGroup | None = None
        self.multiple = False

    def show_question(
        self,
        category: str,
        stem: str,
        options: Sequence[str],
        multiple: bool,
        images: Sequence[PackageImage] = (),
    ) -> None:
        self.clear()
        self.category.setText(category)
        self.stem.setText(stem)
        placed = _placement(stem, options, len(images))
        for number in placed.get(-1, []):
            self._picture(self.stem_pictures, number, images[number - 1])
        self.multiple = multiple
        self.group = QButtonGroup(self)
        self.group.setExclusive(not multiple)
        for number, text in enumerate(options):
            choice = option_button(number, text, multiple)
            choice.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            choice.clicked.connect(lambda _checked=False, n=number: self._clicked(n))
            self.group.addButton(choice, number)
            explanation = label(wrap=True)
            explanation.setTextFormat(Qt.TextFormat.RichText)
            explanation.setContentsMargins(40, 0, 0, 6)
            explanation.hide()
            self.options_box.addWidget(choice)
            for picture in placed.get(number, []):
                shown = self._picture(self.options_box, picture, images[picture - 1])
                shown.clicked = lambda n=number: self._clicked(n)  # the picture is the option
            self.options_box.addWidget(explanation)
            choice.show()  # now, not at the next event loop turn: it takes the focus next
            self.buttons.append(choice)
            self.explanations.append(explanation)
        self.verticalScrollBar().setValue(0)

    def _picture(self, layout: QVBoxLayout, number: int, image: PackageImage) -> Picture:
        """Picture ``number``, scaled to fit, named for a screen reader by its description."""
        pixmap = QPixmap()
        try:
            loaded = pixmap.loadFromData(base64.b64decode(image.data, validate=True))
        except (binascii.Error, ValueError):
            loaded = False
        name = f"Image {number}" + (f": {image.alt}" if image.alt else "")
        shown = Picture()
        shown.setWordWrap(True)
        if loaded:
            ratio = self.devicePixelRatioF()
            shown.setPixmap(
                pixmap.scaled(
                    int(PICTURE_WIDTH * ratio),
                    int(PICTURE_HEIGHT * ratio),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
                if pixmap.width() > PICTURE_WIDTH or pixmap.height() > PICTURE_HEIGHT
                else pixmap
            )
        else:
            shown.setText(f"({name} could not be shown.)")
        shown.setAccessibleName(name)
        shown.setContentsMargins(40 if layout is self.options_box else 0, 4, 0, 8)
        layout.addWidget(shown)
        self.pictures.append(shown)
        return shown

    def _clicked(self, number: int) -> None:
        self.chosen.emit(number)

    def clear(self) -> None:
        if any(choice.hasFocus() for choice in self.buttons):
            # Not left to Qt, which would hand the focus to the next widget (a button that
            # Enter would press): the page gives it to the new first option.
            self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            self.setFocus()
            self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for box in (self.options_box, self.stem_pictures):
            while box.count():
                found = box.takeAt(0)
                widget = found.widget() if found is not None else None
                if widget is not None:
                    widget.hide()
                    widget.deleteLater()
        self.buttons, self.explanations, self.pictures = [], [], []
        self.category.setText("")
        self.stem.setText("")

    def set_chosen(self, numbers: set[int]) -> None:
        """Mark what is saved as chosen (and nothing else)."""
        if self.group is None:
            return
        self.group.setExclusive(False)  # an exclusive group cannot go back to nothing chosen
        for number, choice in enumerate(self.buttons):
            choice.setChecked(number in numbers)
        self.group.setExclusive(not self.multiple)

    def focus_option(self, number: int) -> None:
        if 0 <= number < len(self.buttons):
            self.buttons[number].setFocus(Qt.FocusReason.OtherFocusReason)
            self.ensureWidgetVisible(self.buttons[number], 0, 4)  # scroll no more than needed

    def focused_option(self) -> int | None:
        for number, choice in enumerate(self.buttons):
            if choice.hasFocus():
                return number
        return None

    def handle_key(
        self, event: QKeyEvent, choose: Callable[[int], None], go_on: Callable[[], None]
    ) -> bool:
        """The exam's keys, for every page that shows a question: 1-8 or A-H choose, the arrows
        move the focus among the options, Space chooses the focused one, Enter goes on (unless
        a button has the focus: then it is that button's). True if the key was one of these."""
        key, count = event.key(), len(self.buttons)
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if Qt.Key.Key_1 <= key < Qt.Key.Key_1 + count:
            choose(key - Qt.Key.Key_1)
        elif Qt.Key.Key_A <= key < Qt.Key.Key_A + count and plain:
            choose(key - Qt.Key.Key_A)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.move_focus(-1 if key == Qt.Key.Key_Up else 1)
        elif key == Qt.Key.Key_Space and self.focused_option() is not None:
            choose(self.focused_option() or 0)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not isinstance(
            QApplication.focusWidget(), Button
        ):
            go_on()
        else:
            return False
        return True

    def move_focus(self, step: int) -> None:
        """Arrow keys: the next or previous option gets the focus (Space chooses it)."""
        current = self.focused_option()
        target = 0 if current is None else max(0, min(len(self.buttons) - 1, current + step))
        self.focus_option(target)


def _placement(stem: str, options: Sequence[str], count: int) -> dict[int, list[int]]:
    """Where each picture goes: under the text that first names it (-1: the stem), a picture
    no text names under the stem."""
    placed: dict[int, list[int]] = {}
    seen: set[int] = set()
    for where, text in [(-1, stem), *enumerate(options)]:
        for found in _MARKER.finditer(text):
            number = int(found.group(1))
            if 1 <= number <= count and number not in seen:
                seen.add(number)
                placed.setdefault(where, []).append(number)
    placed.setdefault(-1, []).extend(n for n in range(1, count + 1) if n not in seen)
    return placed
