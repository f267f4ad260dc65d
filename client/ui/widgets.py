"""Small constructors for the styled widgets the pages share (names match ``style.STYLE``)."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QAbstractButton, QCheckBox, QLabel, QPushButton, QRadioButton

LETTERS = "ABCDEFGH"  # how options are labelled and chosen from the keyboard


def label(text: str = "", name: str = "", wrap: bool = False) -> QLabel:
    widget = QLabel(text)
    widget.setObjectName(name)
    widget.setWordWrap(wrap)
    return widget


def button(text: str, primary: bool = False) -> QPushButton:
    widget = QPushButton(text)
    if primary:
        widget.setObjectName("primary")
    return widget


class _WholeBox:
    """Options are drawn as full-width boxes, so a click anywhere in the box must choose."""

    def hitButton(self, pos: QPoint) -> bool:
        return bool(self.rect().contains(pos))  # type: ignore[attr-defined]


class OptionRadio(_WholeBox, QRadioButton):
    pass


class OptionCheck(_WholeBox, QCheckBox):
    pass


def option_button(text: str, multiple: bool) -> QAbstractButton:
    return OptionCheck(text) if multiple else OptionRadio(text)
