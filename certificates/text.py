"""Text on a certificate in any script a name is written in.

ReportLab draws one font at a time and does not lay out complex scripts by itself, so a line is
cut into runs, each in the first face of a fallback chain that has its characters (Noto Sans
for Latin, Greek and Cyrillic; Noto Sans Arabic; Noto Sans Devanagari; Droid Sans Fallback for
Chinese, Japanese and Korean), and each run is shaped with HarfBuzz (uharfbuzz, through
ReportLab's ``shapeStr``): Arabic letters joined, Devanagari conjuncts and vowel signs placed.
Right-to-left runs are put in visual order here (words reversed, each word's glyphs already in
visual order from HarfBuzz); a line whose first strong character is right-to-left puts its runs
right to left too.

Shaped glyphs without a character of their own (a Devanagari conjunct) would copy out as
nothing, so a left-to-right shaped run carries its text as /ActualText. Right-to-left runs do
not: PDF readers reorder ActualText of a right-to-left run a second time, while the glyphs'
own characters (Arabic presentation forms, which NFKC maps back to the letters) read in order.

The faces come from Debian's ``fonts-noto-core`` and ``fonts-droid-fallback`` (SIL Open Font
Licence and Apache 2.0), looked up under ``EXAMGATE_FONT_DIR`` and the system font folders; a
missing face falls back to Bitstream Vera (bundled with ReportLab) and is logged once.
"""

from __future__ import annotations

import logging
import os
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedStr, TTFont, shapeStr
from reportlab.pdfgen.canvas import Canvas

log = logging.getLogger("examgate.certificates")

# (face name, regular file, bold file) in fallback order.
FACES: tuple[tuple[str, str, str], ...] = (
    ("NotoSans", "NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    ("NotoSansArabic", "NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    ("NotoSansDevanagari", "NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf"),
    ("DroidSansFallback", "DroidSansFallbackFull.ttf", "DroidSansFallbackFull.ttf"),
)
SEARCH = (
    "/usr/share/fonts/truetype/noto",
    "/usr/share/fonts/truetype/droid",
    "/usr/share/fonts/truetype",
    "/usr/local/share/fonts",
)
FALLBACK = ("Vera", "Vera.ttf", "VeraBd.ttf")

_LOCK = threading.Lock()
_CHAIN: dict[bool, list[tuple[str, set[int]]]] = {}


def _find(file: str) -> Path | None:
    folders = [os.environ["EXAMGATE_FONT_DIR"]] if os.environ.get("EXAMGATE_FONT_DIR") else []
    for folder in [*folders, *SEARCH]:
        path = Path(folder) / file
        if path.is_file():
            return path
    return None


def _register(name: str, file: str | Path) -> set[int]:
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(file)))
    font = pdfmetrics.getFont(name)
    return set(font.face.charToGlyph)


def chain(bold: bool = False) -> list[tuple[str, set[int]]]:
    """The faces in fallback order with the characters each has; registered once, under a lock
    (two threads rendering the first certificates together must see every face registered)."""
    with _LOCK:
        if bold not in _CHAIN:
            faces: list[tuple[str, set[int]]] = []
            for name, regular, heavy in FACES:
                path = _find(heavy if bold else regular)
                if path is None:
                    log.warning("font %s not found; names in its script print as boxes", regular)
                    continue
                face = f"{name}-Bold" if bold and heavy != regular else name
                faces.append((face, _register(face, path)))
            vera = FALLBACK[0] + ("Bd" if bold else "")
            faces.append((vera, _register(vera, FALLBACK[2] if bold else FALLBACK[1])))
            _CHAIN[bold] = faces
        return _CHAIN[bold]


def _rtl(char: str) -> bool:
    return unicodedata.bidirectional(char) in ("R", "AL")


def _strong(char: str) -> bool:
    return unicodedata.bidirectional(char) in ("L", "R", "AL")


@dataclass(frozen=True)
class Run:
    face: str
    text: str
    rtl: bool


@lru_cache(maxsize=4096)
def runs(text: str, bold: bool = False) -> tuple[Run, ...]:
    """``text`` cut into runs of one face and one direction, in logical order. Characters of no
    strong direction (spaces, marks, digits) stay with the run they are in."""
    faces = chain(bold)
    points_of = dict(faces)
    found: list[Run] = []
    for char in text:
        point = ord(char)
        strong = _strong(char) or unicodedata.category(char).startswith("L")
        if found and not strong:
            last = found[-1]
            if point in points_of.get(last.face, set()) or char.isspace():
                found[-1] = Run(last.face, last.text + char, last.rtl)
                continue
        face = next((name for name, points in faces if point in points), faces[-1][0])
        rtl = _rtl(char)
        if found and found[-1].face == face and found[-1].rtl == rtl:
            found[-1] = Run(face, found[-1].text + char, rtl)
        else:
            found.append(Run(face, char, rtl))
    return tuple(found)


# Faces whose scripts need shaping (joining, reordering, conjuncts); the rest draw as they are.
SHAPED = ("NotoSansArabic", "NotoSansDevanagari")


@lru_cache(maxsize=4096)
def _shaped(run: Run, size: float) -> ShapedStr | str:
    if not run.face.startswith(SHAPED):
        return run.text
    words = run.text.split(" ")
    ordered = list(reversed(words)) if run.rtl else words
    space = shapeStr(" ", run.face, size, force=True)
    line: ShapedStr | str | None = None
    for word in ordered:
        piece = shapeStr(word, run.face, size, force=True) if word else shapeStr("", run.face, size)
        line = piece if line is None else line + space + piece
    return line if line is not None else ""


def _advance(run: Run, size: float) -> float:
    shaped = _shaped(run, size)
    if isinstance(shaped, ShapedStr):
        return float(sum(d.x_advance for d in shaped.__shapeData__) * size / 1000)
    return float(pdfmetrics.stringWidth(shaped, run.face, size))


def _visual(text: str, bold: bool) -> Iterator[Run]:
    found = runs(text, bold)
    base_rtl = next((_rtl(c) for c in text if _strong(c)), False)
    return reversed(found) if base_rtl else iter(found)


def width(text: str, size: float, bold: bool = False) -> float:
    """The drawn width of ``text`` at ``size`` points."""
    return sum(_advance(run, size) for run in runs(text, bold))


def fit(text: str, size: float, room: float, bold: bool = False, smallest: float = 8) -> float:
    """The largest size up to ``size`` at which ``text`` fits in ``room`` points."""
    while size > smallest and width(text, size, bold) > room:
        size -= 1
    return size


def draw(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    bold: bool = False,
    align: str = "left",
) -> None:
    """Draw ``text`` with its left edge, centre or right edge (``align``) at ``x``."""
    total = width(text, size, bold)
    start = {"left": x, "centre": x - total / 2, "right": x - total}[align]
    for run in _visual(text, bold):
        shaped = _shaped(run, size)
        canvas.setFont(run.face, size)
        actual = not run.rtl and isinstance(shaped, ShapedStr)
        if actual:
            canvas.addLiteral(
                f"/Span <</ActualText <FEFF{run.text.encode('utf-16-be').hex().upper()}>>> BDC"
            )
        canvas.drawString(start, y, shaped)
        if actual:
            canvas.addLiteral("EMC")
        start += _advance(run, size)


def wrap(text: str, size: float, room: float, bold: bool = False) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``room``."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and width(candidate, size, bold) > room:
            lines.append(line)
            line = word
        else:
            line = candidate
    if line:
        lines.append(line)
    return lines
