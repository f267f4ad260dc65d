"""Render a certificate as a one-page PDF with reportlab.

The page states who sat which assessment when, the overall and category levels, and a
verification code with a QR code of the verification URL, so anyone can check it is genuine.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from certificates import text
from shared.models import CATEGORIES, level_name, rubric

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
    categories: dict[str, str]  # category name (as in CATEGORIES) -> level
    verification_code: str
    verification_url: str
    issuer: str = "examgate"  # the employer for its own sittings, otherwise the operator
    submission_sha256: str = ""  # the signed submission this result scored


def _rubric(category: str, level: str) -> str:
    keys = {name: key for key, name in CATEGORIES.items()}
    return rubric(keys.get(category, category), level)


def _ordered(categories: dict[str, str]) -> list[tuple[str, str]]:
    order = list(CATEGORIES.values())
    return sorted(
        categories.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)
    )


def _qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The verification URL as a QR code (level M, segno), each row's dark runs one rectangle
    of one path: a few hundred drawing operations, not one object per module."""
    matrix = segno.make(url, error="m", micro=False).matrix
    quiet = 2  # modules of white around it (the page is white beyond)
    cell = size / (len(matrix) + 2 * quiet)
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        top = y + size - (r + quiet + 1) * cell
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(x + (start + quiet) * cell, top, (c - start) * cell, cell)
            else:
                c += 1
    canvas.setFillColor(colors.black)
    canvas.drawPath(path, stroke=0, fill=1)


def render_certificate(data: CertificateData) -> bytes:
    """The certificate as PDF bytes (unsigned: ``certificates.signing`` signs them)."""
    buffer = io.BytesIO()
    width, height = landscape(A4)
    canvas = Canvas(buffer, pagesize=(width, height), invariant=True, lang="en")
    canvas.setTitle(f"{data.assessment}: certificate for {data.candidate}")
    canvas.setAuthor(data.issuer)
    canvas.setSubject(f"Verification code {data.verification_code}")
    canvas.setKeywords(
        [
            f"examgate-verification:{data.verification_code}",
            f"examgate-url:{data.verification_url.rsplit('/verify/', 1)[0]}",
        ]
        + (
            [f"examgate-submission-sha256:{data.submission_sha256}"]
            if data.submission_sha256
            else []
        )
    )
    canvas.setCreator("examgate")

    canvas.setStrokeColor(ACCENT)
    canvas.setLineWidth(3)
    canvas.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)
    canvas.setLineWidth(0.7)
    canvas.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)

    centre = width / 2
    room = width - 70 * mm
    canvas.setFillColor(ACCENT)
    text.draw(
        canvas, centre, height - 30 * mm, "CERTIFICATE OF SKILLS", 13, bold=True, align="centre"
    )
    canvas.setFillColor(MUTED)
    issued = f"Issued by {data.issuer}"
    text.draw(canvas, centre, height - 38 * mm, issued, text.fit(issued, 11, room), align="centre")
    text.draw(canvas, centre, height - 50 * mm, "This certifies that", 12, align="centre")
    canvas.setFillColor(INK)
    size = text.fit(data.candidate, 30, room, bold=True)
    if text.width(data.candidate, size, bold=True) > room:  # very long: two lines at 8+ pt
        lines = text.wrap(data.candidate, 16, room, bold=True)[:2]
        for n, line in enumerate(lines):
            text.draw(canvas, centre, height - 60 * mm - n * 7 * mm, line, 16, True, "centre")
    else:
        text.draw(canvas, centre, height - 63 * mm, data.candidate, size, bold=True, align="centre")
    canvas.setFillColor(MUTED)
    sat = f"sat the {data.assessment} on {data.date.strftime('%d %B %Y').lstrip('0')}"
    text.draw(canvas, centre, height - 74 * mm, sat, text.fit(sat, 12, room), align="centre")
    canvas.setFillColor(INK)
    text.draw(canvas, centre, height - 86 * mm, "Overall level", 12, align="centre")
    canvas.setFillColor(LEVEL_COLOURS.get(data.overall, INK))
    text.draw(canvas, centre, height - 97 * mm, level_name(data.overall), 24, True, "centre")

    left, right = 32 * mm, width - 85 * mm
    row = height - 110 * mm
    canvas.setStrokeColor(colors.HexColor("#c9d3dc"))
    canvas.setLineWidth(0.5)
    for category, level in _ordered(data.categories):
        canvas.setFillColor(INK)
        text.draw(canvas, left, row, category, 11, bold=True)
        canvas.setFillColor(LEVEL_COLOURS.get(level, INK))
        text.draw(canvas, right, row, level_name(level), 11, bold=True, align="right")
        canvas.setFillColor(MUTED)
        for n, line in enumerate(text.wrap(_rubric(category, level), 8.5, right - left)[:2]):
            text.draw(canvas, left, row - 4.2 * mm - n * 3.6 * mm, line, 8.5)
        canvas.line(left, row - 11.5 * mm, right, row - 11.5 * mm)
        row -= 15 * mm

    qr_size = 36 * mm
    qr_x, qr_y = width - 22 * mm - qr_size, 42 * mm
    _qr(canvas, data.verification_url, qr_x, qr_y, qr_size)
    canvas.setFillColor(MUTED)
    text.draw(canvas, qr_x + qr_size / 2, qr_y - 4 * mm, "Scan to verify", 9, align="centre")
    canvas.setFillColor(INK)
    text.draw(canvas, left, 30 * mm, f"Verification code: {data.verification_code}", 10, True)
    canvas.setFillColor(MUTED)
    check = f"Check it at {data.verification_url}"
    text.draw(canvas, left, 25 * mm, check, text.fit(check, 9, right - left), align="left")
    if data.submission_sha256:
        text.draw(canvas, left, 20.5 * mm, f"Submission SHA-256: {data.submission_sha256}", 8)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
