"""Results for employers over real HTTP, on SQLite and PostgreSQL: consent chosen before the
clock (given, refused, not asked), granted and revoked later by the candidate, what the
employer sees in each case, filters and CSV, the integrity timeline, review (clear and void,
which revokes the certificate), and every read audited."""

from __future__ import annotations

import csv
import io
from typing import Any

import requests
from sqlalchemy import select

from client.engine import Engine
from server import db
from server.employer_results import CSV_COLUMNS
from shared.models import LEVELS
from tests.conftest import ThreadServer
from tests.helpers import settle_jobs, signed_headers, sit
from tests.server.test_employers import _member, _org, _published, api, sign_in


def _invite(live: ThreadServer, org: dict[str, Any], headers: dict[str, str], **body: Any) -> Any:
    sent = api(
        live, "POST", f"/orgs/{org['id']}/invitations", headers,
        json={"name": "Grace Hopper", "email": "grace@example.org", "send_email": False, **body},
    )  # fmt: skip
    assert sent.status_code == 201, sent.text
    return sent.json()


def _sat(live: ThreadServer, engine: Engine, invitation: dict[str, Any], share: bool | None) -> str:
    session = sit(engine, live.url, invitation, share=share)
    submission_id = engine.seal(session)
    assert [d.submission_id for d in engine.sync()] == [submission_id]
    return submission_id


def _results(live: ThreadServer, org: dict[str, Any], headers: dict[str, str], **query: str) -> Any:
    answer = api(live, "GET", f"/orgs/{org['id']}/results", headers, params=query)
    assert answer.status_code == 200, answer.text
    return answer.json()["items"]


def _device(live: ThreadServer, engine: Engine, method: str, path: str, body: Any = None) -> Any:
    raw = b"" if body is None else requests.models.complexjson.dumps(body).encode()
    target = f"/api/v1{path}"
    headers = signed_headers(engine.enrolment().device_id, engine.keys.signing, method, target, raw)
    return requests.request(method, live.url + target, headers=headers, data=raw, timeout=20)


