"""The employer's web dashboard: server-rendered pages (Jinja2) over the same functions the
employer API calls, so every page is authorised exactly as its route is.

Signing in sets the session credential (the same ``egs_`` session as ``POST /sessions``) in a
cookie that scripts cannot read (HttpOnly), that is sent only to this site's own pages
(SameSite=Strict, Path=/dashboard), over HTTPS where the server is served so (Secure), and that
expires with the session. Every form carries a CSRF token that must equal a second cookie's
(double submit), checked before anything else. No script runs on any page: charts are SVG drawn
on the server, and the Content-Security-Policy allows nothing but this server's stylesheet.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from server import (
    accounts,
    assessments,
    audit,
    employer_results,
    insights,
    limits,
    mail,
    retention,
    roster,
    webhooks,
)
from server.accounts import Principal
from server.auth import remember_nonce
from server.context import Context
from server.employer_api import csv_response
from server.errors import ApiError
from shared.errors import ExamgateError
from shared.models import CATEGORIES, LEVELS, level_name, rubric

BASE = "/dashboard"
SESSION_COOKIE = "examgate_session"
CSRF_COOKIE = "examgate_csrf"
TEMPLATES = Path(__file__).with_name("templates")
STYLESHEET = TEMPLATES / "dashboard.css"
SCRIPT = TEMPLATES / "room.js"
MAX_UPLOAD = 1_000_000  # a roster of 5,000 lines is well under this

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _day(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


_env.filters["when"] = _day
# A form that makes something carries a one-time value: sent twice (a reload after a post),
# the second is refused instead of making it again.
_env.globals["once"] = lambda: secrets.token_urlsafe(18)
_env.filters["level"] = lambda value: level_name(value) if value else ""


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _secure(ctx: Context) -> bool:
    return ctx.settings.public_url.startswith("https://")


class SignInNeeded(Exception):
    """No valid session cookie: the page sends the person to sign in."""


async def _principal(request: Request) -> tuple[Principal, str]:
    credential = request.cookies.get(SESSION_COOKIE, "")
    if not credential:
        raise SignInNeeded
    ctx = _ctx(request)
    try:
        principal, session_id = await run_in_threadpool(
            accounts.authenticate, ctx, f"Bearer {credential}", _address(request)
        )
    except ApiError as error:
        if error.status == 401:
            raise SignInNeeded from None
        raise
    if principal.user_id is None:  # only a person's session signs in here
        raise SignInNeeded
    await run_in_threadpool(limits.hit, ctx, "employer", principal.actor)
    return principal, session_id


def _csrf(request: Request) -> str:
    """This browser's CSRF token (set as a cookie by ``_page`` when it has none)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) < 32:
        token = request.state.__dict__.setdefault("new_csrf", secrets.token_urlsafe(32))
    return token


async def _form(request: Request) -> dict[str, str]:
    """The posted form, once its CSRF token matches the cookie's (else 403)."""
    form = await _fields(request)
    sent = form.get("csrf", "")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise ApiError(
            403,
            "csrf",
            "This form has expired or did not come from this site. Go back, reload the page "
            "and send it again.",
        )
    if "once" in form:
        try:
            await run_in_threadpool(
                remember_nonce, _ctx(request), f"form:{cookie[:24]}", form["once"]
            )
        except ApiError:
            raise ApiError(
                409, "already_sent", "This form was sent already, so nothing was made again."
            ) from None
    return form


async def _fields(request: Request) -> dict[str, str]:
    """A posted form's fields; an uploaded file's text under its field's name (UTF-8, at most
    one file of ``MAX_UPLOAD`` bytes)."""
    try:
        form = await request.form(max_files=1, max_fields=60, max_part_size=MAX_UPLOAD)
    except Exception:  # a malformed or oversized form: as if empty (then refused by CSRF)
        return {}
    fields: dict[str, str] = {}
    try:
        for key, value in form.multi_items():
            if isinstance(value, str):
                fields[key] = value
            else:
                raw = await value.read(MAX_UPLOAD + 1)
                if raw and len(raw) <= MAX_UPLOAD:
                    fields[key] = raw.decode("utf-8", errors="replace")
    finally:
        await form.close()
    return fields


