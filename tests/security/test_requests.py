"""Attacks on requests: replays, an unsigned query string, enrolment with another device's keys,
and guessing (invitation and verification codes) against the abuse limits."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

import requests

from client.errors import ServerRefused
from shared import canonical, crypto
from shared.protocol import ENROL_KEX_INFO, enrol_transcript
from tests.conftest import ThreadServer
from tests.helpers import signed_headers


def test_a_replayed_request_is_refused(live: ThreadServer, make_engine: Any) -> None:
    engine = make_engine()
    sitting = engine.enrol(live.url, live.invite()["invitation"])
    target = "/api/v1/sittings"
    headers = signed_headers(engine.enrolment().device_id, engine.keys.signing, "GET", target, b"")
    first = requests.get(live.url + target, headers=headers, timeout=10)
    assert first.status_code == 200 and first.json()["sittings"][0]["id"] == sitting["id"]
    again = requests.get(live.url + target, headers=headers, timeout=10)
    assert again.status_code == 401 and again.json()["error"] == "replayed"


def test_the_query_string_is_part_of_what_is_signed(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    engine.enrol(sqlite_live.url, sqlite_live.invite()["invitation"])
    signed_for = "/api/v1/sittings?page=1"
    headers = signed_headers(
        engine.enrolment().device_id, engine.keys.signing, "GET", signed_for, b""
    )
    changed = requests.get(sqlite_live.url + "/api/v1/sittings?page=2", headers=headers, timeout=10)
    assert changed.status_code == 401
    fresh = signed_headers(
        engine.enrolment().device_id, engine.keys.signing, "GET", signed_for, b""
    )
    assert requests.get(sqlite_live.url + signed_for, headers=fresh, timeout=10).status_code == 200


def enrol_body(
    server: ThreadServer,
    invitation: str,
    signing: Any,
    kex: Any,
    *,
    sign_public: bytes | None = None,
    kex_public: bytes | None = None,
) -> dict[str, Any]:
    """An enrolment request, proofs made with ``signing`` and ``kex``, claiming whichever
    public keys are given (by default their own)."""
    body: dict[str, Any] = {
        "invitation": invitation,
        "sign_public": crypto.b64encode(sign_public or crypto.public_bytes(signing)),
        "kex_public": crypto.b64encode(kex_public or crypto.public_bytes(kex)),
        "device_name": "laptop",
        "timestamp": int(time.time() * 1000),
        "nonce": secrets.token_urlsafe(16),
    }
    transcript = enrol_transcript(body)
    shared = crypto.shared_key(kex, server.ctx.kex_public, ENROL_KEX_INFO)
    body["signature"] = crypto.b64encode(signing.sign(transcript))
    body["kex_proof"] = crypto.b64encode(hmac.new(shared, transcript, hashlib.sha256).digest())
    return body


def test_enrolment_with_another_devices_public_keys_is_refused(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    victim = make_engine("victim")
    victim.enrol(sqlite_live.url, sqlite_live.invite()["invitation"])
    attacker_signing, attacker_kex = crypto.generate_signing_key(), crypto.generate_kex_key()
    invitation = sqlite_live.invite()["invitation"]
    for claimed in (
        {"sign_public": crypto.public_bytes(victim.keys.signing)},
        {"kex_public": crypto.public_bytes(victim.keys.kex)},
    ):
        body = enrol_body(sqlite_live, invitation, attacker_signing, attacker_kex, **claimed)
        response = requests.post(
            sqlite_live.url + "/api/v1/enrol", data=canonical.dumps(body), timeout=10
        )
        assert response.status_code == 401 and response.json()["error"] == "no_proof"
    own = enrol_body(sqlite_live, invitation, attacker_signing, attacker_kex)
    sent = requests.post(sqlite_live.url + "/api/v1/enrol", data=canonical.dumps(own), timeout=10)
    assert sent.status_code == 200  # with its own keys, it enrols as itself
    replay = requests.post(sqlite_live.url + "/api/v1/enrol", data=canonical.dumps(own), timeout=10)
    assert replay.status_code == 401 and replay.json()["error"] == "replayed"


def test_guessing_invitation_codes_meets_a_limit(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    statuses = []
    for _ in range(25):
        try:
            engine.enrol(sqlite_live.url, crypto.new_unlock_code(groups=4))
        except ServerRefused as refused:
            statuses.append(refused.status)
    assert statuses[:20] == [404] * 20 and statuses[20:] == [429] * 5
    guess = enrol_body(
        sqlite_live, "ZZZZ-ZZZZ-ZZZZ-ZZZZ", crypto.generate_signing_key(), crypto.generate_kex_key()
    )
    blocked = requests.post(
        sqlite_live.url + "/api/v1/enrol", data=canonical.dumps(guess), timeout=10
    )
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 600
    assert "wait" in blocked.json()["message"]
    # A candidate with a real code behind the same address (a test centre) is not locked out.
    honest = make_engine("honest")
    assert honest.enrol(sqlite_live.url, sqlite_live.invite()["invitation"])["id"]


def test_guessing_verification_codes_meets_a_limit(sqlite_live: ThreadServer) -> None:
    statuses = [
        requests.get(
            f"{sqlite_live.url}/api/v1/verify/{crypto.new_unlock_code()}", timeout=10
        ).status_code
        for _ in range(33)
    ]
    assert statuses[:30] == [200] * 30 and statuses[30:] == [429] * 3
    page = requests.get(f"{sqlite_live.url}/verify/AAAA-BBBB-CCCC", timeout=10)
    assert page.status_code == 429 and page.headers["Retry-After"]


def test_unlock_code_releases_meet_a_limit(live: ThreadServer, make_engine: Any) -> None:
    engine = make_engine()
    sitting = engine.enrol(live.url, live.invite()["invitation"])
    engine.download(sitting["id"])
    codes = set()
    refused = 0
    for _ in range(12):
        try:
            codes.add(engine.release_code(sitting["id"]))
        except ServerRefused as error:
            assert error.status == 429
            refused += 1
    assert len(codes) == 1 and refused == 2
