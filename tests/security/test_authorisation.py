"""The authorisation matrix of the employer API: every role, a token of each scope, a member of
another organisation, an enrolled device and no credentials, against every employer route. Every
cell is asserted: 2xx where the role or scope grants the route's permission, 403 for a member
without it, 404 for another organisation (which learns nothing of this one), 401 without a
credential. Then the cross-organisation cases by object id: an owner of one organisation naming
another's assessment, invitation, token or member under their own organisation gets 404."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from typing import Any

import requests

from server import accounts, assessments, roster
from server.accounts import ROLE_PERMISSIONS, SCOPES
from shared import crypto
from tests.conftest import ThreadServer
from tests.helpers import signed_headers

PASSWORD = "correct horse battery staple"
_serial = itertools.count()


def _unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}"


class World:
    """Two organisations, a member of each role in the first, an owner of the second, a token
    of each scope, and factories for fresh objects (a route that deletes gets its own)."""

    def __init__(self, live: ThreadServer, make_engine: Any = None) -> None:
        self.live = live
        self.make_engine = make_engine
        self._result: str | None = None
        ctx = live.ctx
        self.operator = accounts.operator()
        self.org = accounts.create_organisation(ctx, "Matrix Org")
        self.other = accounts.create_organisation(ctx, "Other Org")
        self.headers: dict[str, dict[str, str]] = {}
        for role in accounts.ROLES:
            email = f"{role}@matrix.example"
            accounts.add_member(ctx, self.operator, self.org["id"], email, role, role, PASSWORD)
            self.headers[role] = self._session(email)
        accounts.add_member(
            ctx, self.operator, self.other["id"], "owner@other.example", "owner", "O", PASSWORD
        )
        self.headers["other-org owner"] = self._session("owner@other.example")
        for scope in SCOPES:
            made = accounts.create_token(ctx, self.operator, self.org["id"], scope, [scope])
            self.headers[f"token {scope}"] = {"Authorization": f"Bearer {made['token']}"}
        self.headers["none"] = {}
        self.assessment = self.published(self.org["id"])

    def _session(self, email: str) -> dict[str, str]:
        answer = requests.post(
            f"{self.live.url}/api/v1/sessions",
            json={"email": email, "password": PASSWORD},
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def draft(self, org_id: str) -> dict[str, Any]:
        return assessments.create(
            self.live.ctx, self.operator, org_id,
            {"title": _unique("Assessment "), "per_category": {"cnn": 2}},
        )  # fmt: skip

    def published(self, org_id: str) -> dict[str, Any]:
        made = self.draft(org_id)
        return assessments.move(self.live.ctx, self.operator, org_id, made["id"], "publish")

    def sitting(self, org_id: str | None = None) -> dict[str, Any]:
        org_id = org_id or self.org["id"]
        assessment = self.assessment if org_id == self.org["id"] else self.published(org_id)
        return roster.invite(
            self.live.ctx, self.operator, org_id,
            {"assessment_id": assessment["id"], "name": "Candidate",
             "email": f"{_unique('c')}@example.org", "send_email": False},
        )  # fmt: skip

    def user(self, org_id: str | None = None) -> str:
        made = accounts.add_member(
            self.live.ctx, self.operator, org_id or self.org["id"],
            f"{_unique('u')}@matrix.example", "viewer", None, PASSWORD,
        )  # fmt: skip
        return str(made["user_id"])

    def token(self, org_id: str | None = None) -> str:
        made = accounts.create_token(
            self.live.ctx, self.operator, org_id or self.org["id"], "t", ["invite"]
        )
        return str(made["id"])

    def webhook(self) -> str:
        from server import webhooks

        made = webhooks.create(
            self.live.ctx, self.operator, self.org["id"], {"url": "https://hooks.example/x"}
        )
        return str(made["id"])

    def result(self) -> str:
        """A result of this organisation, shared with it and flagged (so it can be reviewed),
        with its certificate rendered: one for the whole matrix."""
        if self._result is None:
            from tests.helpers import settle_jobs, sit

            strict = assessments.create(
                self.live.ctx, self.operator, self.org["id"],
                {"title": _unique("Strict "), "per_category": {"cnn": 2}, "policy": "strict"},
            )  # fmt: skip
            assessments.move(self.live.ctx, self.operator, self.org["id"], strict["id"], "publish")
            invitation = roster.invite(
                self.live.ctx, self.operator, self.org["id"],
                {"assessment_id": strict["id"], "name": "Flagged", "send_email": False},
            )  # fmt: skip
            engine = self.make_engine("matrix-candidate")
            engine.seal(sit(engine, self.live.url, invitation, share=True))
            [delivered] = engine.sync()
            settle_jobs(self.live.ctx)
            self._result = str(delivered.result["result_id"])
        return self._result

    def challenge(self, sitting_id: str) -> str:
        from sqlalchemy import select

        from server import db

        with self.live.ctx.reader.connect() as connection:
            secret = connection.execute(
                select(db.sittings.c.proctor_secret).where(db.sittings.c.id == sitting_id)
            ).scalar_one()
        return crypto.proctor_challenges(crypto.b64decode(secret), sitting_id)[0]


# (method, path under /orgs/{org}, permission, what the request needs: world -> (path, kwargs))
Make = Callable[[World], tuple[str, dict[str, Any]]]


def _fixed(path: str, **kwargs: Any) -> Make:
    return lambda _w: (path, dict(kwargs))


ROUTES: list[tuple[str, str, str, Make]] = [
    ("GET", "", "assessments:read", _fixed("")),
    ("GET", "/members", "members", _fixed("/members")),
    ("POST", "/members", "members",
     lambda w: ("/members",
                {"json": {"email": f"{_unique('m')}@matrix.example", "role": "viewer"}})),
    ("DELETE", "/members/{user}", "members", lambda w: (f"/members/{w.user()}", {})),
    ("GET", "/tokens", "tokens", _fixed("/tokens")),
    ("POST", "/tokens", "tokens", _fixed("/tokens", json={"name": "n", "scopes": ["invite"]})),
    ("DELETE", "/tokens/{token}", "tokens", lambda w: (f"/tokens/{w.token()}", {})),
    ("GET", "/audit", "audit", _fixed("/audit")),
    ("GET", "/audit.csv", "audit", _fixed("/audit.csv")),
    ("GET", "/emails", "invite", _fixed("/emails")),
    ("GET", "/assessments", "assessments:read", _fixed("/assessments")),
    ("POST", "/assessments", "assessments:manage",
     lambda w: ("/assessments", {"json": {"title": _unique("A "), "per_category": {"cnn": 2}}})),
    ("GET", "/assessments/{id}", "assessments:read",
     lambda w: (f"/assessments/{w.assessment['id']}", {})),
    ("POST", "/assessments/{id}/publish", "assessments:manage",
     lambda w: (f"/assessments/{w.draft(w.org['id'])['id']}/publish", {})),
    ("POST", "/assessments/{id}/retire", "assessments:manage",
     lambda w: (f"/assessments/{w.published(w.org['id'])['id']}/retire", {})),
    ("POST", "/assessments/{id}/roster", "invite",
     lambda w: (f"/assessments/{w.assessment['id']}/roster?dry_run=true",
                {"data": b"name,email\nAda,ada@example.org\n"})),
    ("GET", "/invitations", "invitations:read", _fixed("/invitations")),
    ("POST", "/invitations", "invite",
     lambda w: ("/invitations", {"json": {"assessment_id": w.assessment["id"], "name": "Ada",
                                          "send_email": False}})),
    ("POST", "/invitations/{id}/resend", "invite",
     lambda w: (f"/invitations/{w.sitting()['sitting_id']}/resend", {})),
    ("DELETE", "/invitations/{id}", "invite",
     lambda w: (f"/invitations/{w.sitting()['sitting_id']}", {})),
    ("GET", "/sittings/{id}/unlock-code", "proctor",
     lambda w: (f"/sittings/{w.sitting()['sitting_id']}/unlock-code", {})),
    ("POST", "/sittings/{id}/proctor-code", "proctor", lambda w: _proctor(w)),
    ("PUT", "/sittings/{id}/extra-time", "proctor",
     lambda w: (f"/sittings/{w.sitting()['sitting_id']}/extra-time", {"json": {"minutes": 10}})),
    ("GET", "/results", "results:read", _fixed("/results")),
    ("GET", "/results.csv", "results:read", _fixed("/results.csv")),
    ("GET", "/results/{id}", "results:read", lambda w: (f"/results/{w.result()}", {})),
    ("GET", "/results/{id}/certificate", "results:read",
     lambda w: (f"/results/{w.result()}/certificate", {})),
    ("POST", "/results/{id}/review", "review",
     lambda w: (f"/results/{w.result()}/review",
                {"json": {"decision": "clear", "note": "Checked with the proctor."}})),
    ("GET", "/webhooks", "webhooks", _fixed("/webhooks")),
    ("POST", "/webhooks", "webhooks", _fixed("/webhooks", json={"url": "https://hooks.example/y"})),
    ("DELETE", "/webhooks/{id}", "webhooks", lambda w: (f"/webhooks/{w.webhook()}", {})),
    ("GET", "/webhooks/{id}/deliveries", "webhooks",
     lambda w: (f"/webhooks/{w.webhook()}/deliveries", {})),
    ("PUT", "/retention", "organisation", _fixed("/retention", json={"days": 365})),
    ("GET", "/candidates/export", "privacy",
     _fixed("/candidates/export?email=someone%40example.org")),
    ("POST", "/candidates/erase", "privacy",
     _fixed("/candidates/erase", json={"email": "someone@example.org"})),
]  # fmt: skip


def _proctor(world: World) -> tuple[str, dict[str, Any]]:
    sitting_id = world.sitting()["sitting_id"]
    challenge = world.challenge(sitting_id)
    return f"/sittings/{sitting_id}/proctor-code", {"json": {"challenge": challenge}}


def _expected(principal: str, permission: str) -> str:
    if principal in ("none", "device"):
        return "401"
    if principal == "other-org owner":
        return "404"
    if principal.startswith("token "):
        allowed = SCOPES[principal.removeprefix("token ")]
    else:
        allowed = ROLE_PERMISSIONS[principal]
    return "2xx" if permission in allowed else "403"


def _seen(status: int) -> str:
    return "2xx" if 200 <= status < 300 else str(status)


def test_every_organisation_route_is_in_the_matrix(live: ThreadServer) -> None:
    from starlette.routing import Route

    prefix = "/api/v1/orgs/{org_id}"
    served = {
        (method, route.path.removeprefix(prefix))
        for route in live.server.config.app.routes
        if isinstance(route, Route) and route.path.startswith(prefix)
        for method in (route.methods or set()) - {"HEAD"}
    }
    covered = {
        (method, re.sub(r"\{[a-z_]+\}", "{}", template)) for method, template, _, _ in ROUTES
    }
    served = {(method, re.sub(r"\{[a-z_]+\}", "{}", path)) for method, path in served}
    assert served == covered


def test_every_principal_against_every_employer_route(live: ThreadServer, make_engine: Any) -> None:
    world = World(live, make_engine)
    engine = make_engine()
    engine.enrol(live.url, live.invite()["invitation"])
    principals = [*world.headers, "device"]
    expected, seen = {}, {}
    for method, template, permission, make in ROUTES:
        for principal in principals:
            path, kwargs = make(world)
            target = f"/api/v1/orgs/{world.org['id']}{path}"
            if principal == "device":  # a candidate's device signature is no employer credential
                body = kwargs.get("data") or json.dumps(kwargs.get("json")).encode()
                kwargs = {"data": body}
                headers = signed_headers(
                    engine.enrolment().device_id, engine.keys.signing, method, target, body
                )
            else:
                headers = world.headers[principal]
            answer = requests.request(
                method, live.url + target, headers=headers, timeout=20, **kwargs
            )
            cell = (f"{method} {template}", principal)
            expected[cell] = _expected(principal, permission)
            seen[cell] = _seen(answer.status_code)
    wrong = {
        cell: (expected[cell], seen[cell]) for cell in expected if expected[cell] != seen[cell]
    }
    assert wrong == {}, f"{len(wrong)} of {len(expected)} cells differ (expected, seen)"
    assert len(expected) == len(ROUTES) * len(principals)


def test_routes_outside_an_organisation(live: ThreadServer) -> None:
    world = World(live)
    for principal, headers in world.headers.items():
        me = requests.get(f"{live.url}/api/v1/me", headers=headers, timeout=10).status_code
        presets = requests.get(f"{live.url}/api/v1/policy-presets", headers=headers, timeout=10)
        if principal == "none":
            assert (me, presets.status_code) == (401, 401)
        elif principal.startswith("token "):
            assert (me, presets.status_code) == (403, 200)  # a token is no person
        else:
            assert (me, presets.status_code) == (200, 200)


def test_another_organisations_objects_are_not_found_under_ones_own(live: ThreadServer) -> None:
    world = World(live)
    own = f"{live.url}/api/v1/orgs/{world.other['id']}"
    theirs = world.sitting(world.org["id"])["sitting_id"]
    headers = world.headers["other-org owner"]
    attempts = [
        ("GET", f"/assessments/{world.assessment['id']}", {}),
        ("POST", f"/assessments/{world.draft(world.org['id'])['id']}/publish", {}),
        ("POST", f"/assessments/{world.assessment['id']}/roster", {"data": b"name\nAda\n"}),
        ("POST", "/invitations", {"json": {"assessment_id": world.assessment["id"], "name": "A"}}),
        ("POST", f"/invitations/{theirs}/resend", {}),
        ("DELETE", f"/invitations/{theirs}", {}),
        ("GET", f"/sittings/{theirs}/unlock-code", {}),
        (
            "POST",
            f"/sittings/{theirs}/proctor-code",
            {"json": {"challenge": world.challenge(theirs)}},
        ),
        ("PUT", f"/sittings/{theirs}/extra-time", {"json": {"minutes": 5}}),
        ("DELETE", f"/tokens/{world.token(world.org['id'])}", {}),
        ("DELETE", f"/members/{world.user(world.org['id'])}", {}),
    ]
    for method, path, kwargs in attempts:
        answer = requests.request(method, own + path, headers=headers, timeout=20, **kwargs)
        assert answer.status_code == 404, (method, path, answer.status_code, answer.text)
