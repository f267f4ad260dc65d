"""The HTTP API: thin Starlette routes over the operations in ``invitations``, ``packages`` and
``results``.

Every route under ``/api/v1`` answers JSON; errors are ``{"error": code, "message": sentence}``.
The OpenAPI document (``server.openapi``) is served at ``/openapi.json``. Every response carries
``nosniff`` and no-referrer headers, HTML pages a strict Content-Security-Policy; access is logged
by route template, so no code or id from a path reaches a log.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette import responses
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import (
    ats,
    credentials,
    dashboard,
    delivery,
    employer_api,
    employer_results,
    invitations,
    jobs,
    limits,
    logs,
    metrics,
    openapi,
    packages,
    pages,
    results,
)
from server.auth import authenticate
from server.bank.store import cached_items, practice_items, practice_view
from server.context import Context
from server.errors import ApiError, refusal
from server.settings import Settings
from shared import canonical
from shared.errors import ExamgateError, MalformedData
from shared.protocol import (
    API_PREFIX,
    HEADER_DEVICE,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
)

T = TypeVar("T")


class JSONResponse(responses.JSONResponse):
    """JSON answers written by orjson: the same JSON, in a tenth of the time for a result."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


log = logging.getLogger("examgate.server")
_CODE = re.compile(r"[A-Za-z0-9-]{1,64}")
access_log = logging.getLogger("examgate.access")

CERTIFICATE_RETRY_S = 1
CERTIFICATE_LONG_POLL_S = 2.0

