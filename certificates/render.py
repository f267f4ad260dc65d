"""Render a certificate as a one-page PDF with reportlab.

The page states who sat which assessment when, the overall and category levels, and a
verification code with a QR code of the verification URL, so anyone can check it is genuine.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import date

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from shared.models import level_name

INK = colors.HexColor("#1d2b3a")
ACCENT = colors.HexColor("#1f6f8b")
MUTED = colors.HexColor("#4f5f6e")
# Every text colour on the white page at 4.5:1 or more (WCAG 2.1 AA); tests/ui/test_accessibility.
TEXT_COLOURS = {
    "ink": "#1d2b3a",
    "accent": "#1f6f8b",
    "muted": "#4f5f6e",
    "beginning": "#8a5300",
    "developing": "#1f6f8b",
    "accomplished": "#1e6b22",
}
LEVEL_COLOURS = {
    level: colors.HexColor(TEXT_COLOURS[level])
    for level in ("beginning", "developing", "accomplished")
}


@dataclass(frozen=True)
class CertificateData:
    candidate: str
    assessment: str
    date: date
    overall: str
    categories: dict[str, str]
    verification_code: str
    verification_url: str


_FONTS_LOCK = threading.Lock()


def _fonts() -> tuple[str, str]:
    """Bitstream Vera ships with reportlab: the same glyphs (accents included) everywhere.

    Registered once, under a lock: two threads rendering the first certificates together must
    not see one face registered and the other not yet."""
    with _FONTS_LOCK:
        registered = set(pdfmetrics.getRegisteredFontNames())
        for name in ("Vera", "VeraBd"):
            if name not in registered:
                pdfmetrics.registerFont(TTFont(name, f"{name}.ttf"))
    return "Vera", "VeraBd"


def _fit(canvas: Canvas, text: str, font: str, size: float, width: float) -> float:
    while size > 8 and canvas.stringWidth(text, font, size) > width:
        size -= 1
    return size


def render_certificate(data: CertificateData) -> bytes:
    """The certificate as PDF bytes."""
    regular, bold = _fonts()
    buffer = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True)
    canvas.setTitle(f"{data.assessment}: certificate for {data.candidate}")
    canvas.setAuthor("examgate")
    canvas.setSubject(f"Verification code {data.verification_code}")

    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(3)
    canvas.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    canvas.setLineWidth(0.7)
    canvas.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)

    centre = width / 2
    canvas.setFillColor(ACCENT)
    canvas.setFont(bold, 13)
    canvas.drawCentredString(centre, height - 34 * mm, "EXAMGATE  ·  CERTIFICATE OF SKILLS")
    canvas.setFillColor(MUTED)
    canvas.setFont(regular, 12)
    canvas.drawCentredString(centre, height - 50 * mm, "This certifies that")
    canvas.setFillColor(INK)
    size = _fit(canvas, data.candidate, bold, 30, width - 60 * mm)
    canvas.setFont(bold, size)
    canvas.drawCentredString(centre, height - 64 * mm, data.candidate)
    canvas.setFillColor(MUTED)
    canvas.setFont(regular, 12)
    canvas.drawCentredString(
        centre, height - 75 * mm, f"sat the {data.assessment} on {data.date.strftime('%d %B %Y')}"
    )
    canvas.setFillColor(INK)
    canvas.setFont(regular, 14)
    canvas.drawCentredString(centre, height - 90 * mm, "Overall level")
    canvas.setFillColor(LEVEL_COLOURS.get(data.overall, INK))
    canvas.setFont(bold, 26)
    canvas.drawCentredString(centre, height - 102 * mm, level_name(data.overall))

    left, right = 45 * mm, width - 110 * mm
    row = height - 118 * mm
    canvas.setStrokeColor(colors.HexColor("#c9d3dc"))
    canvas.setLineWidth(0.5)
    for category, level in data.categories.items():
        canvas.setFillColor(INK)
        canvas.setFont(regular, 12)
        canvas.drawString(left, row, category)
        canvas.setFillColor(LEVEL_COLOURS.get(level, INK))
        canvas.setFont(bold, 12)
        canvas.drawRightString(right, row, level_name(level))
        canvas.line(left, row - 3 * mm, right, row - 3 * mm)
        row -= 10 * mm

    qr_size = 38 * mm
    # Sized directly (asking the widget for its bounds would build the code a second time).
    widget = QrCodeWidget(data.verification_url, barLevel="M", barWidth=qr_size, barHeight=qr_size)
    drawing = Drawing(qr_size, qr_size)
    drawing.add(widget)
    qr_x, qr_y = width - 30 * mm - qr_size, 38 * mm
    renderPDF.draw(drawing, canvas, qr_x, qr_y)
    canvas.setFillColor(MUTED)
    canvas.setFont(regular, 9)
    canvas.drawCentredString(qr_x + qr_size / 2, qr_y - 4 * mm, "Scan to verify")
    canvas.setFont(regular, 10)
    canvas.drawString(left, 34 * mm, f"Verification code: {data.verification_code}")
    canvas.drawString(left, 28 * mm, f"Check it at {data.verification_url}")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
