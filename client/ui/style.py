"""The app's look: one stylesheet built from a palette, calm and legible at a distance.

Two themes (standard and high contrast) and three text sizes. Every colour the stylesheet uses
comes from the theme's palette, and ``PAIRS`` lists which colour is drawn on which, with the
WCAG 2.1 minimum it must meet (4.5:1 for text, 3:1 for borders, radio circles and the focus
ring); the tests compute every ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

STANDARD = {
    "text": "#1d2b3a",
    "muted": "#4f5f6e",
    "page": "#f5f7f9",
    "surface": "#ffffff",
    "accent": "#1f6f8b",
    "accent_text": "#ffffff",
    "accent_soft": "#e3f0f5",
    "border": "#6b7c8c",
    "error": "#a12626",
    "success": "#1e6b22",
    "note": "#7a4a00",
    "warning_bg": "#fff3cd",
    "warning_text": "#4d3900",
    "warning_border": "#8a6100",
    "focus": "#0b57d0",
    "disabled_bg": "#e1e6eb",
    "disabled_text": "#4f5f6e",
    "selection": "#1f6f8b",
    "selection_text": "#ffffff",
    "track": "#c3ccd5",
}

HIGH_CONTRAST = {
    "text": "#000000",
    "muted": "#1a1a1a",
    "page": "#ffffff",
    "surface": "#ffffff",
    "accent": "#00306b",
    "accent_text": "#ffffff",
    "accent_soft": "#d6e6ff",
    "border": "#000000",
    "error": "#8b0000",
    "success": "#004d00",
    "note": "#4d2e00",
    "warning_bg": "#ffff66",
    "warning_text": "#000000",
    "warning_border": "#000000",
    "focus": "#c00000",
    "disabled_bg": "#d9d9d9",
    "disabled_text": "#1a1a1a",
    "selection": "#00306b",
    "selection_text": "#ffffff",
    "track": "#c8c8c8",
}

THEMES = {"standard": STANDARD, "high_contrast": HIGH_CONTRAST}
TEXT_SIZES = {"standard": 1.0, "large": 1.25, "largest": 1.5}

# (foreground, background, minimum ratio, where it is drawn)
PAIRS: tuple[tuple[str, str, float, str], ...] = (
    ("text", "page", 4.5, "body text"),
    ("text", "surface", 4.5, "text in fields, options and tables"),
    ("muted", "page", 4.5, "secondary text"),
    ("muted", "surface", 4.5, "secondary text on white"),
    ("error", "page", 4.5, "error messages"),
    ("error", "surface", 4.5, "'Fix this' marks and wrong answers"),
    ("success", "surface", 4.5, "'OK' marks and right answers"),
    ("success", "page", 4.5, "'OK' marks on the page"),
    ("note", "page", 4.5, "'Note' marks"),
    ("accent", "page", 4.5, "the level and links"),
    ("accent_text", "accent", 4.5, "primary buttons"),
    ("text", "accent_soft", 4.5, "a chosen option"),
    ("warning_text", "warning_bg", 4.5, "warnings"),
    ("selection_text", "selection", 4.5, "the selected table row"),
    ("disabled_text", "disabled_bg", 4.5, "disabled buttons (distinct, and still readable)"),
    ("border", "surface", 3.0, "borders of fields, options and buttons"),
    ("border", "page", 3.0, "radio circles and check boxes"),
    ("accent", "accent_soft", 3.0, "the border of a chosen option"),
    ("warning_border", "page", 3.0, "the warning's border"),
    ("focus", "page", 3.0, "the focus ring"),
    ("focus", "surface", 3.0, "the focus ring on white"),
    ("focus", "accent_soft", 3.0, "the focus ring on a chosen option"),
    ("accent", "track", 3.0, "progress against its track"),
)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of ``#rrggbb``."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@dataclass(frozen=True)
class Display:
    """The candidate's display choices, kept in the client's home."""

    theme: str = "standard"
    text_size: str = "standard"

    @property
    def palette(self) -> dict[str, str]:
        return THEMES.get(self.theme, STANDARD)

    @property
    def scale(self) -> float:
        return TEXT_SIZES.get(self.text_size, 1.0)


def stylesheet(display: Display | None = None) -> str:
    display = display or Display()
    c = display.palette

    def px(size: float) -> str:
        return f"{round(size * display.scale)}px"

    return f"""
