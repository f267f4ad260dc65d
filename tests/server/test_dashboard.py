"""The employer's dashboard in a real browser (Debian's Chromium, driven by Playwright): a
recruiter signs in, finds a candidate's shared result in the table, reads the report with its
integrity timeline drawn as a chart, voids the flagged result (its certificate is then revoked)
and signs out; every page is scanned with axe-core (no serious or critical violation). Then the
refusals: a form without its CSRF token, a recruiter of another organisation, a proctor."""

from __future__ import annotations

import os
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from client.simulate import answer_all
from server import accounts, assessments, roster
from tests.conftest import Mailbox, Templates, ThreadServer, need
from tests.helpers import settle_jobs, sit
from tests.server.test_verify_page import CHROMIUM

PASSWORD = "correct horse battery staple"
AXE = Path(__file__).parents[1] / "vendor" / "axe-core" / "axe.min.js"
SHOTS = os.environ.get("EXAMGATE_SCREENSHOTS")


@pytest.fixture
def browser() -> Iterator[Any]:
    need(CHROMIUM is not None, "EXAMGATE_REQUIRE_BROWSER", "Chromium is not installed")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


def _tab(browser: Any, width: int = 1280) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    tab = context.new_page()
    tab.problems = []  # console errors (a CSP refusal); an error page's own status is no error

    def seen(message: Any) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            tab.problems.append(message.text)

    tab.on("console", seen)
    return tab


