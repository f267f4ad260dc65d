"""The HTTP API over real HTTP, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import pytest
import requests
from sqlalchemy import select

from client.api import ApiClient
from client.errors import ServerRefused
from client.package import open_items
from server import db
from server.bank.store import items_by_id
from server.invitations import create_invitation
from server.scoring import SCORING
from shared import canonical, crypto
from tests.conftest import ThreadServer
from tests.helpers import count, signed_headers, sit, stored_document


def sealed_document(
    make_engine: Any, live: ThreadServer, offline: bool = False
) -> tuple[Any, str, str]:
    engine = make_engine()
    session = sit(engine, live.url, live.invite(offline=offline))
    submission_id = engine.seal(session)
    return engine, submission_id, stored_document(engine, submission_id)


def test_health_and_server_key(live: ThreadServer) -> None:
    assert requests.get(live.url + "/api/v1/health", timeout=5).json() == {"status": "ok"}
    key = requests.get(live.url + "/api/v1/server-key", timeout=5).json()
    assert key["fingerprint"] == crypto.fingerprint(live.ctx.public_key)


def test_a_whole_sitting_is_scored_with_levels_feedback_and_a_certificate(
    live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    session = sit(engine, live.url, live.invite())
    submission_id = engine.seal(session)
    [delivered] = engine.sync()
    result = delivered.result
    assert delivered.submission_id == submission_id
    assert result["overall"] in ("beginning", "developing", "accomplished")
    assert set(result["categories"]) == {
        "Deep learning foundations",
        "Techniques to improve neural networks",
        "Convolutional neural networks",
        "Sequence models",
    }
    assert sum(d["total"] for d in result["category_details"]) == 20
    assert all(d["total"] == 5 for d in result["category_details"])
    assert result["skills"] and all(s["feedback"] for s in result["skills"])
    assert result["scoring"] == SCORING
    assert result["percentile"] is None and result["cohort"] == 1  # too few to compare with
    overall = result["overall_detail"]
    assert overall["level"] == result["overall"] and 0 < overall["se"] < 1
    assert all(0 <= d["confidence"] <= 1 for d in result["category_details"])
    pdf = engine.certificate_pdf(submission_id)
    assert pdf.startswith(b"%PDF")
    verified = requests.get(
        f"{live.url}/api/v1/verify/{result['verification_code']}", timeout=5
    ).json()
    assert verified["genuine"] is True and verified["candidate"] == "Ada Lovelace"
    assert verified["overall"] == result["overall"]


def test_the_percentile_places_a_result_among_the_cohort(
    live: ThreadServer, make_engine: Any
) -> None:
    # An operator may compare within small cohorts; the default waits for MIN_COHORT results.
    live.ctx.settings = dataclasses.replace(live.ctx.settings, min_cohort=1)
    low = make_engine("low")
    sit(low, live.url, live.invite(), strategy="first")
    low.seal(low.unlock(low.sittings()[0]["id"], low.release_code(low.sittings()[0]["id"])))
    [low_result] = low.sync()
    assert low_result.result["percentile"] == 50  # alone in the cohort: ties count half
    engine = make_engine("other")
    invitation = live.invite()
    sitting = engine.enrol(live.url, invitation["invitation"])
    engine.download(sitting["id"])
    session = engine.unlock(sitting["id"], engine.release_code(sitting["id"]))
    session.start()
    with live.ctx.engine.connect() as connection:
        form = canonical.loads(
            connection.execute(
                select(db.sittings.c.form).where(db.sittings.c.id == sitting["id"])
            ).scalar_one()
        )
        bank = items_by_id(connection, [e["item"] for e in form])
    for entry in form:  # answer everything right
        assert session.current is not None and session.current.id == entry["id"]
        key = next(shown for shown, source in entry["options"] if source in bank[entry["item"]].key)
        session.answer([key])
        session.advance()
    engine.seal(session)
    [high] = engine.sync()
    assert high.result["overall"] == "accomplished"
    assert high.result["percentile"] == 75  # above the other result
    refreshed = low.api().json("GET", f"/results/{low_result.submission_id}")
    assert refreshed["percentile"] == 25  # the cohort grew; the percentile follows it


def test_a_retake_gets_new_items_aimed_at_the_last_result(
    live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    first = create_invitation(live.ctx, "deep-learning", "Ada", False, "Ada@Example.org")
    session = sit(engine, live.url, first, strategy="first")
    engine.seal(session)
    [result] = engine.sync()
    second = create_invitation(live.ctx, "deep-learning", "Ada", False, "ada@example.org ")
    sitting = engine.enrol(live.url, second["invitation"])
    engine.download(sitting["id"])
    with live.ctx.engine.connect() as connection:
        forms = {
            row.id: {e["item"] for e in canonical.loads(row.form)}
            for row in connection.execute(select(db.sittings.c.id, db.sittings.c.form))
        }
    assert not forms[first["sitting_id"]] & forms[sitting["id"]]
    assert result.result["overall_detail"]["theta"] is not None


def test_an_unknown_verification_code_is_not_genuine(live: ThreadServer) -> None:
    answer = requests.get(f"{live.url}/api/v1/verify/AAAA-BBBB-CCCC", timeout=5).json()
    assert answer["genuine"] is False
    page = requests.get(f"{live.url}/verify/AAAA-BBBB-CCCC", timeout=5)
    assert page.status_code == 404
    assert "No certificate has this code" in page.text and "try again" in page.text
    assert 'name=viewport content="width=device-width' in page.text
    mistyped = requests.get(f"{live.url}/verify/not%20a%20code!", timeout=5)
    assert mistyped.status_code == 404 and "No certificate has this code" in mistyped.text
    css = requests.get(f"{live.url}/assets/examgate.css", timeout=5)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_repeated_upload_returns_the_same_result_and_creates_nothing(
    live: ThreadServer, make_engine: Any
) -> None:
    engine, _, document = sealed_document(make_engine, live)
    api = engine.api()
    first = api.submit(document.encode())
    second = api.submit(document.encode())
    assert first["result"] == second["result"]
    assert first["receipt"]["body"] == second["receipt"]["body"]
    assert count(live.ctx, "submissions") == 1 and count(live.ctx, "results") == 1


def test_package_holds_no_key_feedback_or_item_parameters(
    live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    sitting = engine.enrol(live.url, live.invite()["invitation"])
    engine.download(sitting["id"])
    package = engine.state.package(sitting["id"])
    assert package is not None
    raw = json.dumps(package)
    with live.ctx.engine.connect() as connection:
        row = connection.execute(
            select(db.sittings.c.form, db.sittings.c.unlock_code).where(
                db.sittings.c.id == sitting["id"]
            )
        ).one()
        form = canonical.loads(row.form)
        bank = items_by_id(connection, [entry["item"] for entry in form])
    opened = open_items(
        package,
        server_public=live.ctx.public_key,
        device_id=engine.enrolment().device_id,
        kex_key=engine.keys.kex,
        unlock_code=row.unlock_code,
        now_ms=int(time.time() * 1000),
    )
    header, items = opened.header, opened.items
    decrypted = json.dumps([dataclasses.asdict(item) for item in items])
    assert header.item_count == len(items) == 20
    for entry in form:
        item = bank[entry["item"]]
        # The bytes on disk: no stem, no option text, no bank id, no feedback in the clear.
        assert item.stem[:40] not in raw and item.id not in raw
        for option in item.options:
            assert option.feedback not in raw and option.feedback not in decrypted
            if len(option.text) >= 8:  # shorter texts (like "64") occur in any base64 by chance
                assert option.text not in raw
        # Decrypted: the item is unnamed and the correct option is one option among others.
        assert item.id not in decrypted
        shown = next(i for i in items if i.id == entry["id"])
        assert sorted(o.text for o in shown.options) == sorted(o.text for o in item.options)
        assert not {o.id for o in shown.options} & {o.id for o in item.options}
    for field in ('"key"', '"answer_key"', '"feedback"', '"a":', '"b":', '"c":', '"skill"'):
        assert field not in decrypted and field not in raw


def post_submission(live: ThreadServer, engine: Any, body: bytes) -> requests.Response:
    headers = signed_headers(
        engine.enrolment().device_id, engine.keys.signing, "POST", "/api/v1/submissions", body
    )
    return requests.post(live.url + "/api/v1/submissions", data=body, headers=headers, timeout=10)


def test_altered_submission_is_refused_and_changes_nothing(
    live: ThreadServer, make_engine: Any
) -> None:
    engine, _, document = sealed_document(make_engine, live)
    altered = json.loads(document)
    altered["body"]["responses"] = altered["body"]["responses"][1:]
    response = post_submission(live, engine, canonical.dumps(altered))
    assert response.status_code == 400
    assert response.json()["error"] == "bad_signature"
    assert count(live.ctx, "submissions") == 0 and count(live.ctx, "results") == 0


def test_submission_signed_by_another_key_is_refused(live: ThreadServer, make_engine: Any) -> None:
    engine, _, document = sealed_document(make_engine, live)
    forged = crypto.sign_document(json.loads(document)["body"], crypto.generate_signing_key())
    response = post_submission(live, engine, canonical.dumps(forged))
    assert response.status_code == 400 and response.json()["error"] == "bad_signature"
    assert count(live.ctx, "submissions") == 0


def test_request_from_an_unknown_device_is_refused(live: ThreadServer, make_engine: Any) -> None:
    engine, _, document = sealed_document(make_engine, live)
    stranger = crypto.generate_signing_key()
    headers = signed_headers(
        engine.enrolment().device_id, stranger, "POST", "/api/v1/submissions", document.encode()
    )
    response = requests.post(
        live.url + "/api/v1/submissions", data=document, headers=headers, timeout=5
    )
    assert response.status_code == 401 and response.json()["error"] == "unauthenticated"
    headers = signed_headers(
        "no-such-device", stranger, "POST", "/api/v1/submissions", document.encode()
    )
    response = requests.post(
        live.url + "/api/v1/submissions", data=document, headers=headers, timeout=5
    )
    assert response.status_code == 401
    assert count(live.ctx, "submissions") == 0


def test_a_stale_request_signature_is_refused(live: ThreadServer, make_engine: Any) -> None:
    engine, _, document = sealed_document(make_engine, live)
    headers = signed_headers(
        engine.enrolment().device_id,
        engine.keys.signing,
        "POST",
        "/api/v1/submissions",
        document.encode(),
        when_ms=int(time.time() * 1000) - 3_600_000,
    )
    response = requests.post(
        live.url + "/api/v1/submissions", data=document, headers=headers, timeout=5
    )
    assert response.status_code == 401 and response.json()["error"] == "clock_skew"


def test_a_second_different_submission_for_a_sitting_is_refused(
    live: ThreadServer, make_engine: Any
) -> None:
    engine, _, document = sealed_document(make_engine, live)
    assert post_submission(live, engine, document.encode()).status_code == 200
    replay = json.loads(document)["body"]
    replay["submission_id"] = "another-id"
    response = post_submission(
        live, engine, canonical.dumps(crypto.sign_document(replay, engine.keys.signing))
    )
    assert response.status_code == 409 and response.json()["error"] == "already_submitted"
    assert count(live.ctx, "submissions") == 1 and count(live.ctx, "results") == 1


def test_same_id_with_different_content_is_a_conflict(live: ThreadServer, make_engine: Any) -> None:
    engine, _, document = sealed_document(make_engine, live)
    assert post_submission(live, engine, document.encode()).status_code == 200
    changed = json.loads(document)["body"]
    changed["responses"] = []
    response = post_submission(
        live, engine, canonical.dumps(crypto.sign_document(changed, engine.keys.signing))
    )
    assert response.status_code == 422 and response.json()["error"] == "key_reused"


def test_responses_that_contradict_the_event_log_are_refused(
    live: ThreadServer, make_engine: Any
) -> None:
    engine, _, document = sealed_document(make_engine, live)
    body = json.loads(document)["body"]
    first = body["responses"][0]
    answer_event = next(
        e for e in body["events"] if e["type"] == "answer" and e["data"]["item"] == first["item"]
    )
    assert answer_event["data"]["options"] == first["options"]  # journalled as answered
    body["responses"][0] = {"item": first["item"], "options": []}
    response = post_submission(
        live, engine, canonical.dumps(crypto.sign_document(body, engine.keys.signing))
    )
    assert response.status_code == 400
    assert response.json()["message"] == "The responses do not match the sitting's event log."
    assert count(live.ctx, "submissions") == 0


def test_a_broken_event_chain_is_refused(live: ThreadServer, make_engine: Any) -> None:
    engine, _, document = sealed_document(make_engine, live)
    body = json.loads(document)["body"]
    body["events"] = [e for e in body["events"] if e["type"] != "answer"]  # answers erased
    response = post_submission(
        live, engine, canonical.dumps(crypto.sign_document(body, engine.keys.signing))
    )
    assert response.status_code == 400 and response.json()["error"] == "malformed"
    assert count(live.ctx, "submissions") == 0


def test_a_submission_for_another_devices_sitting_is_not_found(
    live: ThreadServer, make_engine: Any
) -> None:
    victim, _, _ = sealed_document(make_engine, live)
    attacker = make_engine("attacker")
    sit(attacker, live.url, live.invite())
    _, _, victim_document = victim, None, stored_document(victim, victim.outbox.pending()[0])
    body = json.loads(victim_document)["body"]
    body["device_id"] = attacker.enrolment().device_id
    response = post_submission(
        live, attacker, canonical.dumps(crypto.sign_document(body, attacker.keys.signing))
    )
    assert response.status_code == 404
    assert count(live.ctx, "submissions") == 0


def test_malformed_json_gets_a_reason(live: ThreadServer, make_engine: Any) -> None:
    response = requests.post(live.url + "/api/v1/enrol", data=b"{not json", timeout=5)
    assert response.status_code == 400
    assert response.json() == {"error": "malformed", "message": "The data is not valid JSON."}
    engine, _, _ = sealed_document(make_engine, live)
    response = post_submission(live, engine, b'{"body": {"format": 1}, "signature": ')
    assert response.status_code == 400 and response.json()["error"] == "malformed"


@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversized_body_is_refused(live: ThreadServer, chunked: bool) -> None:
    payload = b"x" * (live.ctx.settings.max_body_bytes + 1)
    data: Any = (
        iter([payload[i : i + 65536] for i in range(0, len(payload), 65536)])
        if chunked
        else payload
    )
    response = requests.post(live.url + "/api/v1/enrol", data=data, timeout=10)
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_invitations_are_single_device_and_unknown_ones_refused(
    live: ThreadServer, make_engine: Any
) -> None:
    invitation = live.invite()
    first, second = make_engine("first"), make_engine("second")
    first.enrol(live.url, invitation["invitation"])
    first.enrol(live.url, invitation["invitation"])  # the same device again is fine
    with pytest.raises(ServerRefused) as refused:
        second.enrol(live.url, invitation["invitation"])
    assert refused.value.status == 409 and "another device" in str(refused.value)
    with pytest.raises(ServerRefused) as unknown:
        second.enrol(live.url, "ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    assert unknown.value.status == 404


def test_one_device_cannot_reach_anothers_sitting_result_or_certificate(
    live: ThreadServer, make_engine: Any
) -> None:
    owner, submission_id, _ = sealed_document(make_engine, live)
    owner.sync()
    sitting_id = owner.sittings()[0]["id"]
    other = make_engine("other")
    other.enrol(live.url, live.invite()["invitation"])
    api = other.api()
    for method, route in [
        ("POST", f"/sittings/{sitting_id}/package"),
        ("POST", f"/sittings/{sitting_id}/start"),
        ("GET", f"/results/{submission_id}"),
        ("GET", f"/results/{submission_id}/certificate"),
    ]:
        with pytest.raises(ServerRefused) as refused:
            api.request(method, route)
        assert refused.value.status == 404, route
    anonymous = ApiClient(live.url)
    with pytest.raises(ServerRefused) as refused:
        anonymous.request("GET", f"/results/{submission_id}")
    assert refused.value.status == 401


def test_offline_sitting_code_is_never_released_online(
    live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    sitting = engine.enrol(live.url, live.invite(offline=True)["invitation"])
    engine.download(sitting["id"])
    with pytest.raises(ServerRefused) as refused:
        engine.release_code(sitting["id"])
    assert refused.value.status == 403 and "proctor" in str(refused.value)


def test_the_same_package_is_served_on_every_download(live: ThreadServer, make_engine: Any) -> None:
    engine = make_engine()
    sitting = engine.enrol(live.url, live.invite()["invitation"])
    engine.download(sitting["id"])
    chain = engine.journal(sitting["id"]).chain_public
    assert chain is not None
    assert engine.api().package(sitting["id"], chain) == engine.state.package(sitting["id"])
    with pytest.raises(ServerRefused) as other:  # another chain for the same sitting: refused
        engine.api().package(sitting["id"], crypto.b64encode(bytes(range(32))))
    assert other.value.status == 409 and other.value.code == "downloaded_elsewhere"


def test_openapi_document_describes_the_api(live: ThreadServer) -> None:
    spec = requests.get(live.url + "/openapi.json", timeout=5).json()
    assert spec["openapi"].startswith("3.")
    assert spec["servers"] == [{"url": live.ctx.settings.public_url + "/api/v1"}]
    for path in ("/enrol", "/submissions", "/verify/{code}", "/sittings/{sitting_id}/package"):
        assert path in spec["paths"], path
    assert "requestBody" in spec["paths"]["/enrol"]["post"]
