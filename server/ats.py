"""An applicant-tracking system's way in, shaped like Greenhouse's Assessment Partner API.

The ATS is given an API token of the organisation (scopes ``invite`` and ``results:read``)
and calls, with HTTP Basic (the token as the user name, no password):

- ``GET  .../ats/greenhouse/list_tests``: the organisation's published assessments;
- ``POST .../ats/greenhouse/send_test``: invite a candidate (the invitation e-mail goes out as
  for any invitation); answers the ``partner_interview_id`` (the sitting's id);
- ``GET  .../ats/greenhouse/test_status?partner_interview_id=``: where the sitting stands and,
  once scored and shared by the candidate, the levels, the score and a link to the certificate
  check.

When ``send_test`` names a ``url``, the server tells it (``PATCH``, retried by the ``ats``
job) once the result is in; the ATS then asks ``test_status``. Consent holds here as
everywhere: a result the candidate did not share is reported as complete, without content."""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server import accounts, assessments, db, jobs, limits, roster, webhooks
from server.accounts import Principal
from server.context import Context
from server.errors import ApiError, not_found
from shared import canonical
from shared.protocol import API_PREFIX

TIMEOUT_S = 10.0
STATUSES = {
    "invited": "pending",
    "enrolled": "pending",
    "prepared": "pending",
    "started": "in_progress",
    "scored": "complete",
}


def _principal(ctx: Context, authorization: str, address: str) -> tuple[Principal, str]:
    """The organisation a Basic credential (an API token as the user name) acts for."""
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise ApiError(
            401, "unauthenticated", "Use HTTP Basic with the organisation's API token as the "
            "user name and no password.", {"WWW-Authenticate": 'Basic realm="examgate"'},
        )  # fmt: skip
    try:
        user = base64.b64decode(encoded.strip(), validate=True).decode().split(":", 1)[0]
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(
            401, "unauthenticated", "The Basic credential is not valid base64."
        ) from None
    if not user.startswith("egt_"):
        raise ApiError(401, "unauthenticated", "The user name must be an API token (egt_...).")
    principal, _ = accounts.authenticate(ctx, f"Bearer {user}", address)
    (organisation_id,) = principal.grants  # a token belongs to one organisation
    return principal, organisation_id


def list_tests(ctx: Context, principal: Principal, organisation_id: str) -> list[dict[str, Any]]:
    published = [
        a
        for a in assessments.listing(ctx, principal, organisation_id)
        if a["status"] == "published"
    ]
    return [{"partner_test_id": a["id"], "partner_test_name": a["title"]} for a in published]


def send_test(
    ctx: Context, principal: Principal, organisation_id: str, body: Any
) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("candidate"), dict):
        raise ApiError(400, "malformed", "Give partner_test_id and a candidate with an email.")
    candidate = body["candidate"]
    name = " ".join(
        str(candidate.get(part) or "").strip() for part in ("first_name", "last_name")
    ).strip()
    if not candidate.get("email"):
        raise ApiError(400, "bad_invitation", "The candidate's email is needed to send the test.")
    callback = body.get("url")
    if callback is not None:
        callback = webhooks.check_url(callback)
    invitation = roster.invite(
        ctx, principal, organisation_id,
        {"assessment_id": body.get("partner_test_id"), "name": name or str(candidate["email"]),
         "email": candidate["email"]},
    )  # fmt: skip
    if callback is not None:
        with ctx.engine.begin() as connection:
            connection.execute(
                db.sittings.update()
                .where(db.sittings.c.id == invitation["sitting_id"])
                .values(ats_callback=callback)
            )
    return {"partner_interview_id": invitation["sitting_id"]}