def axe_violations(browser: Any, url: str, cookies: list[dict[str, Any]]) -> list[str]:
    """Serious and critical WCAG 2.1 A/AA violations of the page at ``url`` (axe is injected
    in a context that ignores the page's CSP, which allows no script)."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    context.add_cookies(cookies)
    tab = context.new_page()
    tab.goto(url)
    found = axe_here(tab)
    context.close()
    return found


def _shot(tab: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(Path(SHOTS) / f"dashboard-{name}.png"), full_page=True)


def _world(live: ThreadServer, make_engine: Any) -> dict[str, Any]:
    ctx, operator = live.ctx, accounts.operator()
    org = accounts.create_organisation(ctx, "Acme Hiring")
    for role in ("recruiter", "proctor"):
        accounts.add_member(ctx, operator, org["id"], f"{role}@acme.example", role, role, PASSWORD)
    made = assessments.create(
        ctx, operator, org["id"],
        {"title": "Machine learning engineer", "per_category": {"foundations": 4, "cnn": 3},
         "policy": "strict"},
    )  # fmt: skip
    assessments.move(ctx, operator, org["id"], made["id"], "publish")
    invitation = roster.invite(
        ctx, operator, org["id"],
        {"assessment_id": made["id"], "name": "Grace Hopper", "send_email": False},
    )  # fmt: skip
    engine = make_engine()
    engine.seal(sit(engine, live.url, invitation, share=True))
    [delivered] = engine.sync()
    settle_jobs(ctx)
    return {"org": org, "result": delivered.result}


def _sign_in(tab: Any, live: ThreadServer, email: str) -> None:
    tab.goto(f"{live.url}/dashboard/")
    assert "/dashboard/sign-in" in tab.url  # no session: to the sign-in page
    tab.get_by_label("E-mail address").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()


def test_a_recruiter_reads_a_report_voids_it_and_signs_out(
    browser: Any, sqlite_live: ThreadServer, make_engine: Any
) -> None:
    live = sqlite_live
    world = _world(live, make_engine)
    tab = _tab(browser)
    tab.goto(f"{live.url}/dashboard/sign-in")
    tab.get_by_label("E-mail address").fill("recruiter@acme.example")
    tab.get_by_label("Password").fill("not the password at all")
    tab.get_by_role("button", name="Sign in").click()
    assert (
        "not right" in tab.inner_text("[role=alert]")
        or "wrong" in tab.inner_text("[role=alert]").lower()
    )
    _sign_in(tab, live, "recruiter@acme.example")
    assert tab.url.endswith(f"/dashboard/orgs/{world['org']['id']}/results")
    cookie = next(c for c in tab.context.cookies() if c["name"] == "examgate_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/dashboard" and cookie["expires"] > 0
    row = tab.get_by_role("row", name=re.compile("Grace Hopper"))
    assert "Flagged" in row.inner_text() and "Unreviewed" in row.inner_text()
    _shot(tab, "results")
    cookies = tab.context.cookies()
    results_url = tab.url

    row.get_by_role("link", name="Grace Hopper").click()
    assert tab.get_by_role("heading", name=re.compile("Overall level")).is_visible()
    chart = tab.locator("svg.chart")
    assert chart.get_attribute("role") == "img" and chart.locator("text.lane").count() == 7
    box = chart.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 100  # it is drawn
    assert tab.locator("ol.events li").count() >= 2  # the same events, as text
    assert "Lockdown missing" in tab.inner_text("main")  # why it was flagged
    _shot(tab, "result")
    report_url = tab.url
    for url in (f"{live.url}/dashboard/sign-in", results_url, report_url):
        assert axe_violations(browser, url, cookies) == [], url
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    phone.add_cookies(cookies)
    small = phone.new_page()
    for url, name in ((results_url, "results-phone"), (report_url, "result-phone")):
        small.goto(url)
        width = small.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (url, width)  # no sideways scrolling of the page on a phone
        _shot(small, name)
    phone.close()

    tab.get_by_label("Void it").check()
    tab.get_by_label("Your note or reason").fill("A second person was seen helping.")
    tab.get_by_role("button", name="Record the review").click()
    assert "confirms the void" in tab.inner_text("[role=alert]")  # not on one click
    tab.go_back()
    tab.get_by_label("Void it").check()
    tab.get_by_label("Your note or reason").fill("A second person was seen helping.")
    tab.get_by_label("I understand a void cannot be undone").check()
    tab.get_by_role("button", name="Record the review").click()
    assert "its certificate is revoked" in tab.inner_text("main")
    code = world["result"]["verification_code"]
    verify = requests.get(f"{live.url}/api/v1/verify/{code}", timeout=10).json()
    assert verify["revoked"] is True

    tab.get_by_role("button", name="Sign out").click()
    assert "You are signed out" in tab.inner_text("main")
    tab.goto(results_url)
    assert "/dashboard/sign-in" in tab.url  # the session ended with the sign-out
    assert tab.problems == []


def test_csrf_another_organisation_and_a_proctor_are_refused(
    browser: Any, sqlite_live: ThreadServer, make_engine: Any
) -> None:
    live = sqlite_live
    world = _world(live, make_engine)
    org_id, result_id = world["org"]["id"], world["result"]["result_id"]
    other = accounts.create_organisation(live.ctx, "Elsewhere")
    accounts.add_member(
        live.ctx, accounts.operator(), other["id"], "r@elsewhere.example", "recruiter", "R",
        PASSWORD,
    )  # fmt: skip
    session = requests.Session()
    signed = session.post(
        f"{live.url}/api/v1/sessions",
        json={"email": "recruiter@acme.example", "password": PASSWORD},
        timeout=10,
    ).json()["token"]
    session.cookies.set("examgate_session", signed, path="/dashboard")
    forged = session.post(
        f"{live.url}/dashboard/orgs/{org_id}/results/{result_id}/review",
        data={"decision": "void", "note": "forged from another site", "confirm": "yes"},
        allow_redirects=False,
        timeout=10,
    )
    assert forged.status_code == 403 and "did not come from this site" in forged.text
    session.cookies.set("examgate_csrf", "x" * 43, path="/dashboard")
    mismatched = session.post(
        f"{live.url}/dashboard/orgs/{org_id}/results/{result_id}/review",
        data={"decision": "void", "note": "forged", "confirm": "yes", "csrf": "y" * 43},
        allow_redirects=False,
        timeout=10,
    )
    assert mismatched.status_code == 403
    detail = session.get(f"{live.url}/dashboard/orgs/{org_id}/results/{result_id}", timeout=10)
    assert "Void it" in detail.text  # nothing was voided

    stranger = _tab(browser)
    _sign_in(stranger, live, "r@elsewhere.example")
    stranger.goto(f"{live.url}/dashboard/orgs/{org_id}/results/{result_id}")
    assert "Grace" not in stranger.inner_text("main")
    assert "No such organisation" in stranger.inner_text("main") or "not found" in (
        stranger.inner_text("main").lower()
    )
    stranger.goto(f"{live.url}/dashboard/orgs/{org_id}/results")
    assert "Grace" not in stranger.inner_text("main")

    proctor = _tab(browser)
    _sign_in(proctor, live, "proctor@acme.example")
    proctor.goto(f"{live.url}/dashboard/orgs/{org_id}/results")
    assert "Grace" not in proctor.inner_text("main")
    assert "does not allow this" in proctor.inner_text("main")


def test_an_owner_creates_invites_by_csv_runs_the_room_and_unlocks_a_client(
    browser: Any, sqlite_live: ThreadServer, make_engine: Any
) -> None:
    """Create an assessment, publish it, invite from a CSV with one bad line (nothing sent
    until it is fixed and confirmed), watch a candidate's status change live in the room, and
    read a proctor code from the page that unlocks that candidate's locked client."""
    live = sqlite_live
    org = accounts.create_organisation(live.ctx, "Acme Hiring")
    accounts.add_member(
        live.ctx, accounts.operator(), org["id"], "owner@acme.example", "owner", "O", PASSWORD
    )
    tab = _tab(browser)
    _sign_in(tab, live, "owner@acme.example")
    tab.get_by_role("link", name="Assessments").click()
    tab.get_by_label("Title").fill("Data scientist screen")
    tab.get_by_label("Deep learning foundations").fill("3")
    tab.get_by_label("Minutes").fill("10")
    tab.get_by_label(re.compile("^Open:")).check()
    tab.get_by_label(re.compile("^Supervised")).check()
    tab.get_by_role("button", name="Save as a draft").click()
    assert "saved as a draft" in tab.inner_text("[role=status]")
    _shot(tab, "assessments")
    tab.get_by_label("Title").fill("Adaptive screen")
    tab.get_by_label("Deep learning foundations").fill("3")
    tab.get_by_label(re.compile("^Adaptive online sittings")).check()
    tab.get_by_role("button", name="Save as a draft").click()
    adaptive_row = tab.get_by_role("row", name=re.compile("Adaptive screen"))
    assert "Online, adaptive" in adaptive_row.inner_text()
    _shot(tab, "assessments-adaptive")
    pages = [tab.url]
    tab.get_by_role("button", name="Publish Data scientist screen").click()
    tab.get_by_role("link", name="Invite").click()
    pages.append(tab.url)

    roster_text = "name,email,extra time\nAda Lovelace,ada@example.org,0\nBad Row,not-an-email,5\n"
    tab.get_by_label("Or paste its lines").fill(roster_text)
    tab.get_by_role("button", name="Check the roster").click()
    assert "1 line to fix" in tab.inner_text("main")
    _shot(tab, "invite-preview")
    bad = tab.get_by_role("row", name=re.compile("not-an-email"))
    assert "Refused" in bad.inner_text() and "Line 3" in bad.inner_text()
    assert tab.get_by_role("button", name=re.compile("^Send")).count() == 0
    assert roster.invitations(live.ctx, accounts.operator(), org["id"]) == []  # nothing sent
    fixed = roster_text.replace("not-an-email", "bad.row@example.org")
    tab.get_by_label("Or paste its lines").fill(fixed)
    tab.get_by_role("button", name="Check the roster").click()
    assert "Ready to send 2 invitations" in tab.inner_text("main")
    tab.get_by_role("button", name="Send 2 invitations").click()
    sent = tab.inner_text("[role=status]")
    assert "2 invitations made" in sent
    code = re.search(r"Ada Lovelace \(ada@example.org\): invitation code (\S+)", sent)
    assert code is not None

    tab.goto(tab.url.replace("/invite", "/room"))
    pages.append(tab.url)
    ada = tab.get_by_role("row", name=re.compile("Ada Lovelace"))
    assert ada.locator(".status").inner_text() == "Invited"
    engine = make_engine()
    sitting = engine.enrol(live.url, code.group(1))
    engine.download(sitting["id"])
    tab.wait_for_function(  # the page's own script refreshes the statuses
        "() => document.querySelector('#room').innerText.includes('Downloaded')", timeout=15_000
    )
    ada.get_by_role("button", name="Show the unlock code for Ada Lovelace").click()
    unlock_code = tab.locator("#shown .code.big").inner_text()
    session = engine.unlock(sitting["id"], unlock_code, share=True)
    session.start()
    challenge = session.lock("focus_lost")
    assert challenge is not None and session.locked
    events = session.journal.events  # the client tells the server, as its exam window does
    engine.api().checkpoint(sitting["id"], len(events) - 1, str(events[-1]["hash"]), locked=True)
    tab.wait_for_function(
        "() => document.querySelector('#room').innerText.includes('Locked')", timeout=15_000
    )
    assert "1 locked" in tab.inner_text("#room-summary")
    ada = tab.get_by_role("row", name=re.compile("Ada Lovelace"))
    ada.get_by_label("Challenge on Ada Lovelace's screen").fill(challenge)
    ada.get_by_role("button", name="Get the response").click()
    response = tab.locator("#proctor-response").inner_text()
    assert session.try_unlock(response).outcome == "accepted" and not session.locked
    _shot(tab, "room")
    bad_row = tab.get_by_role("row", name=re.compile("Bad Row"))
    bad_row.get_by_role("button", name="Send the invitation to Bad Row again").click()
    assert "Sent again by e-mail with a new code" in tab.inner_text("#shown")
    bad_row = tab.get_by_role("row", name=re.compile("Bad Row"))
    bad_row.get_by_role("button", name="Revoke the invitation of Bad Row").click()
    assert "Tick Confirm" in tab.inner_text("#shown")  # not on one click
    bad_row = tab.get_by_role("row", name=re.compile("Bad Row"))
    bad_row.get_by_label("Confirm").check()
    bad_row.get_by_role("button", name="Revoke the invitation of Bad Row").click()
    assert "The invitation is revoked" in tab.inner_text("#shown")
    assert tab.get_by_role("row", name=re.compile("Bad Row")).locator(".status").inner_text() == (
        "Revoked"
    )
    answer_all(session, "first", random.Random(2))  # the candidate finishes...
    events = session.journal.events
    engine.api().checkpoint(sitting["id"], len(events) - 1, str(events[-1]["hash"]), final=True)
    tab.wait_for_function(  # ...the end reached the server, the answers not yet
        "() => document.querySelector('#room').innerText.includes('Syncing')", timeout=15_000
    )
    engine.seal(session)
    engine.sync()
    tab.wait_for_function(
        "() => document.querySelector('#room').innerText.includes('Submitted')", timeout=15_000
    )
    assert "1 submitted" in tab.inner_text("#room-summary")
    tab.get_by_role("link", name="Results").click()
    row = tab.get_by_role("row", name=re.compile("Ada Lovelace"))
    assert "Clean" in row.inner_text() or "Flagged" in row.inner_text()  # shared: content shown
    pages.append(tab.url)
    cookies = tab.context.cookies()
    for url in pages:
        assert axe_violations(browser, url, cookies) == [], url
    assert tab.problems == []


