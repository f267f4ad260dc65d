"""Webhooks and the ATS adapter over real HTTP, on SQLite and PostgreSQL: a receiver written
here checks every signature and timestamp, fails on purpose at first and sees the retries;
what an event says follows consent; an applicant-tracking system lists tests, sends one (the
candidate gets the e-mail through a real SMTP server and sits), is called back, and reads the
result."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from server import jobs, webhooks
from server.context import Context
from server.settings import Settings, Smtp
from tests.conftest import Mailbox, Templates, ThreadServer
from tests.helpers import sit
from tests.server.test_employers import _member, _org, _published, api, sign_in


class Receiver:
    """An HTTP endpoint on loopback that keeps what it received and answers 200, except the
    first requests of an event type given in ``fail`` (type -> the statuses to answer first)."""

    def __init__(self) -> None:
        self.fail: dict[str, list[int]] = {}
        self.received: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.received.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": self.rfile.read(length),
                        "at": time.time(),
                    }
                )
                body = owner.received[-1]["body"]
                kind = json.loads(body).get("type") if body.startswith(b"{") else None
                script = owner.fail.get(str(kind), [])
                status = script.pop(0) if script else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PATCH = _any

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout_s: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} requests arrived, not {count}")
            time.sleep(0.05)
        return self.received

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hooked_live(
    tmp_path: Path,
    database_url: str,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
    templates: Templates,
) -> Iterator[ThreadServer]:
    """A live server whose webhooks may reach loopback, with retries a second apart."""
    monkeypatch.setattr(jobs, "FIRST_WAIT_S", 1)
    settings = Settings(
        data_dir=tmp_path / "server",
        database_url=database_url,
        webhook_private_addresses=True,
        smtp=Smtp(host="127.0.0.1", port=mailbox.port, security="none"),
    )
    templates.initialise(settings)
    with ThreadServer(Context.open(settings)) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


def _webhook(live: ThreadServer, org: dict[str, Any], owner: dict[str, str], url: str) -> Any:
    made = api(live, "POST", f"/orgs/{org['id']}/webhooks", owner, json={"url": url})
    assert made.status_code == 201, made.text
    return made.json()


def test_signed_events_are_retried_after_a_failing_receiver_and_logged(
    hooked_live: ThreadServer, receiver: Receiver, make_engine: Any
) -> None:
    live = hooked_live
    org = _org(live)
    owner = sign_in(live, _member(live, org, "owner"))
    receiver.fail = {"sitting.started": [500, 503]}  # its first two attempts fail
    hook = _webhook(live, org, owner, receiver.url)
    secret = hook["secret"].encode()
    assert hook["secret"].startswith("whsec_") and hook["events"] == sorted(webhooks.EVENTS)
    listed = api(live, "GET", f"/orgs/{org['id']}/webhooks", owner).json()["items"]
    assert "secret" not in listed[0] and hook["secret"] not in json.dumps(listed)

    assessment = _published(live, org, owner, policy="strict")  # flagged here: no lockdown
    invited = api(
        live, "POST", f"/orgs/{org['id']}/invitations", owner,
        json={"assessment_id": assessment["id"], "name": "Ada", "send_email": False},
    ).json()  # fmt: skip
    engine = make_engine()
    session = sit(engine, live.url, invited, share=True)
    engine.seal(session)
    engine.sync()
    # sitting.started fails twice then arrives; result.scored and result.flagged arrive.
    arrived = receiver.wait_for(5)
    kinds = [json.loads(r["body"])["type"] for r in arrived]
    assert kinds.count("sitting.started") == 3, kinds
    assert {"result.scored", "result.flagged"} <= set(kinds)
    for request in arrived:
        assert webhooks.check_signature(
            secret, request["headers"]["Examgate-Signature"], request["body"], int(time.time())
        )
        body = json.loads(request["body"])
        assert request["headers"]["Examgate-Delivery"] == body["id"]
        assert request["headers"]["Examgate-Event"] == body["type"]
    retries = [r for r in arrived if json.loads(r["body"])["type"] == "sitting.started"]
    assert len({r["headers"]["Examgate-Delivery"] for r in retries}) == 1  # one delivery, 3 tries
    assert retries[1]["at"] - retries[0]["at"] >= 0.9  # after a wait, not at once
    scored = next(json.loads(r["body"]) for r in arrived if b"result.scored" in r["body"])
    assert scored["data"]["shared"] is True and scored["data"]["overall"]

    # A forged, altered or replayed request is refused by the receiver's check.
    first = arrived[0]
    header = first["headers"]["Examgate-Signature"]
    assert not webhooks.check_signature(b"whsec_wrong", header, first["body"], int(time.time()))
    assert not webhooks.check_signature(secret, header, first["body"] + b" ", int(time.time()))
    late = int(time.time()) + webhooks.REPLAY_WINDOW_S + 60
    assert not webhooks.check_signature(secret, header, first["body"], late)

    deadline = time.monotonic() + 20
    while True:  # the log is written just after the receiver answers
        log = api(live, "GET", f"/orgs/{org['id']}/webhooks/{hook['id']}/deliveries", owner)
        started = [d for d in log.json()["items"] if d["event"] == "sitting.started"]
        if (started and started[0]["state"] == "delivered") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    [delivery] = started
    assert delivery["state"] == "delivered" and delivery["attempts"] == 3
    assert [a["status"] for a in delivery["history"]] == [500, 503, 200]
    assert "HTTP 500" in delivery["history"][0]["error"]

    stopped = api(live, "DELETE", f"/orgs/{org['id']}/webhooks/{hook['id']}", owner)
    assert stopped.status_code == 204
    recruiter = sign_in(live, _member(live, org, "recruiter"))
    assert api(live, "GET", f"/orgs/{org['id']}/webhooks", recruiter).status_code == 403


def test_without_consent_an_event_says_only_that_the_sitting_was_completed(
    hooked_live: ThreadServer, receiver: Receiver, make_engine: Any
) -> None:
    live = hooked_live
    org = _org(live)
    owner = sign_in(live, _member(live, org, "owner"))
    made = api(
        live, "POST", f"/orgs/{org['id']}/webhooks", owner,
        json={"url": receiver.url, "events": ["result.scored", "result.flagged",
                                              "consent.changed"]},
    )  # fmt: skip
    assert made.status_code == 201
    assessment = _published(live, org, owner, policy="strict")
    invited = api(
        live, "POST", f"/orgs/{org['id']}/invitations", owner,
        json={"assessment_id": assessment["id"], "name": "Ada", "send_email": False},
    ).json()  # fmt: skip
    engine = make_engine()
    submission_id = engine.seal(sit(engine, live.url, invited, share=False))
    engine.sync()
    [scored] = receiver.wait_for(1)
    body = json.loads(scored["body"])
    assert body["type"] == "result.scored" and body["data"]["shared"] is False
    assert not {"overall", "categories", "integrity"} & set(body["data"])
    time.sleep(0.5)
    assert len(receiver.received) == 1  # no result.flagged: that would tell the integrity

    from tests.server.test_results_for_employers import _device

    _device(live, engine, "POST", f"/results/{submission_id}/shares", {"organisation": org["slug"]})
    changed = json.loads(receiver.wait_for(2)[1]["body"])
    assert changed["type"] == "consent.changed" and changed["data"]["shared"] is True


def test_a_private_address_is_refused_unless_the_operator_allows_it(
    live: ThreadServer, receiver: Receiver, make_engine: Any
) -> None:
    org = _org(live)
    owner = sign_in(live, _member(live, org, "owner"))
    bad = api(live, "POST", f"/orgs/{org['id']}/webhooks", owner, json={"url": "ftp://x.example"})
    assert bad.status_code == 400 and "https://" in bad.json()["message"]
    creds = api(
        live, "POST", f"/orgs/{org['id']}/webhooks", owner,
        json={"url": "https://user:pw@hooks.example/x"},
    )  # fmt: skip
    assert creds.status_code == 400
    events = api(
        live, "POST", f"/orgs/{org['id']}/webhooks", owner,
        json={"url": "https://hooks.example/x", "events": ["result.eaten"]},
    )  # fmt: skip
    assert events.status_code == 400 and "result.scored" in events.json()["message"]
    hook = _webhook(live, org, owner, receiver.url)
    assessment = _published(live, org, owner, policy="open")
    invited = api(
        live, "POST", f"/orgs/{org['id']}/invitations", owner,
        json={"assessment_id": assessment["id"], "name": "Ada", "send_email": False},
    ).json()  # fmt: skip
    engine = make_engine()
    engine.seal(sit(engine, live.url, invited))
    engine.sync()
    deadline = time.monotonic() + 20
    while True:
        items = api(
            live, "GET", f"/orgs/{org['id']}/webhooks/{hook['id']}/deliveries", owner
        ).json()["items"]
        if (items and items[-1]["history"]) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert items and "private or loopback" in items[-1]["history"][0]["error"]
    assert receiver.received == []  # nothing ever reached the loopback address


def _basic(token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{token}:".encode()).decode()}


def test_an_applicant_tracking_system_sends_a_test_and_reads_the_result(
    hooked_live: ThreadServer, receiver: Receiver, mailbox: Mailbox, make_engine: Any
) -> None:
    live = hooked_live
    org = _org(live)
    owner = sign_in(live, _member(live, org, "owner"))
    assessment = _published(live, org, owner, policy="open")
    _published(live, org, owner, policy="open", title="Second test")
    token = api(
        live, "POST", f"/orgs/{org['id']}/tokens", owner,
        json={"name": "Greenhouse", "scopes": ["invite", "results:read"]},
    ).json()["token"]  # fmt: skip
    base = f"{live.url}/api/v1/ats/greenhouse"
    assert requests.get(f"{base}/list_tests", timeout=10).status_code == 401
    wrong = requests.get(f"{base}/list_tests", headers=_basic("egt_nope"), timeout=10)
    assert wrong.status_code == 401
    tests = requests.get(f"{base}/list_tests", headers=_basic(token), timeout=10).json()
    assert {t["partner_test_name"] for t in tests} == {"Machine learning engineer", "Second test"}
    assert all(set(t) == {"partner_test_id", "partner_test_name"} for t in tests)

    sent = requests.post(
        f"{base}/send_test",
        headers=_basic(token),
        json={
            "partner_test_id": assessment["id"],
            "candidate": {"first_name": "Katherine", "last_name": "Johnson",
                          "email": "katherine@example.org"},
            "url": receiver.url,
        },
        timeout=10,
    )  # fmt: skip
    assert sent.status_code == 200, sent.text
    interview = sent.json()["partner_interview_id"]
    status = requests.get(
        f"{base}/test_status", params={"partner_interview_id": interview}, headers=_basic(token),
        timeout=10,
    )  # fmt: skip
    assert status.json() == {"partner_status": "pending"}

    [message] = mailbox.wait_for("katherine@example.org")
    code = re.search(r"Invitation code:\s+(\S+)", message.get_content())
    assert code is not None
    engine = make_engine()
    engine.seal(sit(engine, live.url, {"invitation": code.group(1)}, share=True))
    engine.sync()
    [callback] = receiver.wait_for(1)
    assert callback["method"] == "PATCH" and callback["path"] == "/hook"
    assert json.loads(callback["body"])["partner_interview_id"] == interview
    done = requests.get(
        f"{base}/test_status", params={"partner_interview_id": interview}, headers=_basic(token),
        timeout=10,
    ).json()  # fmt: skip
    assert done["partner_status"] == "complete" and 0 <= done["partner_score"] <= 100
    assert done["partner_profile_url"].startswith(f"{live.ctx.settings.public_url}/verify/")
    assert done["metadata"]["Overall level"] and done["metadata"]["Integrity"] == "clean"

    # Another organisation's token learns nothing of this interview.
    other = _org(live, "Other")
    other_owner = sign_in(live, _member(live, other, "owner", "o@other.example"))
    other_token = api(
        live, "POST", f"/orgs/{other['id']}/tokens", other_owner,
        json={"name": "gh", "scopes": ["invite", "results:read"]},
    ).json()["token"]  # fmt: skip
    hidden = requests.get(
        f"{base}/test_status", params={"partner_interview_id": interview},
        headers=_basic(other_token), timeout=10,
    )  # fmt: skip
    assert hidden.status_code == 404
