"""Small constructors for the styled widgets the pages share (names match ``style.STYLE``)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton


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