def test_consent_given_refused_and_revoked(live: ThreadServer, make_engine: Any) -> None:
    org = _org(live)
    recruiter = sign_in(live, _member(live, org, "recruiter"))
    assessment = _published(live, org, recruiter, policy="open")
    yes, no, unasked = (
        _invite(live, org, recruiter, assessment_id=assessment["id"], name=name)
        for name in ("Ada Shared", "Brian Private", "Cleo Unasked")
    )
    engines = {name: make_engine(name) for name in ("yes", "no", "unasked")}
    header = engines["yes"].enrol(live.url, yes["invitation"])
    engines["yes"].download(header["id"])
    downloaded = engines["yes"].header(header["id"])
    assert downloaded.ask_consent and downloaded.organisation == "Acme Hiring"
    shared_id = _sat(live, engines["yes"], yes, share=True)
    private_id = _sat(live, engines["no"], no, share=False)
    _sat(live, engines["unasked"], unasked, share=None)

    rows = {row["candidate_name"]: row for row in _results(live, org, recruiter)}
    assert set(rows) == {"Ada Shared", "Brian Private", "Cleo Unasked"}
    shared = rows["Ada Shared"]
    assert shared["shared"] and shared["share_source"] == "sitting"
    assert shared["overall"] in LEVELS
    assert set(shared["categories"]) and shared["integrity"] == "clean"
    for hidden in (rows["Brian Private"], rows["Cleo Unasked"]):
        assert hidden["shared"] is False
        assert not {"overall", "categories", "integrity", "confidence"} & set(hidden)
        detail = api(live, "GET", f"/orgs/{org['id']}/results/{hidden['result_id']}", recruiter)
        assert detail.status_code == 200 and "overall" not in detail.json()
        assert "timeline" not in detail.json()
        pdf = api(
            live, "GET", f"/orgs/{org['id']}/results/{hidden['result_id']}/certificate", recruiter
        )
        assert pdf.status_code == 403 and pdf.json()["error"] == "not_shared"
    # A filter on content matches shared results only: it cannot reveal a hidden level.
    for level in LEVELS:
        names = {row["candidate_name"] for row in _results(live, org, recruiter, level=level)}
        assert names <= {"Ada Shared"}
    assert [r["candidate_name"] for r in _results(live, org, recruiter, shared="false")] != []

    detail = api(live, "GET", f"/orgs/{org['id']}/results/{shared['result_id']}", recruiter)
    body = detail.json()
    assert body["skills"] and body["category_details"] and body["integrity_record"]
    kinds = [event["type"] for event in body["timeline"]]
    assert kinds[0] == "started" and kinds[-1] == "ended" and "answer" not in kinds
    settle_jobs(live.ctx)
    pdf = api(
        live, "GET", f"/orgs/{org['id']}/results/{shared['result_id']}/certificate", recruiter
    )
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    # The candidate who refused changes their mind, then revokes: each takes effect at once.
    granted = _device(
        live, engines["no"], "POST", f"/results/{private_id}/shares", {"organisation": org["slug"]}
    )
    assert granted.status_code == 201, granted.text
    assert _results(live, org, recruiter, shared="true")[0]["candidate_name"] in (
        "Ada Shared", "Brian Private",
    )  # fmt: skip
    assert len(_results(live, org, recruiter, shared="true")) == 2
    listed = _device(live, engines["no"], "GET", f"/results/{private_id}/shares").json()["items"]
    assert [(s["organisation"], s["source"], s["active"]) for s in listed] == [
        (org["slug"], "candidate", True)
    ]
    revoked = _device(live, engines["yes"], "DELETE", f"/results/{shared_id}/shares/{org['slug']}")
    assert revoked.status_code == 204
    rows = {row["candidate_name"]: row for row in _results(live, org, recruiter)}
    assert rows["Ada Shared"]["shared"] is False and rows["Brian Private"]["shared"] is True
    pdf = api(
        live, "GET", f"/orgs/{org['id']}/results/{shared['result_id']}/certificate", recruiter
    )
    assert pdf.status_code == 403
    # A device cannot share another device's result.
    stolen = _device(
        live, engines["unasked"], "POST", f"/results/{shared_id}/shares",
        {"organisation": org["slug"]},
    )  # fmt: skip
    assert stolen.status_code == 404

    owner = sign_in(live, _member(live, org, "owner"))
    actions = [
        e["action"] for e in api(live, "GET", f"/orgs/{org['id']}/audit", owner).json()["items"]
    ]
    assert actions.count("result.read") == 3 and "result.certificate" in actions
    assert "results.list" in actions and "consent.grant" in actions and "consent.revoke" in actions


def test_a_self_registered_candidate_shares_with_a_named_organisation(
    live: ThreadServer, make_engine: Any
) -> None:
    publisher, employer = _org(live, "Open Tests"), _org(live, "Hiring Co")
    owner = sign_in(live, _member(live, publisher, "owner"))
    assessment = _published(live, publisher, owner, policy="open")
    from server import invitations

    with live.ctx.engine.begin() as connection:
        row = (
            connection.execute(
                select(db.assessments).where(db.assessments.c.id == assessment["id"])
            )
            .mappings()
            .one()
        )
        invitation = invitations.new_sitting(
            live.ctx, connection, row, "Dana Self", False, "dana@example.org", kind="self"
        )
    engine = make_engine()
    sitting = engine.enrol(live.url, invitation["invitation"])
    engine.download(sitting["id"])
    assert engine.header(sitting["id"]).ask_consent is False  # nobody invited: nothing to ask
    submission_id = _sat(live, engine, invitation, share=None)
    recruiter = sign_in(live, _member(live, employer, "recruiter"))
    assert _results(live, employer, recruiter) == []  # not shared: not even known
    [own] = _results(live, publisher, owner)
    assert own["shared"] is False  # the publisher sees the sitting was completed, nothing more

    unknown = _device(
        live, engine, "POST", f"/results/{submission_id}/shares", {"organisation": "nope"}
    )
    assert unknown.status_code == 404 and "handle" in unknown.json()["message"]
    shared = _device(
        live, engine, "POST", f"/results/{submission_id}/shares", {"organisation": employer["slug"]}
    )
    assert shared.status_code == 201
    [seen] = _results(live, employer, recruiter)
    assert seen["shared"] and seen["candidate_name"] == "Dana Self" and "overall" in seen
    assert _results(live, publisher, owner)[0]["shared"] is False  # shared with one, not all
    # The employer it was shared with may read it, but reviews belong to the publisher.
    review = api(
        live, "POST", f"/orgs/{employer['id']}/results/{seen['result_id']}/review", recruiter,
        json={"decision": "clear", "note": "looks fine"},
    )  # fmt: skip
    assert review.status_code == 403
    _device(live, engine, "DELETE", f"/results/{submission_id}/shares/{employer['slug']}")
    assert _results(live, employer, recruiter) == []


