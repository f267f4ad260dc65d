"""Self-registration over real HTTP and a real SMTP server, on SQLite and PostgreSQL: the e-mail
proved by a code, at most three attempts in any 90 days (the fourth refused with the date it
becomes possible, by an injected clock), and employer-administered sittings exempt."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from client.errors import ServerRefused
from server import accounts, assessments, roster
from server.context import wall_ms
from server.invitations import DAY_MS
from tests.conftest import Mailbox, ThreadServer

EMAIL = "lin@example.org"


def _open_assessment(live: ThreadServer) -> dict[str, Any]:
    operator = accounts.operator()
    org = accounts.create_organisation(live.ctx, "Open Tests")
    made = assessments.create(
        live.ctx, operator, org["id"],
        {"title": "Deep learning, open", "per_category": {"cnn": 2}, "self_registration": True},
    )  # fmt: skip
    return assessments.move(live.ctx, operator, org["id"], made["id"], "publish") | {"org": org}


def _register(live: ThreadServer, mailbox: Mailbox, slug: str, nth: int) -> requests.Response:
    base = f"{live.url}/api/v1/self-registration/{slug}"
    asked = requests.post(f"{base}/code", json={"name": "Lin Wei", "email": EMAIL}, timeout=10)
    assert asked.status_code == 202, asked.text
    message = mailbox.wait_for(EMAIL, nth)[-1]
    found = re.search(r"\b(\d{4} \d{4})\b", message.get_content())
    assert found is not None
    return requests.post(
        f"{base}/confirm", json={"email": EMAIL.upper(), "code": found.group(1)}, timeout=10
    )


def test_three_attempts_in_ninety_days_then_the_date_of_the_next(
    mailed_live: ThreadServer, mailbox: Mailbox, make_engine: Any
) -> None:
    live = mailed_live
    assessment = _open_assessment(live)
    slug = assessment["slug"]
    wrong = requests.post(
        f"{live.url}/api/v1/self-registration/{slug}/confirm",
        json={"email": EMAIL, "code": "0000 0000"},
        timeout=10,
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "bad_code"

    engine = make_engine(manual_clock=False)
    downloaded_ms = []
    for nth in (1, 2, 3):
        confirmed = _register(live, mailbox, slug, nth)
        assert confirmed.status_code == 201, confirmed.text
        sitting = engine.enrol(live.url, confirmed.json()["invitation"])
        engine.download(sitting["id"])
        downloaded_ms.append(wall_ms())

    fourth = _register(live, mailbox, slug, 4)
    assert fourth.status_code == 409 and fourth.json()["error"] == "attempt_limit"
    allowed_from = fourth.json()["next_attempt_ms"]
    assert downloaded_ms[0] - 5_000 < allowed_from - 90 * DAY_MS <= downloaded_ms[0]
    assert "You can take it again from" in fourth.json()["message"]

    # A day before that date it is still refused; from it, allowed.
    live.ctx.now_ms = lambda: allowed_from - DAY_MS  # type: ignore[method-assign]
    assert _register(live, mailbox, slug, 5).status_code == 409
    live.ctx.now_ms = lambda: allowed_from + 1  # type: ignore[method-assign]
    assert _register(live, mailbox, slug, 6).status_code == 201


def test_a_waiting_registration_is_replaced_and_cannot_take_a_fourth_attempt(
    mailed_live: ThreadServer, mailbox: Mailbox, make_engine: Any
) -> None:
    live = mailed_live
    slug = _open_assessment(live)["slug"]
    engine = make_engine(manual_clock=False)
    first = _register(live, mailbox, slug, 1).json()
    second = _register(live, mailbox, slug, 2).json()
    with pytest.raises(ServerRefused, match="not valid"):  # the first waits no more
        engine.enrol(live.url, first["invitation"])
    sitting = engine.enrol(live.url, second["invitation"])
    engine.download(sitting["id"])


def test_employer_administered_sittings_are_exempt_and_do_not_count(
    mailed_live: ThreadServer, mailbox: Mailbox, make_engine: Any
) -> None:
    live = mailed_live
    assessment = _open_assessment(live)
    engine = make_engine(manual_clock=False)
    for _ in range(4):  # four invited sittings of the same person, all downloaded
        invited = roster.invite(
            live.ctx, accounts.operator(), assessment["org"]["id"],
            {"assessment_id": assessment["id"], "name": "Lin Wei", "email": EMAIL,
             "send_email": False},
        )  # fmt: skip
        sitting = engine.enrol(live.url, invited["invitation"])
        engine.download(sitting["id"])
    assert _register(live, mailbox, assessment["slug"], 1).status_code == 201


def test_an_assessment_closed_to_self_registration_is_not_found(live: ThreadServer) -> None:
    answer = requests.post(
        f"{live.url}/api/v1/self-registration/deep-learning/code",
        json={"name": "A", "email": "a@example.org"},
        timeout=10,
    )
    assert answer.status_code == 404