HTML_POLICY = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Refuse bodies over ``limit`` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                await _too_large(self.limit)(scope, receive, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await _too_large(self.limit)(scope, receive, send)


PROBES = frozenset({"/health", "/ready", "/metrics"})
_RESULTS = f"{API_PREFIX}/results/"


def _polling(scope: Scope) -> bool:
    """A monitor's probe, or a device asking after its result (a light read, and asked for
    by every device of a burst while the jobs it waits for run)."""
    path = scope["path"]
    return path in PROBES or (scope.get("method") == "GET" and path.startswith(_RESULTS))


class SecurityHeaders:
    """Headers every response carries, and a strict policy on HTML pages; a request id (the
    proxy's ``X-Request-ID`` or a new one) on the response and on every log line of the
    request; one access log line and one latency observation per request, by the route's
    template instead of its path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = logs.new_request_id(given)
        token = logs.request_id.set(rid)
        counted = not _polling(scope)  # a monitor's or a device's polling holds no job back
        if counted:
            jobs.request_started()

        async def with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode()))
                kinds = [v for k, v in headers if k.lower() == b"content-type"]
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"cache-control", b"no-store"),
                ]
                if kinds and kinds[0].startswith(b"text/html"):
                    headers += [
                        (b"content-security-policy", HTML_POLICY.encode()),
                        (b"x-frame-options", b"DENY"),
                    ]
                message = dict(message, headers=headers)
            await send(message)

        try:
            await self.app(scope, receive, with_headers)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "(no route)"
            elapsed = time.perf_counter() - started
            method = scope.get("method", "-")
            metrics.REQUEST_SECONDS.labels(route=template, method=method, status=status).observe(
                elapsed
            )
            access_log.info(
                "%s %s %d %.1f ms",
                method,
                template,
                status,
                elapsed * 1000,
                extra={"route": template, "status": status, "ms": round(elapsed * 1000, 1)},
            )
            logs.request_id.reset(token)
            if counted:
                jobs.request_finished()


def _too_large(limit: int) -> Response:
    return _error(413, "too_large", f"The request body is larger than {limit} bytes.")


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _target(request: Request) -> str:
    """The raw path as sent, with its query string: what the device signed."""
    path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    return (path + (b"?" + query if query else b"")).decode("latin-1")


def _signed_headers(request: Request) -> dict[str, str]:
    return {
        "device": request.headers.get(HEADER_DEVICE, ""),
        "timestamp": request.headers.get(HEADER_TIMESTAMP, ""),
        "nonce": request.headers.get(HEADER_NONCE, ""),
        "signature": request.headers.get(HEADER_SIGNATURE, ""),
    }


async def _device(request: Request, kind: str | None = None) -> tuple[str, bytes]:
    """The signing device and the body, after the device's request limits."""
    body = await request.body()
    kinds = ("device",) if kind is None else ("device", kind)
    device_id = await run_in_threadpool(
        authenticate, _ctx(request), request.method, _target(request), _signed_headers(request),
        body, kinds,
    )  # fmt: skip
    return device_id, body


async def _as_device(request: Request, kind: str, work: Callable[[str, bytes], T]) -> T:
    """Authenticate the device, count it against its limits and do ``work(device_id, body)``,
    all in one worker thread (the upload burst's path: one hand-over instead of two)."""
    body = await request.body()
    ctx, method, target, headers = (
        _ctx(request),
        request.method,
        _target(request),
        _signed_headers(request),
    )

    def run() -> T:
        return work(authenticate(ctx, method, target, headers, body, ("device", kind)), body)

    return await run_in_threadpool(run)


async def _public(request: Request) -> None:
    await run_in_threadpool(limits.hit, _ctx(request), "public", _address(request))


async def health(request: Request) -> JSONResponse:
    ctx = _ctx(request)

    def ping() -> None:
        with ctx.reader.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    await run_in_threadpool(ping)
    return JSONResponse({"status": "ok"})


async def alive(_request: Request) -> JSONResponse:
    """Liveness: the process answers (it touches nothing else, so a slow database does not get
    a healthy process restarted)."""
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> JSONResponse:
    """Readiness: the database answers and the job queue can be read. 503 with the failing
    part otherwise, so a proxy sends no traffic here until it passes."""
    ctx = _ctx(request)

    def check() -> dict[str, Any]:
        answer: dict[str, Any] = {"database": "ok", "queue": "ok"}
        try:
            with ctx.reader.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except Exception as error:  # the point of the check: report, not raise
            answer["database"] = f"unreachable ({type(error).__name__})"
            return answer
        try:
            found = jobs.status(ctx)
            answer["jobs_pending"] = sum(found["pending"].values())
            answer["jobs_failed"] = sum(found["failed"].values())
        except Exception as error:
            answer["queue"] = f"unreadable ({type(error).__name__})"
        return answer

    answer = await run_in_threadpool(check)
    ok = answer["database"] == "ok" and answer["queue"] == "ok"
    answer["status"] = "ok" if ok else "unavailable"
    return JSONResponse(answer, status_code=200 if ok else 503)


async def metrics_page(request: Request) -> Response:
    """Prometheus metrics, for the machine itself or a scraper holding EXAMGATE_METRICS_TOKEN
    (counts and timings only, yet nothing the public needs)."""
    token = os.environ.get("EXAMGATE_METRICS_TOKEN", "")
    given = request.headers.get("authorization", "")
    local = _address(request) in ("127.0.0.1", "::1")
    if not local and not (token and hmac.compare_digest(given, f"Bearer {token}")):
        return _error(
            403,
            "forbidden",
            "Metrics are served to this machine, or to a scraper with the metrics token.",
        )
    body = await run_in_threadpool(metrics.exposition, _ctx(request))
    return Response(body, media_type=metrics.CONTENT_TYPE)


async def server_key(request: Request) -> JSONResponse:
    await _public(request)
    return JSONResponse(invitations.server_keys(_ctx(request)))


async def enrol(request: Request) -> JSONResponse:
    body = canonical.loads(await request.body())
    found = await run_in_threadpool(invitations.enrol, _ctx(request), body, _address(request))
    return JSONResponse(found)


async def list_sittings(request: Request) -> JSONResponse:
    device_id, _ = await _device(request)
    found = await run_in_threadpool(invitations.list_sittings, _ctx(request), device_id)
    return JSONResponse({"sittings": found})


async def package(request: Request) -> JSONResponse:
    device_id, body = await _device(request)
    sitting_id = request.path_params["sitting_id"]
    return JSONResponse(
        await run_in_threadpool(packages.prepare, _ctx(request), device_id, sitting_id, body)
    )


async def start(request: Request) -> JSONResponse:
    device_id, body = await _device(request, "start")
    sitting_id = request.path_params["sitting_id"]
    return JSONResponse(
        await run_in_threadpool(packages.start, _ctx(request), device_id, sitting_id, body)
    )


async def next_step(request: Request) -> JSONResponse:
    device_id, body = await _device(request)
    sitting_id = request.path_params["sitting_id"]
    return JSONResponse(
        await run_in_threadpool(delivery.step, _ctx(request), device_id, sitting_id, body)
    )


async def checkpoint(request: Request) -> JSONResponse:
    device_id, body = await _device(request)
    sitting_id = request.path_params["sitting_id"]
    return JSONResponse(
        await run_in_threadpool(packages.checkpoint, _ctx(request), device_id, sitting_id, body)
    )


async def submit(request: Request) -> JSONResponse:
    """An upload is scored before it is answered, unless more than the settings' inline limit
    are in flight in this process (an end-of-exam burst): then it is verified, stored and
    receipted at once (202), and the device asks for its result a moment later."""
    ctx, state = _ctx(request), request.app.state
    state.uploads += 1
    defer = state.uploads > ctx.settings.score_inline_limit

    def receive(device_id: str, body: bytes) -> tuple[dict[str, Any], dict[str, Any], int]:
        answer = results.submit(ctx, device_id, body, defer=defer)
        retry = results.result_retry_s(ctx) if answer.get("result_pending") else 0
        return answer, results.receipt(ctx, answer), retry

    try:
        answer, receipt, retry = await _as_device(request, "submit", receive)
    finally:
        state.uploads -= 1
    if answer.get("result_pending"):  # GET /results/{submission_id} has it once scored
        return _pending("result", {"result": None, "receipt": receipt}, retry)
    return JSONResponse({"result": answer, "receipt": receipt})


async def hand_in(request: Request) -> JSONResponse:
    ctx = _ctx(request)
    await run_in_threadpool(limits.hit, ctx, "hand_in", _address(request))
    answer = await run_in_threadpool(results.hand_in, ctx, await request.body())
    # Whoever carries the file learns that it was received, not the candidate's result.
    return JSONResponse(
        {"submission_id": answer["submission_id"], "receipt": results.receipt(ctx, answer)}
    )


async def result_shares(request: Request) -> JSONResponse:
    device_id, body = await _device(request)
    ctx, submission_id = _ctx(request), request.path_params["submission_id"]
    if request.method == "POST":
        found = await run_in_threadpool(
            employer_results.grant, ctx, device_id, submission_id, canonical.loads(body or b"{}")
        )
        return JSONResponse(found, status_code=201)
    listed = await run_in_threadpool(employer_results.shares, ctx, device_id, submission_id)
    return JSONResponse({"items": listed})


async def result_share_revoke(request: Request) -> Response:
    device_id, _ = await _device(request)
    await run_in_threadpool(
        employer_results.revoke, _ctx(request), device_id,
        request.path_params["submission_id"], request.path_params["organisation"],
    )  # fmt: skip
    return Response(status_code=204)


async def result(request: Request) -> JSONResponse:
    device_id, _ = await _device(request)
    submission_id = request.path_params["submission_id"]
    ctx = _ctx(request)

    def look() -> tuple[dict[str, Any], int]:  # one hand-over: devices poll this in a burst
        found = results.result_for(ctx, device_id, submission_id)
        return found, results.result_retry_s(ctx) if found.get("result_pending") else 0

    found, retry = await run_in_threadpool(look)
    if found.get("result_pending"):
        return _pending("result", retry_s=retry)
    return JSONResponse(found)


async def certificate(request: Request) -> Response:
    device_id, _ = await _device(request)
    submission_id = request.path_params["submission_id"]
    ctx = _ctx(request)
    pdf = await run_in_threadpool(results.certificate_for, ctx, device_id, submission_id)
    # Rendered just after the result is stored: wait a moment for it rather than send the
    # client away for a second (the job is not held back by this waiting request).
    waited = 0.0
    with jobs.idle_request():
        while pdf is None and waited < CERTIFICATE_LONG_POLL_S:
            await asyncio.sleep(0.1)
            waited += 0.1
            pdf = await run_in_threadpool(results.certificate_for, ctx, device_id, submission_id)
    if pdf is None:  # stored, and the certificate job has not run yet: ask again shortly
        return _pending("certificate")
    return Response(pdf, media_type="application/pdf")


def _pending(
    what: str, more: dict[str, Any] | None = None, retry_s: int = CERTIFICATE_RETRY_S
) -> JSONResponse:
    """202: stored, and the job that makes ``what`` has not run yet; ask again shortly."""
    message = f"The {what} is being prepared; ask again in a moment."
    return JSONResponse(
        {**(more or {}), "status": "pending", "message": message},
        status_code=202,
        headers={"Retry-After": str(retry_s)},
    )


async def _verified(request: Request) -> dict[str, Any]:
    """A certificate look-up, within the address's limits (failed look-ups count apart)."""
    ctx, address = _ctx(request), _address(request)
    code = request.path_params["code"]
    if not _CODE.fullmatch(code):
        raise MalformedData(
            "A verification code is letters, digits and dashes, as printed on the certificate."
        )
    await run_in_threadpool(limits.refuse_if_over, ctx, "verify_failed", address)
    await run_in_threadpool(limits.hit, ctx, "verify", address)
    found = await run_in_threadpool(results.verify_code, ctx, code)
    if not found["genuine"]:
        await run_in_threadpool(limits.hit, ctx, "verify_failed", address)
    return found


async def verify(request: Request) -> JSONResponse:
    return JSONResponse(await _verified(request))


async def verify_page(request: Request) -> HTMLResponse:
    try:
        found = await _verified(request)
    except MalformedData:  # not a code's shape: a page that says so, not a bare error
        return HTMLResponse(pages.bad_code_page(request.path_params["code"]), status_code=404)
    return HTMLResponse(pages.verify_page(found), status_code=200 if found["genuine"] else 404)


async def credential_page(request: Request) -> Response:
    """The Open Badges credential of the certificate with this code (its holder shares it)."""
    found = await _verified(request)
    document = None
    if found["genuine"]:
        document = await run_in_threadpool(
            credentials.credential_by_code, _ctx(request), found["verification_code"]
        )
    if document is None:
        raise ApiError(
            404,
            "not_found",
            "No credential has this code yet: check the code, or ask again in a moment if "
            "the result was only just stored.",
        )
    name = f"examgate-credential-{found['verification_code']}.json"
    return JSONResponse(
        document,
        media_type="application/vc+ld+json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def did_document(request: Request) -> JSONResponse:
    return JSONResponse(
        credentials.did_document(_ctx(request)), media_type="application/did+ld+json"
    )


async def status_list(request: Request) -> JSONResponse:
    try:
        number = int(request.path_params["number"])
    except ValueError:
        number = -1
    found = (
        await run_in_threadpool(credentials.status_list, _ctx(request), number)
        if 0 < number < 1_000_000
        else None
    )
    if found is None:
        raise ApiError(404, "not_found", "There is no status list with this number.")
    return JSONResponse(
        found, media_type="application/vc+ld+json", headers={"Cache-Control": "max-age=60"}
    )


async def authority(request: Request) -> Response:
    """The certificate a verifier trusts to check certificates' signatures (public)."""
    pem = _ctx(request).settings.signing_files.authority.read_bytes()
    return Response(
        pem,
        media_type="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="examgate-authority.pem"'},
    )


async def result_credential(request: Request) -> Response:
    device_id, _ = await _device(request)
    submission_id = request.path_params["submission_id"]
    ctx = _ctx(request)
    document = await run_in_threadpool(results.credential_for, ctx, device_id, submission_id)
    if document is None:
        return _pending("credential")
    return JSONResponse(document, media_type="application/vc+ld+json")


async def stylesheet(_request: Request) -> Response:
    return Response(pages.CSS, media_type="text/css")


async def practice(request: Request) -> JSONResponse:
    await _public(request)
    ctx = _ctx(request)

    def load() -> list[dict[str, Any]]:
        with ctx.reader.connect() as connection:
            return [practice_view(item) for item in practice_items(connection)]

    return JSONResponse({"items": await run_in_threadpool(load)})


async def openapi_document(request: Request) -> JSONResponse:
    await _public(request)
    return JSONResponse(openapi.document(_ctx(request).settings.public_url))


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    if error.details:
        body = {**error.details, "error": error.code, "message": error.message}
        return JSONResponse(body, status_code=error.status, headers=error.headers)
    return _error(error.status, error.code, error.message, error.headers)


async def _examgate_error(request: Request, error: Exception) -> Response:
    refused = refusal(error)
    return _error(refused.status, refused.code, refused.message)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return _error(error.status_code, code, error.detail, dict(error.headers or {}))


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s", getattr(request.scope.get("route"), "path", "?"))
    return _error(
        500, "internal", "The server hit an unexpected error; the request changed nothing."
    )


# Database errors that mean "not reachable just now", not a fault in the request or the
# server: PostgreSQL's connection exceptions (class 08), its shutdowns and "cannot connect
# now" (57P01-57P03), too many connections (53300); SQLite's lock wait that ran out.
_UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")
_SQLITE_BUSY = ("database is locked", "database table is locked")


def _unreachable(error: DBAPIError) -> bool:
    if error.connection_invalidated:
        return True
    state = getattr(error.orig, "sqlstate", None) or ""
    if state.startswith(_UNREACHABLE_STATES):
        return True
    return isinstance(error, OperationalError) and str(error.orig) in _SQLITE_BUSY


async def _database_error(request: Request, error: Exception) -> Response:
    """The database went away or stayed busy for a moment (a restart, a failover, a lost
    connection, a lock held past the wait): a 503 the device retries, not a 500. Any other
    database error (a missing table, a full disk, a deadlock) is a fault: a 500, logged with
    its stack."""
    assert isinstance(error, DBAPIError)
    if not _unreachable(error):
        return await _unexpected(request, error)
    log.warning(
        "database unavailable on %s: %s: %s",
        getattr(request.scope.get("route"), "path", "?"),
        type(error.orig).__name__,
        str(error.orig).splitlines()[0][:200] if str(error.orig) else "",
    )
    return _error(
        503,
        "unavailable",
        "The server cannot reach its database just now. Try again in a moment.",
        {"Retry-After": "2"},
    )


Handler = Callable[[Request, Exception], Awaitable[Response]]


def create_app(ctx: Context, run_jobs: bool = False) -> Starlette:
    """The app over ``ctx``; with ``run_jobs`` it works the job queue while it runs."""
    routes = [
        Route("/health", alive, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/metrics", metrics_page, methods=["GET"]),
        Route(f"{API_PREFIX}/health", health, methods=["GET"]),
        Route(f"{API_PREFIX}/server-key", server_key, methods=["GET"]),
        Route(f"{API_PREFIX}/enrol", enrol, methods=["POST"]),
        Route(f"{API_PREFIX}/sittings", list_sittings, methods=["GET"]),
        Route(f"{API_PREFIX}/sittings/{{sitting_id}}/package", package, methods=["POST"]),
        Route(f"{API_PREFIX}/sittings/{{sitting_id}}/start", start, methods=["POST"]),
        Route(f"{API_PREFIX}/sittings/{{sitting_id}}/checkpoint", checkpoint, methods=["POST"]),
        Route(f"{API_PREFIX}/sittings/{{sitting_id}}/next", next_step, methods=["POST"]),
        Route(f"{API_PREFIX}/submissions", submit, methods=["POST"]),
        Route(f"{API_PREFIX}/hand-ins", hand_in, methods=["POST"]),
        Route(f"{API_PREFIX}/results/{{submission_id}}", result, methods=["GET"]),
        Route(f"{API_PREFIX}/results/{{submission_id}}/certificate", certificate, methods=["GET"]),
        Route(
            f"{API_PREFIX}/results/{{submission_id}}/credential", result_credential, methods=["GET"]
        ),
        Route(f"{API_PREFIX}/verify/{{code}}", verify, methods=["GET"]),
        Route(f"{API_PREFIX}/practice", practice, methods=["GET"]),
        Route("/verify/{code}", verify_page, methods=["GET"]),
        Route("/verify/{code}/credential", credential_page, methods=["GET"]),
        Route("/.well-known/did.json", did_document, methods=["GET"]),
        Route("/did.json", did_document, methods=["GET"]),
        Route("/credentials/status/{number}", status_list, methods=["GET"]),
        Route("/trust/authority.pem", authority, methods=["GET"]),
        Route("/assets/examgate.css", stylesheet, methods=["GET"]),
        Route("/openapi.json", openapi_document, methods=["GET"]),
        Route(
            f"{API_PREFIX}/results/{{submission_id}}/shares",
            result_shares,
            methods=["GET", "POST"],
        ),
        Route(
            f"{API_PREFIX}/results/{{submission_id}}/shares/{{organisation}}",
            result_share_revoke,
            methods=["DELETE"],
        ),
        *employer_api.routes(),
        *ats.routes(),
        *dashboard.routes(),
    ]
    handlers: dict[Any, Handler] = {
        ApiError: _api_error,
        ExamgateError: _examgate_error,
        HTTPException: _http_error,
        DBAPIError: _database_error,
        Exception: _unexpected,
    }

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        worker = jobs.start_worker(ctx) if run_jobs else None
        await run_in_threadpool(_settle, ctx)
        try:
            yield
        finally:
            if worker is not None:
                await run_in_threadpool(worker.stop)

    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
    app.state.ctx = ctx
    app.state.uploads = 0  # uploads in flight in this process (server.app.submit)
    app.add_middleware(BodyLimit, limit=ctx.settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app


def _settle(ctx: Context) -> None:
    """Once the process has started: read the bank into memory, then leave everything made so
    far out of the garbage collector's passes (``gc.freeze``) and let it run less often. A
    pass over the whole heap each few hundred allocations cost an upload a seventh of its
    time; what a request makes is still collected."""
    with ctx.reader.connect() as connection:
        cached_items(ctx, connection)
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)


GC_YOUNG_THRESHOLD = 20_000  # allocations between young collections (Python's default: 700)


def app_from_environment() -> Starlette:
    """The app for ``uvicorn --factory`` and for each worker process: reads EXAMGATE_DATA, and
    EXAMGATE_JOBS ("1": work the job queue in this process too; "0": separate workers do)."""
    settings = Settings.load(Path(os.environ["EXAMGATE_DATA"]))
    return create_app(Context.open(settings), run_jobs=os.environ.get("EXAMGATE_JOBS", "1") == "1")
