"""The employer API over real HTTP, on SQLite and PostgreSQL: signing in (password, TOTP),
API tokens, assessments from draft to retired, invitations one by one and from a CSV roster,
e-mail through a real SMTP server, resend and revoke, and the audit log."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
import requests
from sqlalchemy import func, select

from server import accounts, audit, db
from server.context import wall_ms
from tests.conftest import Mailbox, ThreadServer

PASSWORD = "correct horse battery staple"


def _org(live: ThreadServer, name: str = "Acme Hiring") -> dict[str, Any]:
    return accounts.create_organisation(live.ctx, name)


def _member(live: ThreadServer, org: dict[str, Any], role: str, email: str | None = None) -> str:
    email = email or f"{role}@{org['slug']}.example"
    accounts.add_member(
        live.ctx, accounts.operator(), org["id"], email, role, role.title(), PASSWORD
    )
    return email


def sign_in(live: ThreadServer, email: str, **extra: Any) -> dict[str, str]:
    answer = requests.post(
        f"{live.url}/api/v1/sessions",
        json={"email": email, "password": PASSWORD, **extra},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def api(live: ThreadServer, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
    return requests.request(method, f"{live.url}/api/v1{path}", headers=headers, timeout=20, **kw)


def test_sign_in_with_a_password_then_with_a_second_factor(mailed_live: ThreadServer) -> None:
    live = mailed_live
    org = _org(live)
    email = _member(live, org, "owner")
    wrong = requests.post(
        f"{live.url}/api/v1/sessions",
        json={"email": email, "password": "not it at all"},
        timeout=10,
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "wrong_credentials"
    unknown = requests.post(
        f"{live.url}/api/v1/sessions", json={"email": "no@one.example", "password": PASSWORD},
        timeout=10,
    )  # fmt: skip
    assert unknown.status_code == 401 and unknown.json()["message"] == wrong.json()["message"]

    headers = sign_in(live, email)
    me = api(live, "GET", "/me", headers).json()
    assert me["email"] == email and me["organisations"][0]["role"] == "owner"
    assert me["two_factor"] is False

    offer = api(live, "POST", "/me/totp", headers).json()
    assert offer["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(offer["secret"])
    now_s = wall_ms() // 1000
    valid = {totp.at(now_s + d) for d in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    refused = api(live, "POST", "/me/totp/confirm", headers, json={"code": wrong})
    assert refused.status_code == 400 and refused.json()["error"] == "wrong_totp"
    assert (
        api(live, "POST", "/me/totp/confirm", headers, json={"code": totp.now()}).status_code == 204
    )

    needs_code = requests.post(
        f"{live.url}/api/v1/sessions", json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert needs_code.status_code == 401 and needs_code.json()["error"] == "totp_required"
    # The code that confirmed the factor has been used: it does not sign in again.
    reused = requests.post(
        f"{live.url}/api/v1/sessions",
        json={"email": email, "password": PASSWORD, "totp": totp.now()},
        timeout=10,
    )
    assert reused.status_code == 401 and reused.json()["error"] == "wrong_totp"
    live.ctx.now_ms = lambda: wall_ms() + 60_000  # type: ignore[method-assign]
    later = totp.at(wall_ms() // 1000 + 60)
    assert sign_in(live, email, totp=later)

    assert api(live, "DELETE", "/sessions/current", headers).status_code == 204
    assert api(live, "GET", "/me", headers).status_code == 401


def test_an_api_token_is_shown_once_scoped_recorded_and_revocable(live: ThreadServer) -> None:
    org = _org(live)
    owner = sign_in(live, _member(live, org, "owner"))
    made = api(
        live, "POST", f"/orgs/{org['id']}/tokens", owner,
        json={"name": "Greenhouse", "scopes": ["results:read"]},
    )  # fmt: skip
    assert made.status_code == 201
    token = made.json()["token"]
    assert token.startswith("egt_")
    listed = api(live, "GET", f"/orgs/{org['id']}/tokens", owner).json()["items"]
    assert [t["name"] for t in listed] == ["Greenhouse"] and "token" not in listed[0]
    assert listed[0]["last_used_ms"] is None
    with live.ctx.reader.connect() as connection:  # only a hash is kept
        stored = connection.execute(select(db.api_tokens.c.secret_sha256)).scalar_one()
    assert token.rsplit("_", 1)[1] not in stored

    bearer = {"Authorization": f"Bearer {token}"}
    assert api(live, "GET", f"/orgs/{org['id']}/assessments", bearer).status_code == 200
    refused = api(
        live, "POST", f"/orgs/{org['id']}/invitations", bearer,
        json={"assessment_id": "x", "name": "A"},
    )  # fmt: skip
    assert refused.status_code == 403
    used = api(live, "GET", f"/orgs/{org['id']}/tokens", owner).json()["items"][0]
    assert used["last_used_ms"] is not None

    assert api(live, "DELETE", f"/orgs/{org['id']}/tokens/{used['id']}", owner).status_code == 204
    assert api(live, "GET", f"/orgs/{org['id']}/assessments", bearer).status_code == 401
    actions = [
        e["action"] for e in api(live, "GET", f"/orgs/{org['id']}/audit", owner).json()["items"]
    ]
    assert actions[-2:] == ["token.create", "token.revoke"]


def _published(
    live: ThreadServer, org: dict[str, Any], headers: dict[str, str], **body: Any
) -> dict[str, Any]:
    made = api(
        live, "POST", f"/orgs/{org['id']}/assessments", headers,
        json={"title": "Machine learning engineer", "per_category": {"foundations": 4, "cnn": 3},
              "policy": "strict", **body},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    assessment = made.json()
    assert assessment["status"] == "draft"
    published = api(
        live, "POST", f"/orgs/{org['id']}/assessments/{assessment['id']}/publish", headers
    )
    assert published.status_code == 200 and published.json()["status"] == "published"
    return published.json()


def test_an_assessment_goes_from_draft_to_published_to_retired(live: ThreadServer) -> None:
    org = _org(live)
    recruiter = sign_in(live, _member(live, org, "recruiter"))
    too_many = api(
        live, "POST", f"/orgs/{org['id']}/assessments", recruiter,
        json={"title": "Too big", "per_category": {"cnn": 40}},
    )  # fmt: skip
    assert too_many.status_code == 400 and too_many.json()["error"] == "bank_too_small"
    made = api(
        live, "POST", f"/orgs/{org['id']}/assessments", recruiter,
        json={"title": "Draft one", "per_category": {"cnn": 3}},
    ).json()  # fmt: skip
    early = api(
        live, "POST", f"/orgs/{org['id']}/invitations", recruiter,
        json={"assessment_id": made["id"], "name": "Early Bird"},
    )  # fmt: skip
    assert early.status_code == 409 and early.json()["error"] == "not_published"

    assessment = _published(live, org, recruiter)
    assert assessment["policy"]["vm"] == "block"  # the strict preset
    retired = api(
        live, "POST", f"/orgs/{org['id']}/assessments/{assessment['id']}/retire", recruiter
    )
    assert retired.json()["status"] == "retired"
    again = api(
        live, "POST", f"/orgs/{org['id']}/assessments/{assessment['id']}/publish", recruiter
    )
    assert again.status_code == 409


def test_an_invitation_is_emailed_with_its_code_and_never_the_unlock_code(
    mailed_live: ThreadServer, mailbox: Mailbox, make_engine: Any
) -> None:
    live = mailed_live
    org = _org(live)
    recruiter = sign_in(live, _member(live, org, "recruiter"))
    assessment = _published(live, org, recruiter, supervised=True)
    sent = api(
        live, "POST", f"/orgs/{org['id']}/invitations", recruiter,
        json={"assessment_id": assessment["id"], "name": "Grace Hopper",
              "email": "Grace@Example.org", "extra_time": 15},
    )  # fmt: skip
    assert sent.status_code == 201, sent.text
    invitation = sent.json()
    assert invitation["emailed"] and "unlock_code" not in invitation  # a recruiter's view
    [message] = mailbox.wait_for("grace@example.org")
    text = message.get_content()
    assert invitation["invitation"] in text and live.ctx.settings.public_url in text
    assert "Acme Hiring" in message["Subject"] and "(23 minutes)" in text  # 8 + 15 extra
    with live.ctx.reader.connect() as connection:
        sitting = (
            connection.execute(
                select(db.sittings).where(db.sittings.c.id == invitation["sitting_id"])
            )
            .mappings()
            .one()
        )
    assert sitting["unlock_code"] not in text and sitting["extra_time_s"] == 900
    deadline = time.monotonic() + 10
    while True:  # the job marks it sent just after the relay accepted it
        with live.ctx.reader.connect() as connection:
            state, body = connection.execute(select(db.emails.c.state, db.emails.c.body)).one()
        if state == "sent" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (state, body) == ("sent", None)  # the body, with its code, dropped once sent

    engine = make_engine()
    enrolled = engine.enrol(live.url, invitation["invitation"])
    assert enrolled["candidate"] == "Grace Hopper"

    proctor = sign_in(live, _member(live, org, "proctor"))
    code = api(
        live, "GET", f"/orgs/{org['id']}/sittings/{invitation['sitting_id']}/unlock-code", proctor
    )
    assert code.json()["unlock_code"] == sitting["unlock_code"]


def test_a_roster_with_bad_lines_imports_nothing_and_names_every_line(
    mailed_live: ThreadServer, mailbox: Mailbox
) -> None:
    live = mailed_live
    org = _org(live)
    recruiter = sign_in(live, _member(live, org, "recruiter"))
    assessment = _published(live, org, recruiter)
    path = f"/orgs/{org['id']}/assessments/{assessment['id']}/roster"
    bad = (
        "\ufeffName;E-mail;Extra time;Mode\n"
        "Ada Lovelace;ada@example.org;0;online\n"
        ";nobody@example.org;0;online\n"
        "Alan Turing;not-an-address;0;online\n"
        "Edsger Dijkstra;ada@example.org;10;online\n"
        "Barbara Liskov;barbara@example.org;ten;online\n"
        "Donald Knuth;don@example.org;0;remote\n"
    )
    refused = api(live, "POST", path, recruiter, data=bad.encode())
    assert refused.status_code == 422
    lines = [e["line"] for e in refused.json()["errors"]]
    assert lines == [3, 4, 5, 6, 7]
    assert "Line 5: ada@example.org is already on line 2." in refused.json()["message"]
    with live.ctx.reader.connect() as connection:
        assert (
            connection.execute(
                select(func.count())
                .select_from(db.sittings)
                .where(db.sittings.c.assessment_id == assessment["id"])
            ).scalar()
            == 0
        )

    good = (
        "name,email,extra time,mode\n"
        "Ada Lovelace,ada@example.org,0,online\n"
        "Alan Turing,alan@example.org,30,supervised\n"
    )
    preview = api(live, "POST", path + "?dry_run=true", recruiter, data=good.encode())
    assert preview.status_code == 200 and [r["line"] for r in preview.json()["rows"]] == [2, 3]
    assert preview.json()["invitations"] == []
    imported = api(live, "POST", path, recruiter, data=good.encode())
    assert imported.status_code == 201
    assert [i["candidate"] for i in imported.json()["invitations"]] == [
        "Ada Lovelace",
        "Alan Turing",
    ]
    assert mailbox.wait_for("alan@example.org") and mailbox.wait_for("ada@example.org")
    listed = api(live, "GET", f"/orgs/{org['id']}/invitations", recruiter).json()["items"]
    assert {(i["candidate"], i["mode"], i["status"]) for i in listed} == {
        ("Ada Lovelace", "online", "invited"),
        ("Alan Turing", "supervised", "invited"),
    }


def test_resend_gives_a_new_code_and_revoke_stops_enrolment(
    mailed_live: ThreadServer, mailbox: Mailbox, make_engine: Any
) -> None:
    live = mailed_live
    org = _org(live)
    recruiter = sign_in(live, _member(live, org, "recruiter"))
    assessment = _published(live, org, recruiter)
    first = api(
        live, "POST", f"/orgs/{org['id']}/invitations", recruiter,
        json={"assessment_id": assessment["id"], "name": "Ada", "email": "ada@example.org"},
    ).json()  # fmt: skip
    assert api(
        live, "POST", f"/orgs/{org['id']}/invitations/{first['sitting_id']}/resend", recruiter
    ).ok
    old, new = mailbox.wait_for("ada@example.org", 2)
    assert first["invitation"] in old.get_content()
    assert first["invitation"] not in new.get_content()

    engine = make_engine()
    with pytest.raises(Exception, match="not valid"):
        engine.enrol(live.url, first["invitation"])
    assert (
        api(
            live, "DELETE", f"/orgs/{org['id']}/invitations/{first['sitting_id']}", recruiter
        ).status_code
        == 204
    )
    fresh_code = next(
        line.strip().split()[-1]
        for line in new.get_content().splitlines()
        if "Invitation code" in line
    )
    with pytest.raises(Exception, match="not valid"):
        engine.enrol(live.url, fresh_code)
    listed = api(live, "GET", f"/orgs/{org['id']}/invitations", recruiter).json()["items"]
    assert listed[0]["status"] == "revoked"


def test_a_new_member_chooses_a_password_with_an_emailed_code(
    mailed_live: ThreadServer, mailbox: Mailbox
) -> None:
    live = mailed_live
    org = _org(live)
    owner = sign_in(live, _member(live, org, "owner"))
    added = api(
        live, "POST", f"/orgs/{org['id']}/members", owner,
        json={"email": "new.recruiter@example.org", "role": "recruiter", "name": "New Recruiter"},
    )  # fmt: skip
    assert added.status_code == 201 and added.json()["created"]
    [welcome] = mailbox.wait_for("new.recruiter@example.org")
    code = next(
        line.strip() for line in welcome.get_content().splitlines()
        if line.startswith("    ") and line.strip()
    )  # fmt: skip
    weak = requests.post(
        f"{live.url}/api/v1/password/choose", json={"code": code, "password": "short"}, timeout=10
    )
    assert weak.status_code == 400 and weak.json()["error"] == "weak_password"
    chosen = requests.post(
        f"{live.url}/api/v1/password/choose", json={"code": code, "password": PASSWORD}, timeout=10
    )
    assert chosen.status_code == 204
    assert sign_in(live, "new.recruiter@example.org")
    again = requests.post(
        f"{live.url}/api/v1/password/choose", json={"code": code, "password": PASSWORD}, timeout=10
    )
    assert again.status_code == 400  # used once
    # Asking for a code for an address with no account answers the same as for one with it.
    for address in ("new.recruiter@example.org", "nobody@example.org"):
        asked = requests.post(
            f"{live.url}/api/v1/password/code", json={"email": address}, timeout=10
        )
        assert asked.status_code == 202
    assert len(mailbox.wait_for("new.recruiter@example.org", 2)) == 2
    assert mailbox.to("nobody@example.org") == []
    last_owner = api(live, "POST", f"/orgs/{org['id']}/members", owner,
                     json={"email": f"owner@{org['slug']}.example", "role": "viewer"})  # fmt: skip
    assert last_owner.status_code == 409 and last_owner.json()["error"] == "last_owner"


def test_the_operator_creates_organisations_members_and_tokens_from_the_shell(
    server_settings: Any, tmp_path: Any
) -> None:
    import json
    import subprocess

    from tests.conftest import venv_bin

    data = ["--data", str(server_settings.data_dir)]

    def run(*args: str, stdin: str | None = None) -> Any:
        done = subprocess.run(
            [venv_bin("examgate-server"), *args, *data, "--json"],
            input=stdin, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    org = run("org", "create", "--name", "Initech Talent")
    assert org["slug"] == "initech-talent"
    assert [o["slug"] for o in run("org", "list")] == ["demo-employer", "initech-talent"]
    member = run(
        "user", "add", "--org", "initech-talent", "--email", "Peter@Initech.example",
        "--role", "owner", "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert member == {
        "user_id": member["user_id"], "email": "peter@initech.example", "role": "owner",
        "created": True,
    }  # fmt: skip
    token = run("token", "create", "--org", "initech-talent", "--name", "ATS", "--scope", "invite")
    assert token["token"].startswith("egt_") and token["scopes"] == ["invite"]
    revoked = run("token", "revoke", "--org", "initech-talent", "--id", token["id"])
    assert revoked == {"revoked": token["id"]}
    refused = subprocess.run(
        [venv_bin("examgate-server"), "user", "add", *data, "--org", "initech-talent",
         "--email", "x@initech.example", "--role", "viewer", "--password-stdin"],
        input="short\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 1 and "12 to 200 characters" in refused.stderr
    from server.context import Context

    ctx = Context.open(server_settings)
    try:
        entries = [e["action"] for e in audit.entries(ctx, org["id"])]
    finally:
        ctx.dispose()
    assert entries == ["organisation.create", "member.set", "token.create", "token.revoke"]