def test_an_owner_runs_the_organisation_page(browser: Any, sqlite_live: ThreadServer) -> None:
    live = sqlite_live
    org = accounts.create_organisation(live.ctx, "Acme Hiring")
    accounts.add_member(
        live.ctx, accounts.operator(), org["id"], "owner@acme.example", "owner", "O", PASSWORD
    )
    accounts.add_member(
        live.ctx, accounts.operator(), org["id"], "viewer@acme.example", "viewer", "V", PASSWORD
    )
    tab = _tab(browser)
    _sign_in(tab, live, "owner@acme.example")
    tab.get_by_role("link", name="Organisation").click()
    page_url = tab.url
    tab.get_by_label("E-mail", exact=True).fill("new.recruiter@acme.example")
    tab.get_by_label("Role").select_option("recruiter")
    tab.get_by_role("button", name="Add", exact=True).click()
    assert "new.recruiter@acme.example is now recruiter" in tab.inner_text("[role=status]")
    tab.get_by_label("Name (what uses it)").fill("Greenhouse")
    tab.get_by_label("invite").check()
    tab.get_by_label("results:read").check()
    tab.get_by_role("button", name="Make the token").click()
    secret = tab.locator("#secret").inner_text()
    assert secret.startswith("egt_")
    tab.reload()  # the browser sends the form again: nothing is made twice
    assert "sent already" in tab.inner_text("[role=alert]")
    assert secret not in tab.content()  # shown once
    assert tab.inner_text("main").count("Greenhouse (invite, results:read)") == 1
    tab.get_by_label("Address (https://...)").fill("https://hooks.example/examgate")
    tab.get_by_role("button", name="Make the webhook").click()
    assert tab.locator("#secret").inner_text().startswith("whsec_")
    tab.get_by_label(re.compile("^Days personal data is kept")).fill("365")
    tab.get_by_role("button", name="Save").click()
    assert "erased 365 days after" in tab.inner_text("[role=status]")
    log = tab.inner_text("main")
    assert "token.create" in log and "webhook.create" in log and "organisation.retention" in log
    with tab.expect_download() as download:
        tab.get_by_role("link", name="Download the whole log as CSV").click()
    assert "token.create" in Path(download.value.path()).read_text(encoding="utf-8-sig")
    _shot(tab, "organisation")
    assert axe_violations(browser, page_url, tab.context.cookies()) == []

    viewer = _tab(browser)
    _sign_in(viewer, live, "viewer@acme.example")
    assert viewer.get_by_role("link", name="Organisation").count() == 0
    viewer.goto(page_url)
    assert "does not allow this" in viewer.inner_text("main") and "Greenhouse" not in (
        viewer.inner_text("main")
    )


