"""The employer API: thin routes over ``accounts``, ``assessments``, ``roster`` and ``audit``,
for an applicant-tracking system or the dashboard. Every route but sign-in and password codes
takes ``Authorization: Bearer <credential>`` (a session from ``POST /sessions`` or an API
token); every object route is under ``/orgs/{org_id}`` and authorised by the principal's role or
token scopes there (see ``accounts.ROLE_PERMISSIONS`` and ``accounts.SCOPES``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server import (
    accounts,
    assessments,
    audit,
    employer_results,
    limits,
    mail,
    registration,
    retention,
    roster,
    webhooks,
)
from server.accounts import Principal
from server.context import Context
from server.errors import ApiError
from shared import canonical
from shared.protocol import API_PREFIX


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    return canonical.loads(raw)


async def _principal(request: Request) -> Principal:
    ctx = _ctx(request)
    principal, credential_id = await run_in_threadpool(
        accounts.authenticate, ctx, request.headers.get("authorization", ""), _address(request)
    )
    await run_in_threadpool(limits.hit, ctx, "employer", principal.actor)
    request.state.credential_id = credential_id
    return principal


Operation = Callable[..., Any]


def _call(operation: Operation, *names: str, body: bool = False, status: int = 200) -> Any:
    """A route that authenticates, then runs ``operation(ctx, principal, *path_params[, body])``
    in the thread pool and answers its result as JSON (204 when it returns None)."""

    async def route(request: Request) -> Response:
        principal = await _principal(request)
        params = [request.path_params[name] for name in names]
        if body:
            params.append(await _body(request))
        found = await run_in_threadpool(operation, _ctx(request), principal, *params)
        if found is None:
            return Response(status_code=204)
        if isinstance(found, list):
            found = {"items": found}
        return JSONResponse(found, status_code=status)

    return route


async def sign_in(request: Request) -> JSONResponse:
    body = await _body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "Give an e-mail address and a password.")
    found = await run_in_threadpool(
        accounts.sign_in,
        _ctx(request),
        body.get("email"),
        body.get("password"),
        body.get("totp"),
        _address(request),
    )
    return JSONResponse(found, status_code=201)


async def sign_out(request: Request) -> Response:
    principal = await _principal(request)
    if principal.user_id is None:
        raise ApiError(400, "not_a_session", "An API token is revoked, not signed out.")
    await run_in_threadpool(
        accounts.sign_out, _ctx(request), principal, request.state.credential_id
    )
    return Response(status_code=204)


async def password_code(request: Request) -> JSONResponse:
    body = await _body(request)
    email = body.get("email") if isinstance(body, dict) else None
    await run_in_threadpool(mail.request_password_code, _ctx(request), email, _address(request))
    return JSONResponse(
        {"message": "If the address has an account, a code to choose a password is on its way."},
        status_code=202,
    )


async def password_choose(request: Request) -> Response:
    body = await _body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "Give the code from the e-mail and a new password.")
    await run_in_threadpool(
        mail.choose_password, _ctx(request), body.get("code"), body.get("password"),
        _address(request),
    )  # fmt: skip
    return Response(status_code=204)


async def registration_code(request: Request) -> JSONResponse:
    await run_in_threadpool(
        registration.send_code, _ctx(request), request.path_params["slug"],
        await _body(request), _address(request),
    )  # fmt: skip
    return JSONResponse(
        {"message": "A code is on its way to that address; it is valid for 30 minutes."},
        status_code=202,
    )


async def registration_confirm(request: Request) -> JSONResponse:
    found = await run_in_threadpool(
        registration.confirm, _ctx(request), request.path_params["slug"],
        await _body(request), _address(request),
    )  # fmt: skip
    return JSONResponse(found, status_code=201)


async def presets(request: Request) -> JSONResponse:
    await _principal(request)
    return JSONResponse({"items": assessments.presets()})


def _confirm_totp(ctx: Context, principal: Principal, body: Any) -> None:
    accounts.confirm_totp(ctx, principal, body.get("code") if isinstance(body, dict) else None)


def _add_member(ctx: Context, principal: Principal, org_id: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "A member has an email and a role.")
    return accounts.add_member(
        ctx, principal, org_id, str(body.get("email", "")), str(body.get("role", "")),
        body.get("name") if isinstance(body.get("name"), str) else None,
    )  # fmt: skip


def _create_token(ctx: Context, principal: Principal, org_id: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "malformed", "A token has a name and scopes.")
    return accounts.create_token(ctx, principal, org_id, body.get("name"), body.get("scopes"))


def _publish(ctx: Context, principal: Principal, org_id: str, assessment_id: str) -> Any:
    return assessments.move(ctx, principal, org_id, assessment_id, "publish")


def _retire(ctx: Context, principal: Principal, org_id: str, assessment_id: str) -> Any:
    return assessments.move(ctx, principal, org_id, assessment_id, "retire")


def _proctor_code(
    ctx: Context, principal: Principal, org_id: str, sitting_id: str, body: Any
) -> Any:
    challenge = body.get("challenge") if isinstance(body, dict) else None
    return roster.proctor_response(ctx, principal, org_id, sitting_id, challenge)


def _extra_time(ctx: Context, principal: Principal, org_id: str, sitting_id: str, body: Any) -> Any:
    minutes = body.get("minutes") if isinstance(body, dict) else None
    return roster.set_extra_time(ctx, principal, org_id, sitting_id, minutes)


async def audit_entries(request: Request) -> JSONResponse:
    principal = await _principal(request)
    org_id = request.path_params["org_id"]
    principal.require(org_id, "audit")
    after = request.query_params.get("after", "0")
    if not after.isdigit():
        raise ApiError(400, "malformed", "'after' is the id of the last entry already read.")
    found = await run_in_threadpool(audit.entries, _ctx(request), org_id, int(after))
    return JSONResponse({"items": found})


async def audit_export(request: Request) -> Response:
    principal = await _principal(request)
    org_id = request.path_params["org_id"]
    principal.require(org_id, "audit")
    text = await run_in_threadpool(audit.export_csv, _ctx(request), org_id)
    return csv_response(text, "audit-log.csv")


async def emails(request: Request) -> JSONResponse:
    principal = await _principal(request)
    org_id = request.path_params["org_id"]
    principal.require(org_id, "invite")
    return JSONResponse({"items": await run_in_threadpool(mail.deliveries, _ctx(request), org_id)})


async def list_invitations(request: Request) -> JSONResponse:
    principal = await _principal(request)
    found = await run_in_threadpool(
        roster.invitations,
        _ctx(request),
        principal,
        request.path_params["org_id"],
        request.query_params.get("assessment_id"),
    )
    return JSONResponse({"items": found})


async def import_roster(request: Request) -> JSONResponse:
    principal = await _principal(request)
    dry_run = request.query_params.get("dry_run", "false").lower() in ("1", "true", "yes")
    send = request.query_params.get("send_email", "true").lower() not in ("0", "false", "no")
    found = await run_in_threadpool(
        roster.import_roster,
        _ctx(request),
        principal,
        request.path_params["org_id"],
        request.path_params["assessment_id"],
        await request.body(),
        dry_run,
        send,
    )
    return JSONResponse(found, status_code=200 if dry_run else 201)


async def list_results(request: Request) -> JSONResponse:
    principal = await _principal(request)
    found = await run_in_threadpool(
        employer_results.listing, _ctx(request), principal, request.path_params["org_id"],
        dict(request.query_params),
    )  # fmt: skip
    return JSONResponse(found)


async def export_results(request: Request) -> Response:
    principal = await _principal(request)
    text = await run_in_threadpool(
        employer_results.export_csv, _ctx(request), principal, request.path_params["org_id"],
        dict(request.query_params),
    )  # fmt: skip
    return csv_response(text, "results.csv")


def csv_response(text: str, filename: str) -> Response:
    """A CSV download, with a byte-order mark so that spreadsheets read it as UTF-8."""
    return Response(
        text.encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def result_certificate(request: Request) -> Response:
    principal = await _principal(request)
    pdf = await run_in_threadpool(
        employer_results.certificate, _ctx(request), principal, request.path_params["org_id"],
        request.path_params["result_id"],
    )  # fmt: skip
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="certificate.pdf"'},
    )


async def candidate_export(request: Request) -> JSONResponse:
    principal = await _principal(request)
    email = request.query_params.get("email", "")
    found = await run_in_threadpool(
        retention.employer_export, _ctx(request), principal, request.path_params["org_id"], email
    )
    return JSONResponse(
        found, headers={"Content-Disposition": 'attachment; filename="candidate-data.json"'}
    )


def routes() -> list[Route]:
    """One route per path, dispatching on the method, so a 405 names every method allowed."""
    handlers: dict[str, dict[str, Any]] = {}
    for route in _routes():
        for method in route.methods or ():
            if method != "HEAD":
                handlers.setdefault(route.path, {})[method] = route.endpoint
    return [_dispatching(path, by_method) for path, by_method in handlers.items()]


def _dispatching(path: str, by_method: dict[str, Any]) -> Route:
    if len(by_method) == 1:
        [(method, endpoint)] = by_method.items()
        return Route(path, endpoint, methods=[method])

    async def dispatch(request: Request) -> Response:
        response: Response = await by_method[request.method](request)
        return response

    return Route(path, dispatch, methods=sorted(by_method))


def _routes() -> list[Route]:
    org = f"{API_PREFIX}/orgs/{{org_id}}"
    return [
        Route(f"{API_PREFIX}/sessions", sign_in, methods=["POST"]),
        Route(f"{API_PREFIX}/sessions/current", sign_out, methods=["DELETE"]),
        Route(f"{API_PREFIX}/password/code", password_code, methods=["POST"]),
        Route(f"{API_PREFIX}/password/choose", password_choose, methods=["POST"]),
        Route(f"{API_PREFIX}/self-registration/{{slug}}/code", registration_code, methods=["POST"]),
        Route(
            f"{API_PREFIX}/self-registration/{{slug}}/confirm",
            registration_confirm,
            methods=["POST"],
        ),
        Route(f"{API_PREFIX}/me", _call(accounts.me), methods=["GET"]),
        Route(f"{API_PREFIX}/me/totp", _call(accounts.offer_totp, status=201), methods=["POST"]),
        Route(f"{API_PREFIX}/me/totp/confirm", _call(_confirm_totp, body=True), methods=["POST"]),
        Route(f"{API_PREFIX}/policy-presets", presets, methods=["GET"]),
        Route(org, _call(accounts.organisation, "org_id"), methods=["GET"]),
        Route(f"{org}/members", _call(accounts.members, "org_id"), methods=["GET"]),
        Route(
            f"{org}/members",
            _call(_add_member, "org_id", body=True, status=201),
            methods=["POST"],
        ),
        Route(
            f"{org}/members/{{user_id}}",
            _call(accounts.remove_member, "org_id", "user_id"),
            methods=["DELETE"],
        ),
        Route(f"{org}/tokens", _call(accounts.tokens, "org_id"), methods=["GET"]),
        Route(
            f"{org}/tokens", _call(_create_token, "org_id", body=True, status=201), methods=["POST"]
        ),
        Route(
            f"{org}/tokens/{{token_id}}",
            _call(accounts.revoke_token, "org_id", "token_id"),
            methods=["DELETE"],
        ),
        Route(f"{org}/audit", audit_entries, methods=["GET"]),
        Route(f"{org}/audit.csv", audit_export, methods=["GET"]),
        Route(f"{org}/results", list_results, methods=["GET"]),
        Route(f"{org}/results.csv", export_results, methods=["GET"]),
        Route(
            f"{org}/results/{{result_id}}",
            _call(employer_results.detail, "org_id", "result_id"),
            methods=["GET"],
        ),
        Route(f"{org}/results/{{result_id}}/certificate", result_certificate, methods=["GET"]),
        Route(
            f"{org}/results/{{result_id}}/review",
            _call(employer_results.review, "org_id", "result_id", body=True),
            methods=["POST"],
        ),
        Route(f"{org}/webhooks", _call(webhooks.listing, "org_id"), methods=["GET"]),
        Route(
            f"{org}/webhooks",
            _call(webhooks.create, "org_id", body=True, status=201),
            methods=["POST"],
        ),
        Route(
            f"{org}/webhooks/{{webhook_id}}",
            _call(webhooks.disable, "org_id", "webhook_id"),
            methods=["DELETE"],
        ),
        Route(
            f"{org}/webhooks/{{webhook_id}}/deliveries",
            _call(webhooks.deliveries, "org_id", "webhook_id"),
            methods=["GET"],
        ),
        Route(
            f"{org}/retention",
            _call(retention.set_retention, "org_id", body=True),
            methods=["PUT"],
        ),
        Route(f"{org}/candidates/export", candidate_export, methods=["GET"]),
        Route(
            f"{org}/candidates/erase",
            _call(retention.employer_erase, "org_id", body=True),
            methods=["POST"],
        ),
        Route(f"{org}/emails", emails, methods=["GET"]),
        Route(f"{org}/assessments", _call(assessments.listing, "org_id"), methods=["GET"]),
        Route(
            f"{org}/assessments",
            _call(assessments.create, "org_id", body=True, status=201),
            methods=["POST"],
        ),
        Route(
            f"{org}/assessments/{{assessment_id}}",
            _call(assessments.get, "org_id", "assessment_id"),
            methods=["GET"],
        ),
        Route(
            f"{org}/assessments/{{assessment_id}}/publish",
            _call(_publish, "org_id", "assessment_id"),
            methods=["POST"],
        ),
        Route(
            f"{org}/assessments/{{assessment_id}}/retire",
            _call(_retire, "org_id", "assessment_id"),
            methods=["POST"],
        ),
        Route(f"{org}/assessments/{{assessment_id}}/roster", import_roster, methods=["POST"]),
        Route(f"{org}/invitations", list_invitations, methods=["GET"]),
        Route(
            f"{org}/invitations",
            _call(roster.invite, "org_id", body=True, status=201),
            methods=["POST"],
        ),
        Route(
            f"{org}/invitations/{{sitting_id}}/resend",
            _call(roster.resend, "org_id", "sitting_id"),
            methods=["POST"],
        ),
        Route(
            f"{org}/invitations/{{sitting_id}}",
            _call(roster.revoke, "org_id", "sitting_id"),
            methods=["DELETE"],
        ),
        Route(
            f"{org}/sittings/{{sitting_id}}/unlock-code",
            _call(roster.unlock_code, "org_id", "sitting_id"),
            methods=["GET"],
        ),
        Route(
            f"{org}/sittings/{{sitting_id}}/proctor-code",
            _call(_proctor_code, "org_id", "sitting_id", body=True),
            methods=["POST"],
        ),
        Route(
            f"{org}/sittings/{{sitting_id}}/extra-time",
            _call(_extra_time, "org_id", "sitting_id", body=True),
            methods=["PUT"],
        ),
    ]
