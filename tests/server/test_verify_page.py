"""The public verification page in a real browser (Debian's Chromium, driven by Playwright): on a
phone-sized screen it needs no sideways scrolling, reads in the certificate's order, is styled
by the server's own stylesheet under the strict Content-Security-Policy (nothing blocked), and
says what to do for an unknown or mistyped code."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ThreadServer, need
from tests.helpers import sit

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = os.environ.get("EXAMGATE_SCREENSHOTS")


@pytest.fixture
def page() -> Iterator[Any]:
    need(CHROMIUM is not None, "EXAMGATE_REQUIRE_BROWSER", "Chromium is not installed")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        context = browser.new_context(viewport={"width": 390, "height": 844})
        tab = context.new_page()
        tab.problems = []  # console errors: CSP refusals, failed loads (but the page's own 404)
        tab.on(
            "console",
            lambda message: tab.problems.append(message.text) if message.type == "error" else None,
        )
        tab.on("requestfailed", lambda request: tab.problems.append(f"failed: {request.url}"))
        yield tab
        browser.close()


def test_a_genuine_certificate_reads_in_order_on_a_phone(
    page: Any, sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    engine.seal(sit(engine, sqlite_live.url, sqlite_live.invite(candidate="Ada Lovelace")))
    [delivered] = engine.sync()
    code = delivered.result["verification_code"]
    response = page.goto(f"{sqlite_live.url}/verify/{code}")
    assert response.status == 200
    text = page.inner_text("main")
    order = [
        "Genuine certificate",
        "Ada Lovelace",
        "Deep learning skills test",
        "Overall level",
        "Deep learning foundations",
        "Techniques to improve neural networks",
        "Convolutional neural networks",
        "Sequence models",
        code,
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions), text
    assert "Demonstrates" in text  # each level with the rubric's sentence
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no sideways scrolling on a phone
    border = page.eval_on_selector(".card", "e => getComputedStyle(e).borderTopColor")
    assert border == "rgb(31, 111, 139)"  # the stylesheet loaded under the CSP
    assert page.problems == []
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / "verify-genuine.png"), full_page=True)


def test_an_unknown_or_mistyped_code_says_what_to_do(page: Any, sqlite_live: ThreadServer) -> None:
    for code in ("AAAA-BBBB-CCCC", "not a code!"):
        response = page.goto(f"{sqlite_live.url}/verify/{code}")
        assert response.status == 404
        heading = page.inner_text("h1")
        assert heading == "No certificate has this code"
        assert "check it against the certificate" in page.inner_text("main").lower()
    # The only errors are the two pages' own "not found" statuses: nothing else failed to load.
    assert [p for p in page.problems if "status of 404" not in p] == []
    assert len(page.problems) == 2
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "verify-unknown.png"), full_page=True)


def test_the_issued_files_are_offered_and_the_page_passes_axe(
    page: Any, sqlite_live: ThreadServer, make_engine: Any
) -> None:
    from tests.server.test_dashboard import axe_here

    engine = make_engine()
    submission_id = engine.seal(sit(engine, sqlite_live.url, sqlite_live.invite()))
    [delivered] = engine.sync()
    engine.certificate_pdf(submission_id, wait_s=20)  # issued: the page now offers the files
    code = delivered.result["verification_code"]
    page.goto(f"{sqlite_live.url}/verify/{code}")
    text = page.inner_text("main")
    assert text.index(code) < text.index("Check the file you were given")
    links = {a.inner_text().strip(): a.get_attribute("href") for a in page.query_selector_all("a")}
    credential = links["Download the Open Badges credential (JSON)"]
    assert credential == f"{sqlite_live.url}/verify/{code}/credential"
    assert any(name.startswith("Add to LinkedIn profile") for name in links)
    fetched = page.request.get(credential)
    assert fetched.status == 200 and fetched.json()["type"][-1] == "OpenBadgeCredential"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # the hash wraps on a phone
    assert page.problems == []
    browser = page.context.browser
    scanning = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844})
    tab = scanning.new_page()
    tab.goto(f"{sqlite_live.url}/verify/{code}")
    assert axe_here(tab) == []
    scanning.close()
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / "verify-files.png"), full_page=True)