def _page(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    ctx = _ctx(request)
    values.setdefault("principal", None)
    body = _env.get_template(template).render(
        base=BASE, csrf=_csrf(request), request=request, **values
    )
    response = HTMLResponse(body, status_code=status)
    if "new_csrf" in request.state.__dict__:
        response.set_cookie(
            CSRF_COOKIE, request.state.new_csrf, httponly=True, samesite="strict",
            secure=_secure(ctx), path=BASE,
        )  # fmt: skip
    return response


def _sign_in_redirect(request: Request) -> RedirectResponse:
    query = urlencode({"next": request.url.path}) if request.method == "GET" else ""
    return RedirectResponse(f"{BASE}/sign-in{'?' + query if query else ''}", status_code=303)


def _safe_next(value: str | None) -> str:
    if value and value.startswith(f"{BASE}/") and "//" not in value and "\\" not in value:
        return value
    return f"{BASE}/"


async def _guarded(request: Request, render: Any) -> Response:
    """Run a page: to sign-in without a session; an API refusal shown as a page."""
    try:
        principal, _ = await _principal(request)
        response: Response = await render(principal)
        return response
    except SignInNeeded:
        return _sign_in_redirect(request)
    except ApiError as error:
        return _page(
            request, "error.html", status=error.status, title="Not possible", message=error.message
        )


def _organisations(ctx: Context, principal: Principal) -> list[dict[str, Any]]:
    return list(accounts.me(ctx, principal)["organisations"])


# -- sign in and out ------------------------------------------------------------------------
async def sign_in_page(request: Request) -> Response:
    return _page(
        request, "sign_in.html", title="Sign in", next=_safe_next(request.query_params.get("next"))
    )


async def sign_in_either(request: Request) -> Response:
    return await (sign_in if request.method == "POST" else sign_in_page)(request)


async def sign_in(request: Request) -> Response:
    ctx = _ctx(request)
    try:
        form = await _form(request)
    except ApiError as error:
        return _page(request, "sign_in.html", status=403, title="Sign in", error=error.message)
    try:
        session = await run_in_threadpool(
            accounts.sign_in, ctx, form.get("email"), form.get("password"),
            form.get("totp") or None, _address(request),
        )  # fmt: skip
    except (ApiError, ExamgateError) as error:
        if isinstance(error, ApiError) and error.code == "totp_required":
            email = str(form.get("email", "")).strip().lower()
            return _page(  # the password was right: the code, on a page of its own
                request, "sign_in_code.html", title="Sign in: your code", email=email,
                pending=_pending(ctx, email), next=_safe_next(form.get("next")),
            )  # fmt: skip
        message = error.message if isinstance(error, ApiError) else str(error)
        status = error.status if isinstance(error, ApiError) else 429
        return _page(
            request, "sign_in.html", status=status, title="Sign in", error=message,
            email=form.get("email", ""), next=_safe_next(form.get("next")),
        )  # fmt: skip
    return _signed_in(ctx, session, form)


PENDING_S = 300  # how long the code page stays valid after the password was right


def _pending_mac(ctx: Context, email: str, until: str) -> str:
    key = ctx.derived_key(b"examgate dashboard second step")
    return hmac.new(key, f"{email}\n{until}".encode(), "sha256").hexdigest()


def _pending(ctx: Context, email: str) -> str:
    """A value for the code page that says: this address's password was right, until then."""
    until = str(ctx.now_ms() + PENDING_S * 1000)
    return f"{until}.{_pending_mac(ctx, email, until)}"


def _pending_ok(ctx: Context, email: str, value: str) -> bool:
    until, _, mac = value.partition(".")
    if not until.isdigit() or int(until) < ctx.now_ms():
        return False
    return hmac.compare_digest(_pending_mac(ctx, email, until), mac)


async def sign_in_code(request: Request) -> Response:
    """The second step: the authenticator code, after the password was right."""
    ctx = _ctx(request)
    try:
        form = await _form(request)
    except ApiError as error:
        return _page(request, "sign_in.html", status=403, title="Sign in", error=error.message)
    email = form.get("email", "")
    if not _pending_ok(ctx, email, form.get("pending", "")):
        return _page(
            request, "sign_in.html", status=401, title="Sign in", email=email,
            error="That took too long: sign in again with your password.",
        )  # fmt: skip
    try:
        session = await run_in_threadpool(
            accounts.sign_in_second_step, ctx, email, form.get("totp"), _address(request)
        )
    except (ApiError, ExamgateError) as error:
        message = error.message if isinstance(error, ApiError) else str(error)
        return _page(
            request, "sign_in_code.html", status=401, title="Sign in: your code", email=email,
            pending=form.get("pending", ""), next=_safe_next(form.get("next")), error=message,
        )  # fmt: skip
    return _signed_in(ctx, session, form)


def _signed_in(ctx: Context, session: dict[str, Any], form: dict[str, str]) -> Response:
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    max_age = max(0, (session["expires_ms"] - ctx.now_ms()) // 1000)
    response.set_cookie(
        SESSION_COOKIE, session["token"], max_age=max_age, httponly=True, samesite="strict",
        secure=_secure(ctx), path=BASE,
    )  # fmt: skip
    return response


async def sign_out(request: Request) -> Response:
    response = RedirectResponse(f"{BASE}/sign-in?signed_out=1", status_code=303)
    try:
        await _form(request)
        principal, session_id = await _principal(request)
        await run_in_threadpool(accounts.sign_out, _ctx(request), principal, session_id)
    except SignInNeeded:
        pass
    except ApiError as error:
        return _page(request, "error.html", status=403, title="Not signed out",
                     message=error.message)  # fmt: skip
    response.delete_cookie(SESSION_COOKIE, path=BASE)
    return response


async def password_page(request: Request) -> Response:
    """Forgotten password: ask for a code by e-mail, then choose a password with it."""
    values: dict[str, Any] = {"title": "Choose a password"}
    status = 200
    if request.method == "POST":
        form: dict[str, str] = {}
        try:
            form = await _form(request)
            if form.get("step") == "code":
                await run_in_threadpool(
                    mail.request_password_code, _ctx(request), form.get("email", ""),
                    _address(request),
                )  # fmt: skip
                values["sent"] = True
            else:
                await run_in_threadpool(
                    mail.choose_password, _ctx(request), form.get("code", "").strip(),
                    form.get("password", ""), _address(request),
                )  # fmt: skip
                return RedirectResponse(f"{BASE}/sign-in?password=1", status_code=303)
        except ApiError as error:
            values["error"], status = error.message, error.status
            values["sent"] = form.get("step") == "choose"
        except ExamgateError as error:  # too many requests
            values["error"], status = str(error), 429
    return _page(request, "password.html", status=status, **values)


# -- pages ----------------------------------------------------------------------------------
async def home(request: Request) -> Response:
    async def render(principal: Principal) -> Response:
        orgs = await run_in_threadpool(_organisations, _ctx(request), principal)
        if len(orgs) == 1:
            org_id = orgs[0]["id"]
            first = "results" if principal.can(org_id, "results:read") else "assessments"
            return RedirectResponse(f"{BASE}/orgs/{org_id}/{first}", status_code=303)
        return _page(request, "home.html", title="Your organisations", principal=principal,
                     organisations=orgs)  # fmt: skip

    return await _guarded(request, render)


# Column headings for the categories in the results table (the report names them in full).
SHORT_NAMES = {
    "Deep learning foundations": "Foundations",
    "Techniques to improve neural networks": "Improving",
    "Convolutional neural networks": "CNNs",
    "Sequence models": "Sequences",
}
FILTERS = ("assessment_id", "level", "integrity", "review", "shared", "from", "to")


async def results_page(request: Request) -> Response:
    org_id = request.path_params["org_id"]

    async def render(principal: Principal) -> Response:
        ctx = _ctx(request)
        query = {k: v for k, v in request.query_params.items() if k in FILTERS and v}
        query["offset"] = request.query_params.get("offset", "")
        page = await run_in_threadpool(employer_results.listing, ctx, principal, org_id, query)
        nav = await run_in_threadpool(_nav, ctx, principal, org_id)
        more = None
        if page["next_offset"] is not None:
            more = "?" + urlencode({**query, "offset": page["next_offset"]})
        csv_query = urlencode({k: v for k, v in query.items() if k != "offset" and v})
        return _page(
            request, "results.html", title=f"Results: {nav['organisation']['name']}",
            principal=principal, rows=page["items"], query=query, levels=LEVELS, more=more,
            csv_query=csv_query, category_names=list(CATEGORIES.values()),
            short_names=SHORT_NAMES, **nav,
        )  # fmt: skip

    return await _guarded(request, render)


async def results_csv(request: Request) -> Response:
    org_id = request.path_params["org_id"]

    async def render(principal: Principal) -> Response:
        query = {k: v for k, v in request.query_params.items() if k in FILTERS and v}
        text = await run_in_threadpool(
            employer_results.export_csv, _ctx(request), principal, org_id, query
        )
        return csv_response(text, "results.csv")

    return await _guarded(request, render)


def timeline_svg(detail: dict[str, Any], width: int = 720) -> dict[str, Any]:
    """The integrity timeline as a chart: the sitting's time along the axis, a lane per kind
    of event (focus away as bars from loss to return; locks, programs, shortcuts, clipboard,
    displays and clock gaps as marks), with a text list beside it for screen readers."""
    events = detail.get("timeline") or []
    end = max([e["elapsed_ms"] for e in events] + [1])
    left, right = 150, width - 20
    scale = (right - left) / end

    def x(ms: int) -> float:
        return float(round(left + ms * scale, 1))

    lanes = [
        ("away", "Away from the exam", "#a12626"),
        ("locked", "Locked", "#7a3e00"),
        ("program_found", "Programs seen", "#5b3a8c"),
        ("key_blocked", "Shortcuts blocked", "#1f6f8b"),
        ("clipboard_used", "Clipboard", "#1f6f8b"),
        ("display_added", "Displays added", "#5b3a8c"),
        ("clock", "Clock gaps", "#7a3e00"),
    ]
    lane_y = {name: 30 + 26 * i for i, (name, _, _) in enumerate(lanes)}
    shapes: list[dict[str, Any]] = []

    def mark(lane: str, start: int, until: int | None, label: str) -> None:
        """A bar from ``start`` to ``until`` (None: a thin mark at ``start``)."""
        width = 3.0 if until is None else max(3.0, x(until) - x(start))
        shapes.append({"lane": lane, "x": x(start), "w": width, "label": label})

    away_from: int | None = None
    locked_from: int | None = None
    for event in events:
        kind, at = event["type"], event["elapsed_ms"]
        if kind == "focus_lost":
            away_from = at
        elif kind == "focus_returned" and away_from is not None:
            mark("away", away_from, at, f"Away for {(at - away_from) // 1000} s from "
                 f"{away_from // 1000} s")  # fmt: skip
            away_from = None
        elif kind == "locked":
            locked_from = at
        elif kind in ("unlocked", "released") and locked_from is not None:
            mark("locked", locked_from, at, f"Locked at {locked_from // 1000} s")
            locked_from = None
        elif kind in ("program_found", "key_blocked", "clipboard_used", "display_added"):
            mark(kind, at, None, f"{kind} at {at // 1000} s")
        elif kind in ("clock_gap", "clock_slowed"):
            mark("clock", at, None, f"Clock gap at {at // 1000} s")
    for start, lane in ((away_from, "away"), (locked_from, "locked")):
        if start is not None:  # never returned before the end
            mark(lane, start, end, f"{lane} from {start // 1000} s to the end")
    colours = {name: colour for name, _, colour in lanes}
    for shape in shapes:
        shape["y"] = lane_y[shape["lane"]] - 8
        shape["colour"] = colours[shape["lane"]]
    minutes = [m for m in range(0, end // 60_000 + 1)]
    return {
        "width": width,
        "height": 30 + 26 * len(lanes) + 20,
        "lanes": [{"name": label, "y": lane_y[name]} for name, label, _ in lanes],
        "shapes": shapes,
        "ticks": [{"x": x(m * 60_000), "label": f"{m} min"} for m in minutes],
        "left": left,
        "right": right,
        "axis_y": 30 + 26 * len(lanes) - 6,
    }


async def result_page(request: Request) -> Response:
    org_id, result_id = request.path_params["org_id"], request.path_params["result_id"]

    async def render(principal: Principal) -> Response:
        ctx = _ctx(request)
        detail = await run_in_threadpool(employer_results.detail, ctx, principal, org_id, result_id)
        nav = await run_in_threadpool(_nav, ctx, principal, org_id)
        names = {name: key for key, name in CATEGORIES.items()}
        categories = [
            {"name": c["name"], "level": c["level"],
             "meaning": rubric(names.get(c["name"], ""), c["level"]),
             "confidence": c.get("confidence")}
            for c in detail.get("category_details", [])
        ]  # fmt: skip
        return _page(
            request, "result.html", title=f"Result: {detail['candidate_name']}",
            principal=principal, org_id=org_id, r=detail, categories=categories,
            chart=timeline_svg(detail) if detail["shared"] else None,
            can_review=principal.can(org_id, "review"), **nav,
        )  # fmt: skip

    return await _guarded(request, render)


async def review(request: Request) -> Response:
    org_id, result_id = request.path_params["org_id"], request.path_params["result_id"]

    async def render(principal: Principal) -> Response:
        form = await _form(request)
        decision = form.get("decision")
        if decision == "void" and form.get("confirm") != "yes":
            raise ApiError(
                400, "confirm", "Tick the box that confirms the void: it cannot be undone."
            )
        await run_in_threadpool(
            employer_results.review, _ctx(request), principal, org_id, result_id,
            {"decision": decision, "note": form.get("note", "")},
        )  # fmt: skip
        return RedirectResponse(f"{BASE}/orgs/{org_id}/results/{result_id}", status_code=303)

    return await _guarded(request, render)


async def certificate(request: Request) -> Response:
    org_id, result_id = request.path_params["org_id"], request.path_params["result_id"]

    async def render(principal: Principal) -> Response:
        pdf = await run_in_threadpool(
            employer_results.certificate, _ctx(request), principal, org_id, result_id
        )
        disposition = {"Content-Disposition": 'inline; filename="certificate.pdf"'}
        return Response(pdf, media_type="application/pdf", headers=disposition)

    return await _guarded(request, render)


# -- assessments ----------------------------------------------------------------------------
def _organisation(ctx: Context, principal: Principal, org_id: str) -> dict[str, Any]:
    orgs = _organisations(ctx, principal)
    found = next((o for o in orgs if o["id"] == org_id), None)
    if found is None and not principal.everywhere:
        principal.require(org_id, "assessments:read")  # 404 for another organisation
    return found or {"id": org_id, "name": "", "role": ""}


def _nav(ctx: Context, principal: Principal, org_id: str) -> dict[str, Any]:
    """What every organisation page shows: the organisation and the pages this role may use."""
    return {
        "organisation": _organisation(ctx, principal, org_id),
        "may": {
            name: principal.can(org_id, permission)
            for name, permission in (
                ("results", "results:read"), ("assessments", "assessments:read"),
                ("manage", "assessments:manage"), ("invite", "invite"),
                ("proctor", "proctor"), ("invitations", "invitations:read"),
                ("organisation", "organisation"), ("members", "members"),
            )
        },
    }  # fmt: skip


async def assessments_page(request: Request) -> Response:
    org_id = request.path_params["org_id"]

    async def render(principal: Principal, error: str | None = None, form: Any = None) -> Response:
        ctx = _ctx(request)
        listed = await run_in_threadpool(assessments.listing, ctx, principal, org_id)
        nav = await run_in_threadpool(_nav, ctx, principal, org_id)
        return _page(
            request, "assessments.html", status=400 if error else 200, title="Assessments",
            principal=principal, assessments=listed, presets=assessments.presets(),
            categories=CATEGORIES, error=error, form=form or {}, **nav,
        )  # fmt: skip

    if request.method == "GET":
        return await _guarded(request, render)

    async def create(principal: Principal) -> Response:
        form = await _form(request)
        per_category = {}
        for key in CATEGORIES:
            value = form.get(f"per_{key}", "").strip() or "0"
            if not value.isdigit():
                return await render(principal, "Items per category are whole numbers.", form)
            if int(value):
                per_category[key] = int(value)
        minutes = form.get("minutes", "8").strip()
        body = {
            "title": form.get("title", "").strip(),
            "per_category": per_category,
            "duration_s": int(minutes) * 60 if minutes.isdigit() else -1,
            "policy": form.get("policy", "moderate"),
            "supervised": form.get("supervised") == "yes",
            "self_registration": form.get("self_registration") == "yes",
            "item_feedback": form.get("item_feedback") == "yes",
            "adaptive": form.get("adaptive") == "yes",
        }
        try:
            await run_in_threadpool(assessments.create, _ctx(request), principal, org_id, body)
        except ApiError as error:
            if error.status in (400, 409):
                return await render(principal, error.message, form)
            raise
        return RedirectResponse(f"{BASE}/orgs/{org_id}/assessments?created=1", status_code=303)

    return await _guarded(request, create)


async def assessment_move(request: Request) -> Response:
    org_id, assessment_id = request.path_params["org_id"], request.path_params["assessment_id"]
    action = request.url.path.rsplit("/", 1)[-1]  # publish or retire

    async def render(principal: Principal) -> Response:
        await _form(request)
        await run_in_threadpool(
            assessments.move, _ctx(request), principal, org_id, assessment_id, action
        )
        return RedirectResponse(f"{BASE}/orgs/{org_id}/assessments", status_code=303)

    return await _guarded(request, render)


# -- invitations ----------------------------------------------------------------------------
async def invite_page(request: Request) -> Response:
    org_id, assessment_id = request.path_params["org_id"], request.path_params["assessment_id"]

    async def render(principal: Principal) -> Response:
        ctx = _ctx(request)
        principal.require(org_id, "invite")
        found = await run_in_threadpool(assessments.get, ctx, principal, org_id, assessment_id)
        nav = await run_in_threadpool(_nav, ctx, principal, org_id)
        values: dict[str, Any] = {"assessment": found, "sent": None, "preview": None}
        if request.method == "POST":
            try:
                form = await _form(request)
            except ApiError as error:
                if error.code != "already_sent":
                    raise
                values.update(one_error=error.message, status=409)
            else:
                values.update(await _invite_action(ctx, principal, org_id, assessment_id, form))
        return _page(
            request, "invite.html", status=values.pop("status", 200),
            title=f"Invite: {found['title']}", principal=principal, **nav, **values,
        )  # fmt: skip

    return await _guarded(request, render)


async def _invite_action(
    ctx: Context, principal: Principal, org_id: str, assessment_id: str, form: dict[str, str]
) -> dict[str, Any]:
    """One invitation; or a roster checked (``step=check``) or sent (``step=send``)."""
    if form.get("kind") == "one":
        body = {
            "assessment_id": assessment_id,
            "name": form.get("name", ""),
            "email": form.get("email", "") or None,
            "extra_time": form.get("extra_time", "0") or "0",
        }
        try:
            made = await run_in_threadpool(roster.invite, ctx, principal, org_id, body)
        except ApiError as error:
            if error.status not in (400, 409):
                raise
            return {"one_error": error.message, "one": form, "status": 400}
        return {"sent": [made]}
    text = form.get("roster_file") or form.get("roster", "")
    sending = form.get("step") == "send"
    try:
        done = await run_in_threadpool(
            roster.import_roster, ctx, principal, org_id, assessment_id, text.encode("utf-8"),
            not sending, True,
        )  # fmt: skip
    except ApiError as error:
        if error.status not in (400, 409, 422):
            raise
        return {
            "preview": {
                "errors": error.details.get("errors", []),
                "valid": error.details.get("valid", []),
                "message": error.message,
                "text": text,
            },
            "status": 200 if error.status == 422 else 400,
        }
    if sending:
        return {"sent": done["invitations"]}
    return {"preview": {"errors": [], "valid": done["rows"], "text": text, "message": None}}


# -- the room -------------------------------------------------------------------------------
async def room_page(request: Request) -> Response:
    org_id, assessment_id = request.path_params["org_id"], request.path_params["assessment_id"]

    async def render(principal: Principal) -> Response:
        ctx = _ctx(request)
        found = await run_in_threadpool(assessments.get, ctx, principal, org_id, assessment_id)
        shown: dict[str, Any] = {}
        if request.method == "POST":  # first the action, then the room as it now stands
            form = await _form(request)
            shown = await _proctor_action(ctx, principal, org_id, form)
        rows = await run_in_threadpool(roster.invitations, ctx, principal, org_id, assessment_id)
        nav = await run_in_threadpool(_nav, ctx, principal, org_id)
        return _page(
            request, "room.html", title=f"Room: {found['title']}", principal=principal,
            assessment=found, rows=rows, counts=_counts(rows), shown=shown, **nav,
        )  # fmt: skip

    return await _guarded(request, render)


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(
        ("invited", "enrolled", "downloaded", "started", "locked", "syncing", "submitted"), 0
    )
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


async def _proctor_action(
    ctx: Context, principal: Principal, org_id: str, form: dict[str, str]
) -> dict[str, Any]:
    sitting_id, action = form.get("sitting_id", ""), form.get("action")
    try:
        if action == "unlock_code":
            found = await run_in_threadpool(roster.unlock_code, ctx, principal, org_id, sitting_id)
            return {"sitting_id": sitting_id, "unlock_code": found["unlock_code"]}
        if action == "proctor_code":
            found = await run_in_threadpool(
                roster.proctor_response, ctx, principal, org_id, sitting_id,
                form.get("challenge", ""),
            )  # fmt: skip
            return {"sitting_id": sitting_id, "response": found["response"],
                    "challenge": form.get("challenge", "")}  # fmt: skip
        if action == "resend":
            await run_in_threadpool(roster.resend, ctx, principal, org_id, sitting_id)
            return {
                "sitting_id": sitting_id,
                "done": "Sent again by e-mail with a new code; the old one no longer works.",
            }
        if action == "revoke":
            if form.get("confirm") != "yes":
                return {"sitting_id": sitting_id,
                        "error": "Tick Confirm to revoke: it cannot be undone."}  # fmt: skip
            await run_in_threadpool(roster.revoke, ctx, principal, org_id, sitting_id)
            return {"sitting_id": sitting_id, "done": "The invitation is revoked."}
        if action == "extra_time":
            minutes = form.get("minutes", "")
            await run_in_threadpool(
                roster.set_extra_time, ctx, principal, org_id, sitting_id,
                int(minutes) if minutes.isdigit() else minutes,
            )  # fmt: skip
            return {"sitting_id": sitting_id, "done": f"Extra time set to {minutes} minutes."}
    except ApiError as error:
        if error.status in (400, 409):
            return {"sitting_id": sitting_id, "error": error.message}
        raise
    raise ApiError(400, "malformed", "Choose what to do for the sitting.")


async def room_json(request: Request) -> Response:
    """The room's statuses, for the page's own script to refresh them every few seconds."""
    org_id, assessment_id = request.path_params["org_id"], request.path_params["assessment_id"]

    async def render(principal: Principal) -> Response:
        rows = await run_in_threadpool(
            roster.invitations, _ctx(request), principal, org_id, assessment_id
        )
        from starlette.responses import JSONResponse

        return JSONResponse(
            {"rows": [{"sitting_id": r["sitting_id"], "status": r["status"]} for r in rows],
             "counts": _counts(rows)}
        )  # fmt: skip

    return await _guarded(request, render)


# -- the organisation -----------------------------------------------------------------------
async def organisation_page(request: Request) -> Response:
    """Members and roles, API tokens, webhooks with their deliveries, retention, the audit log:
    each section shown to whoever may use it; one action per form."""
    org_id = request.path_params["org_id"]

    async def render(principal: Principal) -> Response:
        ctx = _ctx(request)
        done: dict[str, Any] = {}
        if request.method == "POST":
            try:
                form = await _form(request)
            except ApiError as error:
                if error.code != "already_sent":
                    raise
                done = {"error": error.message}
            else:
                done = await _organisation_action(ctx, principal, org_id, form)
        nav = await run_in_threadpool(_nav, ctx, principal, org_id)
        values: dict[str, Any] = {"roles": accounts.ROLES, "scopes": sorted(accounts.SCOPES),
                                  "events": webhooks.EVENTS}  # fmt: skip
        if principal.can(org_id, "members"):
            values["members"] = await run_in_threadpool(accounts.members, ctx, principal, org_id)
        if principal.can(org_id, "tokens"):
            values["tokens"] = await run_in_threadpool(accounts.tokens, ctx, principal, org_id)
        if principal.can(org_id, "webhooks"):
            hooks = await run_in_threadpool(webhooks.listing, ctx, principal, org_id)
            for hook in hooks:
                hook["deliveries"] = (
                    await run_in_threadpool(webhooks.deliveries, ctx, principal, org_id, hook["id"])
                )[:10]
            values["webhooks"] = hooks
        if principal.can(org_id, "audit"):
            after = request.query_params.get("after", "0")
            values["audit"] = await run_in_threadpool(
                audit.entries, ctx, org_id, int(after) if after.isdigit() else 0
            )
        if principal.can(org_id, "organisation"):
            found = await run_in_threadpool(accounts.organisation, ctx, principal, org_id)
            values["retention_days"] = found["retention_days"]
        if not {"members", "tokens", "webhooks", "audit", "retention_days"} & set(values):
            principal.require(org_id, "organisation")  # 403: nothing here for this role
        return _page(
            request, "organisation.html", status=400 if done.get("error") else 200,
            title="Organisation", principal=principal, done=done, **nav, **values,
        )  # fmt: skip

    return await _guarded(request, render)


async def _organisation_action(
    ctx: Context, principal: Principal, org_id: str, form: dict[str, str]
) -> dict[str, Any]:
    action = form.get("action")
    try:
        if action == "add_member":
            made = await run_in_threadpool(
                accounts.add_member, ctx, principal, org_id, form.get("email", ""),
                form.get("role", ""), form.get("name") or None,
            )  # fmt: skip
            message = f"{made['email']} is now {made['role']}."
            if made["created"]:
                message += " A code to choose a password was e-mailed."
            return {"message": message}
        if action == "remove_member":
            await run_in_threadpool(
                accounts.remove_member, ctx, principal, org_id, form.get("user_id", "")
            )
            return {"message": "The member was removed."}
        if action == "create_token":
            scopes = [s for s in accounts.SCOPES if form.get(f"scope_{s}") == "yes"]
            made = await run_in_threadpool(
                accounts.create_token, ctx, principal, org_id, form.get("name", ""), scopes
            )
            return {"secret": made["token"], "message": f"Token {made['name']!r} made."}
        if action == "revoke_token":
            await run_in_threadpool(
                accounts.revoke_token, ctx, principal, org_id, form.get("token_id", "")
            )
            return {"message": "The token was revoked: it stops working now."}
        if action == "create_webhook":
            events = [e for e in webhooks.EVENTS if form.get(f"event_{e}") == "yes"]
            made = await run_in_threadpool(
                webhooks.create, ctx, principal, org_id,
                {"url": form.get("url", ""), "events": events or None},
            )  # fmt: skip
            return {"secret": made["secret"], "message": f"Webhook for {made['url']} made."}
        if action == "disable_webhook":
            await run_in_threadpool(
                webhooks.disable, ctx, principal, org_id, form.get("webhook_id", "")
            )
            return {"message": "The webhook was stopped; its log is kept."}
        if action == "retention":
            text = form.get("days", "").strip()
            days: Any = None if text == "" else int(text) if text.isdigit() else text
            await run_in_threadpool(retention.set_retention, ctx, principal, org_id, {"days": days})
            if days is None:
                return {"message": "Personal data is now kept until erased on request."}
            return {"message": f"Personal data is now erased {days} days after a sitting."}
    except ApiError as error:
        if error.status in (400, 409):
            return {"error": error.message}
        raise
    return {"error": "Choose what to do."}


async def insights_page(request: Request) -> Response:
    org_id, assessment_id = request.path_params["org_id"], request.path_params["assessment_id"]

    async def render(principal: Principal) -> Response:
        ctx = _ctx(request)
        found = await run_in_threadpool(insights.insights, ctx, principal, org_id, assessment_id)
        nav = await run_in_threadpool(_nav, ctx, principal, org_id)
        return _page(
            request, "insights.html", title=f"Item insights: {found['assessment']['title']}",
            principal=principal, found=found, exposure=insights.exposure_chart(found),
            quality=insights.quality_chart(found), **nav,
        )  # fmt: skip

    return await _guarded(request, render)


async def audit_csv(request: Request) -> Response:
    org_id = request.path_params["org_id"]

    async def render(principal: Principal) -> Response:
        principal.require(org_id, "audit")
        text = await run_in_threadpool(audit.export_csv, _ctx(request), org_id)
        return csv_response(text, "audit-log.csv")

    return await _guarded(request, render)


async def script(_request: Request) -> Response:
    return Response(SCRIPT.read_bytes(), media_type="text/javascript")


async def stylesheet(_request: Request) -> Response:
    return Response(STYLESHEET.read_bytes(), media_type="text/css")


def routes() -> list[Route]:
    org = f"{BASE}/orgs/{{org_id}}"
    return [
        Route(f"{BASE}/", home, methods=["GET"]),
        Route(f"{BASE}/sign-in", sign_in_either, methods=["GET", "POST"]),
        Route(f"{BASE}/sign-in/code", sign_in_code, methods=["POST"]),
        Route(f"{BASE}/sign-out", sign_out, methods=["POST"]),
        Route(f"{BASE}/password", password_page, methods=["GET", "POST"]),
        Route(f"{org}/results", results_page, methods=["GET"]),
        Route(f"{org}/results.csv", results_csv, methods=["GET"]),
        Route(f"{org}/results/{{result_id}}", result_page, methods=["GET"]),
        Route(f"{org}/results/{{result_id}}/review", review, methods=["POST"]),
        Route(f"{org}/results/{{result_id}}/certificate", certificate, methods=["GET"]),
        Route(f"{org}/assessments", assessments_page, methods=["GET", "POST"]),
        Route(f"{org}/assessments/{{assessment_id}}/publish", assessment_move, methods=["POST"]),
        Route(f"{org}/assessments/{{assessment_id}}/retire", assessment_move, methods=["POST"]),
        Route(f"{org}/assessments/{{assessment_id}}/invite", invite_page, methods=["GET", "POST"]),
        Route(f"{org}/assessments/{{assessment_id}}/room", room_page, methods=["GET", "POST"]),
        Route(f"{org}/assessments/{{assessment_id}}/room.json", room_json, methods=["GET"]),
        Route(f"{org}/organisation", organisation_page, methods=["GET", "POST"]),
        Route(f"{org}/audit.csv", audit_csv, methods=["GET"]),
        Route(f"{org}/assessments/{{assessment_id}}/insights", insights_page, methods=["GET"]),
        Route("/assets/dashboard.css", stylesheet, methods=["GET"]),
        Route("/assets/room.js", script, methods=["GET"]),
    ]
