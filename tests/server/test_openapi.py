"""The API against its own OpenAPI document, with Schemathesis and every check, in-process.

A device's request is signed by ``SigningDevice``, an ASGI layer that plays the enrolled
device's part: when Schemathesis's auth provider marks a request, it signs the exact bytes the
app will read (method, raw path and query, body) with a real device key, as the client does.
A request without the mark (Schemathesis checking that auth is enforced) goes unsigned.

``make test`` runs a few examples per operation; ``make fuzz`` (EXAMGATE_FUZZ_EXAMPLES=1000)
runs a thousand per operation.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

import hypothesis
import schemathesis
from schemathesis import Case
from schemathesis.checks import negative_data_rejection, positive_data_acceptance
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import accounts, db
from server.app import create_app
from server.context import Context
from server.provision import initialise
from server.settings import Limit, Settings
from shared import crypto
from shared.protocol import (
    HEADER_DEVICE,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    request_signing_bytes,
)

EXAMPLES = int(os.environ.get("EXAMGATE_FUZZ_EXAMPLES", "12"))
MARK = "sign-as-the-device"
DEVICE_ID = "fuzzdevice000001"
DEVICE_KEY = crypto.generate_signing_key()
SIGNED = (HEADER_DEVICE, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)


class SigningDevice:
    """Sign marked requests as the enrolled device would, over exactly what is sent."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", []))
        marked = all(headers.get(name.lower().encode()) == MARK.encode() for name in SIGNED)
        if scope["type"] != "http" or not marked:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        timestamp, nonce = str(int(time.time() * 1000)), secrets.token_urlsafe(16)
        signed = request_signing_bytes(
            scope["method"],
            target.decode("latin-1"),
            timestamp,
            nonce,
            hashlib.sha256(body).hexdigest(),
        )
        names = {name.lower().encode() for name in SIGNED}
        kept = [(k, v) for k, v in scope["headers"] if k not in names]
        kept += [
            (HEADER_DEVICE.lower().encode(), DEVICE_ID.encode()),
            (HEADER_TIMESTAMP.lower().encode(), timestamp.encode()),
            (HEADER_NONCE.lower().encode(), nonce.encode()),
            (HEADER_SIGNATURE.lower().encode(), crypto.b64encode(DEVICE_KEY.sign(signed)).encode()),
        ]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(dict(scope, headers=kept), replay, send)


EMPLOYER = re.compile(r"^/(orgs|me|sessions|password|self-registration|policy-presets|ats)\b")
OWNER = {"email": "owner@fuzz.example", "password": "correct horse battery staple"}
CREDENTIALS: dict[str, str] = {}  # org_id, a token for the ATS routes


def fuzzed_app(data: Path) -> Any:
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'examgate.db'}",
        limits={name: Limit(10**9, 60) for name in Settings(data, "").limits},
    )
    initialise(settings)
    ctx = Context.open(settings)
    with ctx.engine.begin() as connection:
        connection.execute(
            db.devices.insert().values(
                id=DEVICE_ID,
                sign_public=crypto.b64encode(crypto.public_bytes(DEVICE_KEY)),
                kex_public=crypto.b64encode(crypto.public_bytes(crypto.generate_kex_key())),
                name="fuzzer",
                created_ms=0,
            )
        )
    org = accounts.create_organisation(ctx, "Fuzz Org")
    accounts.add_member(
        ctx, accounts.operator(), org["id"], OWNER["email"], "owner", "Owner", OWNER["password"]
    )
    token = accounts.create_token(
        ctx, accounts.operator(), org["id"], "ats", ["invite", "results:read"]
    )
    CREDENTIALS.update(org_id=org["id"], token=token["token"])
    CONTEXTS.append(ctx)
    return SigningDevice(create_app(ctx))


CONTEXTS: list[Context] = []


def _schema() -> Any:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="examgate-fuzz-"))
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app(folder))


schema = _schema()
# The API refuses NUL characters in any text (PostgreSQL cannot store them), as its document
# says; JSON Schema has no short way to say so on every string.
schema.config.generation.update(allow_x00=False)


@schema.auth().apply_to(path_regex=EMPLOYER.pattern)
class EmployerAuth:
    """An owner's session (a fresh one for the operation that signs out), or the ATS's token
    as HTTP Basic; the organisation in the path is the owner's, so the routes are reached."""

    def get(self, case: Case, context: Any) -> str:
        if case.path.startswith("/ats/"):
            return "Basic " + base64.b64encode(f"{CREDENTIALS['token']}:".encode()).decode()
        if case.path == "/sessions/current" or "session" not in CREDENTIALS:
            made = accounts.sign_in(CONTEXTS[-1], OWNER["email"], OWNER["password"], None, "fuzz")
            if case.path == "/sessions/current":
                return f"Bearer {made['token']}"  # its own: signed out by this operation
            CREDENTIALS["session"] = made["token"]
        return f"Bearer {CREDENTIALS['session']}"

    def set(self, case: Case, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}
        if case.path_parameters and "org_id" in case.path_parameters:
            case.path_parameters["org_id"] = CREDENTIALS["org_id"]


@schema.auth().skip_for(path_regex=EMPLOYER.pattern)
class DeviceAuth:
    def get(self, case: Case, context: Any) -> str:
        return MARK

    def set(self, case: Case, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), **dict.fromkeys(SIGNED, data)}


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=EXAMPLES < 100,
)
def test_every_operation_keeps_its_documented_contract(case: Case) -> None:
    if EMPLOYER.match(case.path):
        # The employer routes read what they need from a body and ignore the rest, and their
        # request schemas are not closed: every other check applies.
        case.call_and_validate(excluded_checks=[negative_data_rejection, positive_data_acceptance])
        return
    case.call_and_validate()
