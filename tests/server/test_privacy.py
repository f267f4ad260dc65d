"""Data rights on SQLite and PostgreSQL: a candidate's data exported, then erased so that no
table holds their name or e-mail any more (every column of every row searched), while the
item responses stay for item statistics; retention erases on its own, run by its job."""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from sqlalchemy import select, text

from server import db, jobs, retention
from server.bank.responses import stored_responses
from tests.conftest import Mailbox, ThreadServer
from tests.helpers import queued, run_queued, settle_jobs, sit
from tests.server.test_employers import _member, _org, _published, api, sign_in

NAME = "Zelda Quixote-Erasure"
EMAIL = "zelda.quixote@erase.example"


def _everything(live: ThreadServer) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text or binary value in the database."""
    found = []
    with live.ctx.reader.connect() as connection:
        names = list(db.metadata.tables)
        if connection.dialect.name == "postgresql":
            names += ["procrastinate_jobs", "procrastinate_events"]
        for name in names:
            for row in connection.execute(text(f"SELECT * FROM {name}")).mappings():  # noqa: S608
                for column, value in row.items():
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("latin-1")
                    if value is not None and not isinstance(value, int | float | bool):
                        found.append((name, column, str(value)))
    return found


def _mentions(live: ThreadServer, *needles: str) -> list[tuple[str, str]]:
    lowered = [n.lower() for n in needles]
    return sorted(
        {(table, column) for table, column, value in _everything(live)
         if any(n in value.lower() for n in lowered)}
    )  # fmt: skip


def test_export_then_erasure_leaves_no_personal_data(
    mailed_live: ThreadServer, mailbox: Mailbox, make_engine: Any
) -> None:
    live = mailed_live
    org = _org(live)
    owner = sign_in(live, _member(live, org, "owner"))
    assessment = _published(live, org, owner, policy="strict", self_registration=True)
    invited = api(
        live, "POST", f"/orgs/{org['id']}/invitations", owner,
        json={"assessment_id": assessment["id"], "name": NAME, "email": EMAIL},
    ).json()  # fmt: skip
    mailbox.wait_for(EMAIL)
    asked = api(live, "POST", f"/self-registration/{assessment['slug']}/code", {},
                json={"name": NAME, "email": EMAIL})  # fmt: skip
    assert asked.status_code == 202
    mailbox.wait_for(EMAIL, 2)
    engine = make_engine()
    engine.seal(sit(engine, live.url, invited, share=True))
    engine.sync()
    settle_jobs(live.ctx)  # the certificate, with the name on it
    with live.ctx.reader.connect() as connection:
        before = stored_responses(connection, assessment["id"])
        code = connection.execute(select(db.results.c.verification_code)).scalar_one()
    assert before and _mentions(live, NAME, EMAIL)  # it was all there

    viewer = sign_in(live, _member(live, org, "viewer"))
    path = f"/orgs/{org['id']}/candidates"
    assert api(live, "GET", f"{path}/export", viewer, params={"email": EMAIL}).status_code == 403
    exported = api(live, "GET", f"{path}/export", owner, params={"email": EMAIL.upper()})
    assert exported.status_code == 200
    data = exported.json()
    [sitting] = data["sittings"]
    assert sitting["candidate_name"] == NAME and sitting["result"]["report"]["overall"]
    assert sitting["submission"]["body"]["events"] and sitting["shares"]
    assert {m["kind"] for m in data["emails"]} == {"invitation", "verification"}

    erased = api(live, "POST", f"{path}/erase", owner, json={"email": EMAIL})
    assert erased.status_code == 200 and erased.json()["erased"] == 1
    assert _mentions(live, NAME, EMAIL, "Zelda", "Quixote") == []
    with live.ctx.reader.connect() as connection:
        after = stored_responses(connection, assessment["id"])
    assert after == before  # the responses stay, for item statistics
    [row] = api(live, "GET", f"/orgs/{org['id']}/results", owner).json()["items"]
    assert row["candidate_name"] == "(erased)" and row["shared"] is False
    verify = api(live, "GET", f"/verify/{code}", {}).json()
    assert verify["revoked"] is True and "erased" in verify["revoked_reason"]
    assert "candidate" not in verify
    again = api(live, "GET", f"{path}/export", owner, params={"email": EMAIL}).json()
    assert again["sittings"] == [] and again["emails"] == []
    exported_log = api(live, "GET", f"/orgs/{org['id']}/audit.csv", owner)
    assert exported_log.status_code == 200
    logged = list(csv.DictReader(io.StringIO(exported_log.content.decode("utf-8-sig"))))
    assert [row["action"] for row in logged if row["action"].startswith("candidate.")] == [
        "candidate.export", "candidate.erase", "candidate.export",
    ]  # fmt: skip
    assert all(row["at"].endswith("+00:00") and row["actor"] for row in logged)
    entries = api(live, "GET", f"/orgs/{org['id']}/audit", owner).json()["items"]
    assert [e["action"] for e in entries if e["action"].startswith("candidate.")] == [
        "candidate.export", "candidate.erase", "candidate.export",
    ]  # fmt: skip


def test_retention_erases_when_the_period_has_run_out(live: ThreadServer, make_engine: Any) -> None:
    org, keeper = _org(live), _org(live, "Keeps Everything")
    owner = sign_in(live, _member(live, org, "owner"))
    bad = api(live, "PUT", f"/orgs/{org['id']}/retention", owner, json={"days": 0})
    assert bad.status_code == 400
    recruiter = sign_in(live, _member(live, org, "recruiter"))
    assert api(live, "PUT", f"/orgs/{org['id']}/retention", recruiter,
               json={"days": 30}).status_code == 403  # fmt: skip
    assert api(live, "PUT", f"/orgs/{org['id']}/retention", owner, json={"days": 30}).json() == {
        "retention_days": 30
    }
    keeper_owner = sign_in(live, _member(live, keeper, "owner", "o@keeper.example"))
    for organisation, headers, name in ((org, owner, NAME), (keeper, keeper_owner, "Kept Kim")):
        assessment = _published(live, organisation, headers, policy="open", title=name)
        invited = api(
            live, "POST", f"/orgs/{organisation['id']}/invitations", headers,
            json={"assessment_id": assessment["id"], "name": name, "send_email": False},
        ).json()  # fmt: skip
        engine = make_engine(name.split()[0])
        engine.seal(sit(engine, live.url, invited))
        engine.sync()

    real_now = live.ctx.now_ms
    assert retention.apply_retention(live.ctx) == 0  # nothing is due yet
    live.ctx.now_ms = lambda: real_now() + 31 * 86_400_000
    try:
        jobs.schedule_periodic(live.ctx)
        assert queued(live.ctx, "retention") + queued(live.ctx, "retention", every=True) >= 1
        deadline = time.monotonic() + 30
        while queued(live.ctx, "retention") and time.monotonic() < deadline:
            run_queued(live.ctx)  # the hourly job (or the live worker takes it)
            time.sleep(0.1)
        assert queued(live.ctx, "retention") == 0
        assert retention.apply_retention(live.ctx) == 0  # all done: a rerun erases nothing
    finally:
        live.ctx.now_ms = real_now
    with live.ctx.reader.connect() as connection:
        names = set(connection.execute(select(db.sittings.c.candidate_name)).scalars())
    assert names == {"(erased)", "Kept Kim"}
    entries = api(live, "GET", f"/orgs/{org['id']}/audit", owner).json()["items"]
    erasure = [e for e in entries if e["action"] == "candidate.erase"]
    assert erasure and erasure[0]["actor"] == "retention"
    assert erasure[0]["details"]["reason"] == "retention"


def test_the_operator_exports_and_erases_from_the_shell(
    sqlite_live: ThreadServer, capsys: Any
) -> None:
    import json

    from server import accounts, roster
    from server.cli import main

    live = sqlite_live
    org = _org(live, "Shell Org")
    owner = sign_in(live, _member(live, org, "owner"))
    assessment = _published(live, org, owner, policy="open")
    roster.invite(
        live.ctx, accounts.operator(), org["id"],
        {"assessment_id": assessment["id"], "name": NAME, "email": EMAIL, "send_email": False},
    )  # fmt: skip
    data = str(live.ctx.settings.data_dir)
    assert main(["candidate", "export", "--data", data, "--email", EMAIL, "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert [s["candidate_name"] for s in exported["sittings"]] == [NAME]
    assert main(["candidate", "erase", "--data", data, "--email", EMAIL, "--org", "shell-org"]) == 0
    assert "1 sitting" in capsys.readouterr().out
    assert _mentions(live, NAME, EMAIL) == []


def test_an_organisations_erasure_leaves_another_organisations_records(
    live: ThreadServer,
) -> None:
    from sqlalchemy import func

    from server import accounts, roster

    first, second = _org(live, "First Org"), _org(live, "Second Org")
    for org in (first, second):
        owner = sign_in(live, _member(live, org, "owner", f"owner@{org['slug']}.example"))
        assessment = _published(live, org, owner, policy="open", title=f"Test of {org['slug']}")
        roster.invite(
            live.ctx, accounts.operator(), org["id"],
            {"assessment_id": assessment["id"], "name": NAME, "email": EMAIL},
        )  # fmt: skip
    erased = retention.erase(live.ctx, first["id"], EMAIL, "test", "local")
    assert erased["erased"] == 1
    with live.ctx.reader.connect() as connection:
        kept = connection.execute(
            select(db.sittings.c.candidate_name, db.assessments.c.employer_id).join(
                db.assessments, db.assessments.c.id == db.sittings.c.assessment_id
            )
        ).all()
        mail = connection.execute(
            select(db.emails.c.organisation_id).where(func.lower(db.emails.c.recipient) == EMAIL)
        ).all()
    assert sorted(kept, key=lambda r: r[1] == second["id"]) == [
        ("(erased)", first["id"]), (NAME, second["id"]),
    ]  # fmt: skip
    assert [row.organisation_id for row in mail] == [second["id"]]  # the other's e-mail stays