def test_review_clears_or_voids_a_flagged_result_and_a_void_revokes_the_certificate(
    live: ThreadServer, make_engine: Any
) -> None:
    org = _org(live)
    recruiter = sign_in(live, _member(live, org, "recruiter"))
    viewer = sign_in(live, _member(live, org, "viewer"))
    strict = _published(live, org, recruiter, policy="strict")  # no lockdown here: flagged
    first, second = (
        _invite(live, org, recruiter, assessment_id=strict["id"], name=name)
        for name in ("Eve Flagged", "Finn Flagged")
    )
    first_id = _sat(live, make_engine("a"), first, share=True)
    engine = make_engine("b")
    second_id = _sat(live, engine, second, share=True)
    flagged = _results(live, org, recruiter, integrity="flagged")
    assert {row["candidate_name"] for row in flagged} == {"Eve Flagged", "Finn Flagged"}
    by_name = {row["candidate_name"]: row["result_id"] for row in flagged}
    path = f"/orgs/{org['id']}/results"

    no_note = api(live, "POST", f"{path}/{by_name['Eve Flagged']}/review", recruiter,
                  json={"decision": "clear"})  # fmt: skip
    assert no_note.status_code == 400 and "note" in no_note.json()["message"]
    forbidden = api(live, "POST", f"{path}/{by_name['Eve Flagged']}/review", viewer,
                    json={"decision": "clear", "note": "Proctor saw no issue."})  # fmt: skip
    assert forbidden.status_code == 403
    cleared = api(live, "POST", f"{path}/{by_name['Eve Flagged']}/review", recruiter,
                  json={"decision": "clear", "note": "Proctor saw no issue."})  # fmt: skip
    assert cleared.status_code == 200 and cleared.json()["review"] == "cleared"
    voided = api(live, "POST", f"{path}/{by_name['Finn Flagged']}/review", recruiter,
                 json={"decision": "void", "note": "A second screen was in use."})  # fmt: skip
    assert voided.status_code == 200 and voided.json()["review"] == "voided"
    again = api(live, "POST", f"{path}/{by_name['Finn Flagged']}/review", recruiter,
                json={"decision": "clear", "note": "changed my mind"})  # fmt: skip
    assert again.status_code == 409 and again.json()["error"] == "already_voided"
    assert [r["candidate_name"] for r in _results(live, org, recruiter, review="voided")] == [
        "Finn Flagged"
    ]
    detail = api(live, "GET", f"{path}/{by_name['Eve Flagged']}", recruiter).json()
    assert detail["review"] == "cleared" and detail["review_note"] == "Proctor saw no issue."

    settle_jobs(live.ctx)
    assert (
        api(live, "GET", f"{path}/{by_name['Finn Flagged']}/certificate", recruiter).status_code
        == 410
    )
    assert (
        api(live, "GET", f"{path}/{by_name['Eve Flagged']}/certificate", recruiter).status_code
        == 200
    )
    device_pdf = _device(live, engine, "GET", f"/results/{second_id}/certificate")
    assert device_pdf.status_code == 410 and "voided" in device_pdf.json()["message"]
    with live.ctx.reader.connect() as connection:
        codes = dict(
            connection.execute(
                select(db.results.c.submission_id, db.results.c.verification_code)
            ).all()
        )
    revoked = requests.get(f"{live.url}/verify/{codes[second_id]}", timeout=10)
    assert "Revoked certificate" in revoked.text and "Finn" not in revoked.text
    as_json = requests.get(f"{live.url}/api/v1/verify/{codes[second_id]}", timeout=10).json()
    assert as_json["revoked"] is True and as_json["genuine"] is True
    fine = requests.get(f"{live.url}/verify/{codes[first_id]}", timeout=10)
    assert "Genuine certificate" in fine.text and "Eve Flagged" in fine.text

    clean_org_assessment = _published(live, org, recruiter, policy="open", title="Open one")
    clean = _invite(live, org, recruiter, assessment_id=clean_org_assessment["id"], name="Gil")
    _sat(live, make_engine("c"), clean, share=True)
    [gil] = [r for r in _results(live, org, recruiter) if r["candidate_name"] == "Gil"]
    refused = api(live, "POST", f"{path}/{gil['result_id']}/review", recruiter,
                  json={"decision": "void", "note": "no reason"})  # fmt: skip
    assert refused.status_code == 409 and refused.json()["error"] == "not_flagged"