def test_item_insights_show_exposure_and_statistics(
    browser: Any, sqlite_live: ThreadServer, make_engine: Any
) -> None:
    from server import insights

    live = sqlite_live
    world = _world(live, make_engine)  # one scored sitting; three more below
    org_id = world["org"]["id"]
    [assessment] = assessments.listing(live.ctx, accounts.operator(), org_id)
    for n, strategy in enumerate(("random", "first", "random")):
        invitation = roster.invite(
            live.ctx, accounts.operator(), org_id,
            {"assessment_id": assessment["id"], "name": f"Candidate {n}", "send_email": False},
        )  # fmt: skip
        engine = make_engine(f"c{n}")
        engine.seal(sit(engine, live.url, invitation, strategy=strategy, share=True))
        engine.sync()
    found = insights.insights(live.ctx, accounts.operator(), org_id, assessment["id"])
    assert found["forms_issued"] == 4 and found["sittings_scored"] == 4
    assert sum(i["forms"] for i in found["items"]) >= 4 * 7  # 7 scored items a form, and pretest
    assert all(0 <= i["exposure"] <= 1 for i in found["items"])
    assert all(i["n"] <= i["forms"] for i in found["items"])
    assert all(not any("stem" in key for key in i) for i in found["items"])  # no item text

    tab = _tab(browser)
    _sign_in(tab, live, "recruiter@acme.example")
    tab.goto(f"{live.url}/dashboard/orgs/{org_id}/assessments")
    tab.get_by_role("link", name="Item insights").click()
    bars = tab.locator("svg[aria-labelledby=exposure-caption] rect")
    assert bars.count() == len(found["items"])
    points = tab.locator("svg[aria-labelledby=quality-caption] circle, "
                         "svg[aria-labelledby=quality-caption] rect[width='10']")  # fmt: skip
    answered = [
        i for i in found["items"] if i["p_value"] is not None and i["point_biserial"] is not None
    ]
    assert points.count() == len(answered)
    assert tab.get_by_role("row").count() == len(found["items"]) + 1
    _shot(tab, "insights")
    assert axe_violations(browser, tab.url, tab.context.cookies()) == []


