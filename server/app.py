"""The HTTP API: thin Starlette routes over the operations in ``sittings`` and ``submissions``.

Every route under ``/api/v1`` answers JSON; errors are ``{"error": code, "message": sentence}``.
The OpenAPI document is served at ``/openapi.json``, built from the route docstrings.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.schemas import SchemaGenerator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import sittings, submissions
from server.auth import authenticate
from server.bank.store import practice_items, practice_view
from server.context import Context
from server.errors import ApiError
from server.settings import Settings
from shared import canonical, crypto
from shared.errors import ExamgateError, InvalidSignature, MalformedData
from shared.protocol import API_PREFIX, HEADER_DEVICE, HEADER_SIGNATURE, HEADER_TIMESTAMP

log = logging.getLogger("examgate.server")

schemas = SchemaGenerator(
    {
        "openapi": "3.1.0",
        "info": {
            "title": "examgate API",
            "version": "1",
            "description": (
                "Private routes are authenticated by a device signature: headers "
                f"{HEADER_DEVICE}, {HEADER_TIMESTAMP} (ms since the epoch) and {HEADER_SIGNATURE} "
                "(Ed25519 over 'examgate-request/1', method, path, timestamp and the body's "
                "SHA-256, joined by newlines). Errors are {error, message} JSON objects."
            ),
        },
    }
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


def _too_large(limit: int) -> Response:
    return _error(413, "too_large", f"The request body is larger than {limit} bytes.")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def _device(request: Request) -> tuple[str, bytes]:
    body = await request.body()
    headers = {
        "device": request.headers.get(HEADER_DEVICE, ""),
        "timestamp": request.headers.get(HEADER_TIMESTAMP, ""),
        "signature": request.headers.get(HEADER_SIGNATURE, ""),
    }
    device_id = await run_in_threadpool(
        authenticate, _ctx(request), request.method, request.url.path, headers, body
    )
    return device_id, body


async def health(request: Request) -> JSONResponse:
    """
    summary: Liveness and database check
    responses:
      200: {description: "The server and its database answer."}
    """
    ctx = _ctx(request)

    def ping() -> None:
        with ctx.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    await run_in_threadpool(ping)
    return JSONResponse({"status": "ok"})


async def server_key(request: Request) -> JSONResponse:
    """
    summary: The server's public signing key and its fingerprint, for pinning
    responses:
      200: {description: "public_key (base64url Ed25519) and fingerprint"}
    """
    key = _ctx(request).public_key
    return JSONResponse(
        {"public_key": crypto.b64encode(key), "fingerprint": crypto.fingerprint(key)}
    )


async def enrol(request: Request) -> JSONResponse:
    """
    summary: Claim an invitation with a device's public keys
    requestBody:
      content:
        application/json:
          schema:
            type: object
            required: [invitation, sign_public, kex_public]
            properties:
              invitation: {type: string}
              sign_public: {type: string, description: "base64url Ed25519 public key"}
              kex_public: {type: string, description: "base64url X25519 public key"}
              device_name: {type: string}
    responses:
      200: {description: "device_id, the sitting, and the server key to pin"}
      404: {description: "Unknown or expired invitation"}
      409: {description: "Invitation already used by another device"}
    """
    body = canonical.loads(await request.body())
    return JSONResponse(await run_in_threadpool(sittings.enrol, _ctx(request), body))


async def list_sittings(request: Request) -> JSONResponse:
    """
    summary: The signing device's sittings
    responses:
      200: {description: "sittings: list of id, assessment, duration_s, offline, state"}
      401: {description: "Not signed by an enrolled device"}
    """
    device_id, _ = await _device(request)
    found = await run_in_threadpool(sittings.list_sittings, _ctx(request), device_id)
    return JSONResponse({"sittings": found})


async def package(request: Request) -> JSONResponse:
    """
    summary: The sealed, signed exam package for a sitting (the same one on every call)
    responses:
      200: {description: "A signed document whose body holds header and ciphertext"}
      404: {description: "No such sitting for this device"}
    """
    device_id, _ = await _device(request)
    sitting_id = request.path_params["sitting_id"]
    return JSONResponse(
        await run_in_threadpool(sittings.prepare, _ctx(request), device_id, sitting_id)
    )


async def start(request: Request) -> JSONResponse:
    """
    summary: Start an online sitting; releases its unlock code
    responses:
      200: {description: "unlock_code"}
      403: {description: "A supervised sitting: the proctor gives the code"}
    """
    device_id, _ = await _device(request)
    sitting_id = request.path_params["sitting_id"]
    return JSONResponse(
        await run_in_threadpool(sittings.start, _ctx(request), device_id, sitting_id)
    )


async def submit(request: Request) -> JSONResponse:
    """
    summary: Upload a signed submission; repeats with the same submission id return the same result
    requestBody:
      content:
        application/json:
          schema: {type: object, required: [body, signature]}
    responses:
      200: {description: "The result (levels, feedback, study plan) and a signed receipt"}
      400: {description: "Malformed submission or bad signature"}
      409: {description: "Sitting already submitted, or a different submission with this id"}
      413: {description: "Body too large"}
    """
    device_id, body = await _device(request)
    ctx = _ctx(request)
    answer = await run_in_threadpool(submissions.submit, ctx, device_id, body)
    return JSONResponse({"result": answer, "receipt": submissions.receipt(ctx, answer)})


async def result(request: Request) -> JSONResponse:
    """
    summary: The result of one of this device's submissions
    responses:
      200: {description: "The result"}
      404: {description: "No such result for this device"}
    """
    device_id, _ = await _device(request)
    submission_id = request.path_params["submission_id"]
    found = await run_in_threadpool(submissions.result_for, _ctx(request), device_id, submission_id)
    return JSONResponse(found)


async def certificate(request: Request) -> Response:
    """
    summary: The PDF certificate of one of this device's submissions
    responses:
      200: {description: "application/pdf"}
      404: {description: "No such certificate for this device"}
    """
    device_id, _ = await _device(request)
    submission_id = request.path_params["submission_id"]
    pdf = await run_in_threadpool(
        submissions.certificate_for, _ctx(request), device_id, submission_id
    )
    return Response(pdf, media_type="application/pdf")


async def verify(request: Request) -> JSONResponse:
    """
    summary: Public check of a certificate's verification code
    responses:
      200: {description: "genuine (bool) and, if genuine, what the certificate states"}
    """
    found = await run_in_threadpool(
        submissions.verify_code, _ctx(request), request.path_params["code"]
    )
    return JSONResponse(found)


async def verify_page(request: Request) -> HTMLResponse:
    found = await run_in_threadpool(
        submissions.verify_code, _ctx(request), request.path_params["code"]
    )
    code = html.escape(found["verification_code"])
    if not found["genuine"]:
        body = f"<h1>Not a genuine certificate</h1><p>No certificate has the code {code}.</p>"
    else:
        rows = "".join(
            f"<tr><td>{html.escape(name)}</td><td>{html.escape(level.capitalize())}</td></tr>"
            for name, level in found["categories"].items()
        )
        body = (
            f"<h1>Genuine certificate</h1><p>{html.escape(found['candidate'])} sat the "
            f"{html.escape(found['assessment'])} on {found['date']}. Overall level: "
            f"<b>{html.escape(found['overall'].capitalize())}</b>.</p><table>{rows}</table>"
            f"<p>Verification code {code}.</p>"
        )
    page = f"<!doctype html><meta charset=utf-8><title>examgate verification</title>{body}"
    return HTMLResponse(page)


async def practice(request: Request) -> JSONResponse:
    """
    summary: The public practice questions, with their answers and an explanation per option
    responses:
      200: {description: "items: id, category, skill, stem, options (id, text, feedback), key"}
    """
    ctx = _ctx(request)

    def load() -> list[dict[str, Any]]:
        with ctx.engine.connect() as connection:
            return [practice_view(item) for item in practice_items(connection)]

    return JSONResponse({"items": await run_in_threadpool(load)})


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(schemas.get_schema(routes=request.app.routes))


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return _error(error.status, error.code, error.message)


async def _examgate_error(request: Request, error: Exception) -> Response:
    if isinstance(error, InvalidSignature):
        return _error(400, "bad_signature", str(error))
    if isinstance(error, MalformedData):
        return _error(400, "malformed", str(error))
    return _error(400, "refused", str(error))


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    return _error(error.status_code, "http_error", error.detail)


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _error(
        500, "internal", "The server hit an unexpected error; the request changed nothing."
    )


Handler = Callable[[Request, Exception], Awaitable[Response]]


def create_app(ctx: Context) -> Starlette:
    routes = [
        Route(f"{API_PREFIX}/health", health, methods=["GET"]),
        Route(f"{API_PREFIX}/server-key", server_key, methods=["GET"]),
        Route(f"{API_PREFIX}/enrol", enrol, methods=["POST"]),
        Route(f"{API_PREFIX}/sittings", list_sittings, methods=["GET"]),
        Route(f"{API_PREFIX}/sittings/{{sitting_id}}/package", package, methods=["POST"]),
        Route(f"{API_PREFIX}/sittings/{{sitting_id}}/start", start, methods=["POST"]),
        Route(f"{API_PREFIX}/submissions", submit, methods=["POST"]),
        Route(f"{API_PREFIX}/results/{{submission_id}}", result, methods=["GET"]),
        Route(f"{API_PREFIX}/results/{{submission_id}}/certificate", certificate, methods=["GET"]),
        Route(f"{API_PREFIX}/verify/{{code}}", verify, methods=["GET"]),
        Route(f"{API_PREFIX}/practice", practice, methods=["GET"]),
        Route("/verify/{code}", verify_page, methods=["GET"], include_in_schema=False),
        Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False),
    ]
    handlers: dict[Any, Handler] = {
        ApiError: _api_error,
        ExamgateError: _examgate_error,
        HTTPException: _http_error,
        Exception: _unexpected,
    }
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.ctx = ctx
    app.add_middleware(BodyLimit, limit=ctx.settings.max_body_bytes)
    return app


def app_from_environment() -> Starlette:
    """The app for ``uvicorn --factory`` and for each worker process: reads EXAMGATE_DATA."""
    settings = Settings.load(Path(os.environ["EXAMGATE_DATA"]))
    return create_app(Context.open(settings))