def test_results_export_as_csv_safe_for_spreadsheets(live: ThreadServer, make_engine: Any) -> None:
    org = _org(live)
    recruiter = sign_in(live, _member(live, org, "recruiter"))
    assessment = _published(live, org, recruiter, policy="open")
    hostile = _invite(live, org, recruiter, assessment_id=assessment["id"], name="=HYPERLINK(1)")
    quiet = _invite(live, org, recruiter, assessment_id=assessment["id"], name="Quiet One")
    _sat(live, make_engine("a"), hostile, share=True)
    _sat(live, make_engine("b"), quiet, share=False)
    answer = api(live, "GET", f"/orgs/{org['id']}/results.csv", recruiter)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    by_name = {row["candidate_name"]: row for row in rows}
    assert set(by_name) == {"'=HYPERLINK(1)", "Quiet One"}  # a formula is never a formula
    assert by_name["'=HYPERLINK(1)"]["shared"] == "true" and by_name["'=HYPERLINK(1)"]["overall"]
    assert by_name["Quiet One"]["shared"] == "false" and by_name["Quiet One"]["overall"] == ""
    categories = [name for name in rows[0] if name not in CSV_COLUMNS]
    assert categories  # one column per category, after the fixed ones
    assert by_name["'=HYPERLINK(1)"][categories[0]] in LEVELS
    assert all(by_name["Quiet One"][name] == "" for name in (*categories, "integrity"))
    bad = api(live, "GET", f"/orgs/{org['id']}/results.csv", recruiter, params={"level": "expert"})
    assert bad.status_code == 400 and "level" in bad.json()["message"]
    dated = _results(live, org, recruiter, **{"from": "2999-01-01"})
    assert dated == []


def test_an_unknown_result_and_another_organisations_result_are_not_found(
    live: ThreadServer, make_engine: Any
) -> None:
    org, other = _org(live), _org(live, "Elsewhere")
    recruiter = sign_in(live, _member(live, org, "recruiter"))
    assessment = _published(live, org, recruiter, policy="open")
    invitation = _invite(live, org, recruiter, assessment_id=assessment["id"])
    _sat(live, make_engine(), invitation, share=True)
    [row] = _results(live, org, recruiter)
    stranger = sign_in(live, _member(live, other, "owner", "owner@elsewhere.example"))
    for path in ("", "/certificate"):
        seen = api(live, "GET", f"/orgs/{other['id']}/results/{row['result_id']}{path}", stranger)
        assert seen.status_code == 404
    assert _results(live, other, stranger) == []
    assert api(live, "GET", f"/orgs/{org['id']}/results/nope", recruiter).status_code == 404