QWidget {{ font-size: {px(15)}; color: {c["text"]}; }}
QMainWindow, QDialog, #page, #exam {{ background: {c["page"]}; }}
QLabel#title {{ font-size: {px(26)}; font-weight: 600; }}
QLabel#subtitle {{ font-size: {px(16)}; color: {c["muted"]}; }}
QLabel#details {{ font-size: {px(14)}; color: {c["muted"]}; }}
QLabel#error {{ color: {c["error"]}; font-weight: 600; }}
QLabel#busy {{ color: {c["muted"]}; }}
QLabel#stem {{ font-size: {px(20)}; }}
QLabel#clock {{ font-size: {px(22)}; font-weight: 600; font-family: monospace; }}
QLabel#clock[urgent="true"] {{ color: {c["error"]}; }}
QLabel#challenge {{ font-size: {px(24)}; font-weight: 600; font-family: monospace; }}
QLabel#warning {{ background: {c["warning_bg"]}; border: 2px solid {c["warning_border"]};
                 border-radius: 6px; padding: 8px 12px; color: {c["warning_text"]};
                 font-weight: 600; }}
QLabel#warning[empty="true"] {{ background: transparent; border: 2px solid transparent; }}
QLabel#verdict {{ font-size: {px(17)}; font-weight: 600; }}
QLabel#level {{ font-size: {px(30)}; font-weight: 700; color: {c["accent"]}; }}
QLabel#option_text {{ font-size: {px(18)}; background: transparent; }}
QRadioButton, QCheckBox {{ font-size: {px(18)}; padding: 10px 12px; background: {c["surface"]};
                          border: 1px solid {c["border"]}; border-radius: 6px; }}
QRadioButton#plain, QCheckBox#plain {{ font-size: {px(15)}; padding: 4px; border: none;
                                       background: transparent; }}
QRadioButton:checked, QCheckBox:checked {{ border: 2px solid {c["accent"]};
                                           background: {c["accent_soft"]}; }}
QRadioButton:focus, QCheckBox:focus {{ border: 3px solid {c["focus"]}; }}
QRadioButton::indicator, QCheckBox::indicator {{ width: {px(16)}; height: {px(16)};
    border: 2px solid {c["border"]}; background: {c["surface"]}; }}
QRadioButton::indicator {{ border-radius: {px(10)}; }}
QCheckBox::indicator {{ border-radius: 3px; }}
QRadioButton::indicator:checked, QCheckBox::indicator:checked {{
    background: {c["accent"]}; border: 2px solid {c["accent"]}; }}
QPushButton {{ padding: 8px 18px; border-radius: 6px; border: 2px solid {c["border"]};
              background: {c["surface"]}; color: {c["text"]}; }}
QPushButton:focus {{ border: 3px solid {c["focus"]}; }}
QPushButton#primary {{ background: {c["accent"]}; color: {c["accent_text"]};
                      border: 2px solid {c["accent"]}; font-weight: 600; }}
QPushButton#primary:focus {{ border: 3px solid {c["focus"]}; }}
QPushButton:disabled, QPushButton#primary:disabled {{ background: {c["disabled_bg"]};
    color: {c["disabled_text"]}; border: 2px dashed {c["disabled_text"]}; font-weight: 400; }}
QLineEdit, QComboBox {{ padding: 8px; border: 2px solid {c["border"]}; border-radius: 6px;
                       background: {c["surface"]}; color: {c["text"]}; }}
QLineEdit:focus, QComboBox:focus {{ border: 3px solid {c["focus"]}; }}
QLineEdit:disabled {{ background: {c["disabled_bg"]}; color: {c["disabled_text"]}; }}
QProgressBar {{ border: none; background: {c["track"]}; max-height: 6px; border-radius: 3px; }}
QProgressBar::chunk {{ background: {c["accent"]}; border-radius: 3px; }}
QTableWidget {{ background: {c["surface"]}; border: 1px solid {c["border"]};
               selection-background-color: {c["selection"]};
               selection-color: {c["selection_text"]}; gridline-color: {c["track"]}; }}
QTableWidget:focus {{ border: 3px solid {c["focus"]}; }}
QHeaderView::section {{ background: {c["page"]}; color: {c["text"]}; padding: 6px;
                        border: none; border-bottom: 1px solid {c["border"]};
                        font-weight: 600; }}
QScrollArea {{ background: transparent; }}
QTextBrowser#report {{ background: {c["page"]}; color: {c["text"]};
                       border: 2px solid transparent; }}
QTextBrowser#report:focus {{ border: 2px solid {c["focus"]}; }}
"""


STYLE = stylesheet()
