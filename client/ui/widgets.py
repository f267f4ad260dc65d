"""Small constructors for the styled widgets the pages share (names match ``style.stylesheet``).

Every interactive widget made here has an accessible name; buttons press on Enter as on Space
when they have the focus; options wrap their text instead of running off the edge.
"""

from __future__ import annotations

from client.ui.qt import (
    QAbstractButton,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QKeyEvent,
    QLabel,
    QLineEdit,
    QPoint,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSize,
    QSizePolicy,
    Qt,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

LETTERS = "ABCDEFGH"  # how options are labelled and chosen from the keyboard

# How far the option's text starts from its box's left edge: clear of the radio circle.
_scale = 1.0


def set_text_scale(scale: float) -> None:
    global _scale
    _scale = scale


def label(text: str = "", name: str = "", wrap: bool = False) -> QLabel:
    widget = QLabel(text)
    widget.setObjectName(name)
    widget.setWordWrap(wrap)
    return widget


def _modified(event: QKeyEvent) -> bool:
    """Ctrl, Alt, Shift or Meta held (the keypad's own flag does not count)."""
    held = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return held != Qt.KeyboardModifier.NoModifier


class Button(QPushButton):
    """A push button that Enter presses as well as Space, when it has the keyboard focus (and
    that presses on the key going down, so a key forwarded under the exam's keyboard grab
    works too)."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        keys = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space)
        if event.key() in keys and not event.isAutoRepeat() and not _modified(event):
            event.accept()
            if self.isEnabled():
                self.click()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            event.accept()  # pressed already, on the way down
            return
        super().keyReleaseEvent(event)


def button(text: str, primary: bool = False, description: str = "") -> Button:
    widget = Button(text)
    # Never pressed by an Enter meant for something else (a dialog's default button): Enter
    # presses a button only when it has the focus.
    widget.setAutoDefault(False)
    if primary:
        widget.setObjectName("primary")
    widget.setAccessibleName(text.replace("…", "").replace("&", ""))
    if description:
        widget.setAccessibleDescription(description)
        widget.setToolTip(description)
    return widget


def field(name: str, placeholder: str = "", description: str = "") -> QLineEdit:
    widget = QLineEdit(placeholderText=placeholder)
    widget.setAccessibleName(name)
    if description:
        widget.setAccessibleDescription(description)
    return widget


def scrolling(page: QWidget) -> QVBoxLayout:
    """Make ``page`` scroll as a whole, up and down only, when its window is too small for it
    (1366x768 at 200%): nothing is cut off, nothing needs sideways scrolling (WCAG 1.4.10), and
    tabbing to a control scrolls it into view. Returns the layout to fill."""
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # its controls take the focus
    body = QWidget()
    body.setObjectName(page.objectName() or "page")
    area.setWidget(body)
    outer.addWidget(area)
    return QVBoxLayout(body)


def report(name: str) -> QTextBrowser:
    """Read-only rich text a keyboard can reach and scroll (Tab leaves it, arrows scroll) and a
    screen reader can read line by line."""
    widget = QTextBrowser()
    widget.setObjectName("report")
    widget.setAccessibleName(name)
    widget.setTabChangesFocus(True)
    widget.setOpenLinks(False)
    widget.setFrameShape(QTextBrowser.Shape.NoFrame)
    widget.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextBrowserInteraction
        | Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    return widget


class _Option:
    """An answer option drawn as a full-width box: a click anywhere in it chooses, and its text
    wraps (a QLabel inside, laid out clear of the indicator)."""

    def _setup(self, letter: str, text: str) -> None:
        me: QAbstractButton = self  # type: ignore[assignment]
        me.setText("")
        self.text_label = QLabel(f"{letter}   {text}")
        self.text_label.setObjectName("option_text")
        self.text_label.setWordWrap(True)
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        self.text_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        box = QHBoxLayout(me)
        indent = round(40 * _scale)
        box.setContentsMargins(indent, round(8 * _scale), 12, round(8 * _scale))
        box.addWidget(self.text_label)
        me.setAccessibleName(f"{letter}. {text}")
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        me.setSizePolicy(policy)

    def hitButton(self, pos: QPoint) -> bool:
        return bool(self.rect().contains(pos))  # type: ignore[attr-defined]

    def sizeHint(self) -> QSize:
        layout = self.layout()  # type: ignore[attr-defined]
        return layout.sizeHint()  # type: ignore[no-any-return]

    def minimumSizeHint(self) -> QSize:
        layout = self.layout()  # type: ignore[attr-defined]
        hint = layout.minimumSize()
        return QSize(min(hint.width(), 120), hint.height())

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        layout = self.layout()  # type: ignore[attr-defined]
        return int(layout.totalHeightForWidth(width))

    @property
    def option_text(self) -> str:
        return str(self.text_label.text())


class OptionRadio(_Option, QRadioButton):
    def __init__(self, letter: str, text: str) -> None:
        QRadioButton.__init__(self)
        self._setup(letter, text)


class OptionCheck(_Option, QCheckBox):
    def __init__(self, letter: str, text: str) -> None:
        QCheckBox.__init__(self)
        self._setup(letter, text)


def option_button(number: int, text: str, multiple: bool) -> QAbstractButton:
    letter = LETTERS[number]
    return OptionCheck(letter, text) if multiple else OptionRadio(letter, text)