@pytest.fixture
def mailed_sqlite(tmp_path: Path, mailbox: Mailbox, templates: Templates) -> Iterator[ThreadServer]:
    from server.context import Context
    from server.settings import Settings, Smtp

    settings = Settings(
        data_dir=tmp_path / "server",
        database_url=f"sqlite:///{tmp_path / 'server' / 'examgate.db'}",
        smtp=Smtp(host="127.0.0.1", port=mailbox.port, security="none"),
    )
    templates.initialise(settings)
    with ThreadServer(Context.open(settings)) as running:
        yield running


def test_a_forgotten_password_is_chosen_again_with_a_code_by_email(
    browser: Any, mailed_sqlite: ThreadServer, mailbox: Mailbox
) -> None:
    live = mailed_sqlite
    org = accounts.create_organisation(live.ctx, "Acme Hiring")
    accounts.add_member(
        live.ctx, accounts.operator(), org["id"], "forgetful@acme.example", "recruiter", "F",
        PASSWORD,
    )  # fmt: skip
    tab = _tab(browser)
    tab.goto(f"{live.url}/dashboard/sign-in")
    tab.get_by_role("link", name=re.compile("Forgotten your password")).click()
    page_url = tab.url
    tab.get_by_label("E-mail address").fill("forgetful@acme.example")
    tab.get_by_role("button", name="Send me a code").click()
    assert "a code is on its way" in tab.inner_text("[role=status]")
    [message] = mailbox.wait_for("forgetful@acme.example")
    code = re.search(r"usable once:\s+(\S+)", message.get_content())
    page_link = f"{live.ctx.settings.public_url}/dashboard/password"
    assert code is not None and page_link in message.get_content()
    tab.get_by_label("The code from the e-mail").fill("WRONG-CODE")
    tab.get_by_label(re.compile("^New password")).fill("a brand new password")
    tab.get_by_role("button", name="Set the password").click()
    assert tab.locator("[role=alert]").count() == 1  # a wrong code, said so
    tab.get_by_label("The code from the e-mail").fill(code.group(1))
    tab.get_by_label(re.compile("^New password")).fill("a brand new password")
    tab.get_by_role("button", name="Set the password").click()
    assert "Your new password is set" in tab.inner_text("[role=status]")
    tab.get_by_label("E-mail address").fill("forgetful@acme.example")
    tab.get_by_label("Password").fill("a brand new password")
    tab.get_by_role("button", name="Sign in").click()
    assert "/results" in tab.url
    assert axe_violations(browser, page_url, []) == []


