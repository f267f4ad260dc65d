"""Names on certificates in the scripts candidates write them in: drawn with a face that has
every character (no empty boxes), shaped, and read back by pdftotext as the same name."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from certificates import text
from certificates.render import CertificateData, render_certificate
from tests.conftest import need

NAMES = {
    "accents": "Zoë Ångström-Łukasiewicz Núñez",
    "arabic": "فاطمة الزهراء",
    "devanagari": "प्रिया शर्मा",
    "chinese": "王小明",
    "long": "Maximiliana Alexandrina Bartholomea von Hohenzollern-Sigmaringen-Württemberg "
    "und Habsburg-Lothringen de la Cruz",
}
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _fonts_installed() -> bool:
    return all(text._find(regular) for _, regular, _ in text.FACES)


def _certificate(name: str) -> bytes:
    return render_certificate(
        CertificateData(
            candidate=name,
            assessment="Deep learning skills test",
            date=date(2026, 12, 1),
            overall="developing",
            categories={
                "Deep learning foundations": "accomplished",
                "Sequence models": "beginning",
                "Convolutional neural networks": "developing",
                "Techniques to improve neural networks": "developing",
            },
            verification_code="ABCD-EFGH-JKLM-NPQR",
            verification_url="https://exams.example.com/verify/ABCD-EFGH-JKLM-NPQR",
            issuer="Demo Employer",
            submission_sha256="0" * 64,
        )
    )


@pytest.mark.parametrize("script", sorted(NAMES))
def test_a_name_in_each_script_renders_and_reads_back(script: str, tmp_path: Path) -> None:
    need(_fonts_installed(), "EXAMGATE_REQUIRE_PDF_TOOLS", "fonts-noto-core, fonts-droid-fallback")
    need(shutil.which("pdftotext") is not None, "EXAMGATE_REQUIRE_PDF_TOOLS", "pdftotext")
    name = NAMES[script]
    for run in text.runs(name, bold=True):  # every character in a face that has it
        faces = dict(text.chain(bold=True))
        assert all(ord(c) in faces[run.face] or c.isspace() for c in run.text), (run, script)
        assert run.face != "VeraBd" or script == "long"
    path = tmp_path / "certificate.pdf"
    path.write_bytes(_certificate(name))
    read = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(unicodedata.normalize("NFKC", BIDI_CONTROLS.sub("", read)).split())
    if script == "long":  # too long for one line at a readable size: two lines, every word
        assert all(word in flat for word in name.split()), flat
    else:
        assert name in flat, flat
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    expected = {
        "arabic": "NotoSansArabic",
        "devanagari": "NotoSansDevanagari",
        "chinese": "DroidSansFallback",
        "accents": "NotoSans",
        "long": "NotoSans",
    }
    assert expected[script] in fonts and " yes " in fonts  # embedded (subset)


def test_right_to_left_names_run_right_to_left() -> None:
    need(_fonts_installed(), "EXAMGATE_REQUIRE_PDF_TOOLS", "fonts-noto-core, fonts-droid-fallback")
    [run] = text.runs(NAMES["arabic"])
    assert run.rtl and run.face == "NotoSansArabic"
    mixed = text.runs("Omar عمر")
    assert [r.rtl for r in mixed] == [False, True]


def test_a_long_name_is_never_wider_than_the_page() -> None:
    need(_fonts_installed(), "EXAMGATE_REQUIRE_PDF_TOOLS", "fonts-noto-core, fonts-droid-fallback")
    for line in text.wrap(NAMES["long"], 16, 600, bold=True):
        assert text.width(line, 16, bold=True) <= 600