def test_status(
    ctx: Context, principal: Principal, organisation_id: str, sitting_id: str
) -> dict[str, Any]:
    principal.require(organisation_id, "results:read")
    with ctx.reader.connect() as connection:
        sitting = (
            connection.execute(
                select(
                    db.sittings.c.id,
                    db.sittings.c.state,
                    db.sittings.c.revoked_ms,
                    db.sittings.c.expires_ms,
                    db.results.c.id.label("result_id"),
                )
                .join(db.assessments, db.assessments.c.id == db.sittings.c.assessment_id)
                .outerjoin(db.results, db.results.c.sitting_id == db.sittings.c.id)
                .where(
                    db.sittings.c.id == sitting_id, db.assessments.c.employer_id == organisation_id
                )
            )
            .mappings()
            .first()
        )
    if sitting is None:
        raise not_found("partner_interview_id")
    status = STATUSES.get(sitting["state"], "pending")
    if sitting["revoked_ms"] is not None and status != "complete":
        status = "cancelled"
    elif status == "pending" and sitting["expires_ms"] < ctx.now_ms():
        status = "expired"
    answer: dict[str, Any] = {"partner_status": status}
    if sitting["result_id"] is None:
        return answer
    from server import employer_results

    found = employer_results.detail(ctx, principal, organisation_id, sitting["result_id"])
    if not found["shared"]:
        answer["metadata"] = {"shared": "no: the candidate chose not to share the result"}
        return answer
    details = found["category_details"]
    correct = sum(int(d["correct"]) for d in details)
    total = sum(int(d["total"]) for d in details) or 1
    answer.update(
        partner_score=round(100 * correct / total, 1),
        partner_profile_url=f"{ctx.settings.public_url}/verify/{found['verification_code']}",
        metadata={
            "Overall level": found["overall"],
            **{f"{name} level": level for name, level in found["categories"].items()},
            "Integrity": found["integrity"],
            "Review": found["review"],
        },
    )
    return answer


@jobs.task("ats")
def notify(ctx: Context, sitting_id: str) -> None:
    """Tell the ATS that asked for this sitting that its result is in (it then asks status)."""
    with ctx.reader.connect() as connection:
        url = connection.execute(
            select(db.sittings.c.ats_callback).where(db.sittings.c.id == sitting_id)
        ).scalar()
    if not url:
        return  # erased since, or never asked
    host = urlsplit(url).hostname or ""
    if not ctx.settings.webhook_private_addresses and webhooks.private_address(host):
        raise RuntimeError("the ATS address is in a private or loopback network")
    answer = requests.patch(
        url,
        data=canonical.dumps({"partner_interview_id": sitting_id, "partner_status": "complete"}),
        headers={"Content-Type": "application/json", "User-Agent": "examgate-ats"},
        timeout=TIMEOUT_S,
        allow_redirects=False,
    )
    if not 200 <= answer.status_code < 300:
        raise RuntimeError(f"the ATS answered HTTP {answer.status_code}")


def _route(operation: Any, *, body: bool = False, query: str | None = None) -> Any:
    async def route(request: Request) -> JSONResponse:
        ctx: Context = request.app.state.ctx
        address = request.client.host if request.client else "unknown"
        principal, organisation_id = await run_in_threadpool(
            _principal, ctx, request.headers.get("authorization", ""), address
        )
        await run_in_threadpool(limits.hit, ctx, "employer", principal.actor)
        params: list[Any] = []
        if body:
            raw = await request.body()
            params.append(canonical.loads(raw) if raw else {})
        if query is not None:
            value = request.query_params.get(query)
            if not value:
                raise ApiError(400, "malformed", f"Give ?{query}=.")
            params.append(value)
        found = await run_in_threadpool(operation, ctx, principal, organisation_id, *params)
        return JSONResponse(found)

    return route


def routes() -> list[Route]:
    base = f"{API_PREFIX}/ats/greenhouse"
    return [
        Route(f"{base}/list_tests", _route(list_tests), methods=["GET"]),
        Route(f"{base}/send_test", _route(send_test, body=True), methods=["POST"]),
        Route(
            f"{base}/test_status",
            _route(test_status, query="partner_interview_id"),
            methods=["GET"],
        ),
    ]