def test_a_second_factor_is_asked_on_its_own_page_then_the_organisations(
    browser: Any, sqlite_live: ThreadServer
) -> None:
    import pyotp
    from sqlalchemy import update

    from server import db

    live = sqlite_live
    first = accounts.create_organisation(live.ctx, "Acme Hiring")
    second = accounts.create_organisation(live.ctx, "Beta Centre")
    for org, role in ((first, "recruiter"), (second, "proctor")):
        accounts.add_member(
            live.ctx, accounts.operator(), org["id"], "two@acme.example", role, "T", PASSWORD
        )
    secret = pyotp.random_base32()
    with live.ctx.engine.begin() as connection:
        connection.execute(
            update(db.users)
            .where(db.users.c.email == "two@acme.example")
            .values(totp_secret=secret)
        )
    context = browser.new_context(bypass_csp=True)  # so that axe can scan the pages as shown
    tab = context.new_page()
    _sign_in(tab, live, "two@acme.example")
    assert tab.get_by_role("heading", name="Sign in: your code").is_visible()
    assert PASSWORD not in tab.content()  # the password is not carried to the second page
    assert axe_here(tab) == []
    tab.get_by_label("Code from your authenticator app").fill("000000")
    tab.get_by_role("button", name="Sign in").click()
    assert "wrong or already used" in tab.inner_text("[role=alert]")
    assert axe_here(tab) == []
    tab.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    tab.get_by_role("button", name="Sign in").click()
    assert tab.get_by_role("heading", name="Your organisations").is_visible()
    assert "Acme Hiring" in tab.inner_text("main") and "Beta Centre" in tab.inner_text("main")
    assert axe_here(tab) == []
    tab.get_by_role("link", name="Beta Centre").click()
    assert tab.url.endswith(f"/orgs/{second['id']}/assessments")  # a proctor's first page
    tab.goto(f"{live.url}/dashboard/orgs/{second['id']}/results")
    assert "does not allow this" in tab.inner_text("main")  # a proctor reads no results
    assert axe_here(tab) == []
    context.close()


def axe_here(tab: Any) -> list[str]:
    """axe-core's serious and critical WCAG 2.1 A/AA violations of the page as it stands (the
    tab's context must ignore the CSP)."""
    tab.add_script_tag(path=str(AXE))
    found = tab.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations
             .filter(v => v.impact === 'serious' || v.impact === 'critical')
             .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"""
    )
    return list(found)
