"""The HTTP client for the examgate API (requests), signing private requests with the device key.

Every failure becomes a ``ClientError`` with a sentence: unreachable, refused (4xx, with the
server's reason), or failed (5xx). The ``requests.Session`` is a parameter, the transport seam.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from client.errors import ServerFailed, ServerRefused, ServerUnreachable
from shared import canonical, crypto
from shared.crypto import Ed25519PrivateKey, X25519PrivateKey, b64encode
from shared.errors import MalformedData
from shared.protocol import (
    API_PREFIX,
    ENROL_KEX_INFO,
    HEADER_DEVICE,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    enrol_transcript,
    request_signing_bytes,
)


class ApiClient:
    def __init__(
        self,
        base_url: str,
        *,
        device_id: str | None = None,
        signing_key: Ed25519PrivateKey | None = None,
        session: requests.Session | None = None,
        timeout_s: float = 20.0,
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.device_id = device_id
        self.signing_key = signing_key
        self.session = session or requests.Session()
        self.timeout_s = timeout_s
        self.now_ms = now_ms or (lambda: time.time_ns() // 1_000_000)

    def _headers(self, method: str, target: str, body: bytes) -> dict[str, str]:
        if self.device_id is None or self.signing_key is None:
            return {}
        timestamp = str(self.now_ms())
        nonce = secrets.token_urlsafe(16)
        digest = hashlib.sha256(body).hexdigest()
        message = request_signing_bytes(method, target, timestamp, nonce, digest)
        return {
            HEADER_DEVICE: self.device_id,
            HEADER_TIMESTAMP: timestamp,
            HEADER_NONCE: nonce,
            HEADER_SIGNATURE: b64encode(self.signing_key.sign(message)),
        }

    def request(self, method: str, route: str, body: bytes = b"") -> requests.Response:
        url = self.base_url + API_PREFIX + route
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = self._headers(method, target, body)
        if body:
            headers["Content-Type"] = "application/json"
        try:
            response = self.session.request(
                method, url, data=body or None, headers=headers, timeout=self.timeout_s
            )
        except requests.RequestException as error:
            raise ServerUnreachable(self.base_url) from error
        if response.status_code >= 500:
            raise ServerFailed(response.status_code)
        if response.status_code >= 400:
            try:
                reason = response.json()
                code, message = str(reason["error"]), str(reason["message"])
            except (ValueError, KeyError, TypeError):
                code, message = (
                    "refused",
                    f"The server refused the request ({response.status_code}).",
                )
            retry = response.headers.get("Retry-After", "")
            raise ServerRefused(
                response.status_code, code, message, int(retry) if retry.isdigit() else None
            )
        return response

    def json(self, method: str, route: str, payload: Any = None) -> Any:
        body = canonical.dumps(payload) if payload is not None else b""
        response = self.request(method, route, body)
        try:
            return canonical.loads(response.content)
        except MalformedData as error:
            raise MalformedData("The server's answer was not valid JSON.") from error

    # -- the API, one method per route ------------------------------------------------------
    def server_key(self) -> dict[str, Any]:
        return dict(self.json("GET", "/server-key"))

    def enrol(
        self,
        invitation: str,
        signing: Ed25519PrivateKey,
        kex: X25519PrivateKey,
        name: str,
        server_kex_public: bytes,
    ) -> dict[str, Any]:
        """Claim an invitation, proving possession of both private keys: an Ed25519 signature
        and an HMAC under the X25519 secret shared with the server, over the same transcript."""
        payload: dict[str, Any] = {
            "invitation": invitation,
            "sign_public": b64encode(crypto.public_bytes(signing)),
            "kex_public": b64encode(crypto.public_bytes(kex)),
            "device_name": name,
            "timestamp": self.now_ms(),
            "nonce": secrets.token_urlsafe(16),
        }
        transcript = enrol_transcript(payload)
        shared = crypto.shared_key(kex, server_kex_public, ENROL_KEX_INFO)
        payload["signature"] = b64encode(signing.sign(transcript))
        payload["kex_proof"] = b64encode(hmac.new(shared, transcript, hashlib.sha256).digest())
        return dict(self.json("POST", "/enrol", payload))

    def sittings(self) -> list[dict[str, Any]]:
        return list(self.json("GET", "/sittings")["sittings"])

    def package(self, sitting_id: str, chain_public: str) -> dict[str, Any]:
        route = f"/sittings/{sitting_id}/package"
        return dict(self.json("POST", route, {"chain_public": chain_public}))

    def start(self, sitting_id: str, chain_public: str) -> dict[str, Any]:
        """Release an online sitting's code: ``unlock_code``, ``started_ms`` and ``ends_ms``."""
        answer = self.json("POST", f"/sittings/{sitting_id}/start", {"chain_public": chain_public})
        if not isinstance(answer.get("unlock_code"), str) or type(answer.get("ends_ms")) is not int:
            raise MalformedData("The server's answer holds no unlock code.")
        return dict(answer)

    def submit(self, document: bytes) -> dict[str, Any]:
        """The server's answer: ``result`` and ``receipt``; under load (202) the receipt alone,
        ``result`` None, and the result comes from ``result`` a moment later."""
        response = self.request("POST", "/submissions", document)
        answer = dict(canonical.loads(response.content))
        if response.status_code == 202:
            answer["retry_after_s"] = _retry_after(response)
        return answer

    def result(self, submission_id: str) -> dict[str, Any] | float:
        """The result of a received submission; or, while the server is still scoring it (202),
        how many seconds it asks the client to wait before asking again."""
        response = self.request("GET", f"/results/{submission_id}")
        if response.status_code == 202:
            return _retry_after(response)
        return dict(canonical.loads(response.content))

    def practice(self) -> list[dict[str, Any]]:
        return list(self.json("GET", "/practice")["items"])

    def next_step(
        self, sitting_id: str, position: int | None = None, options: list[str] | None = None
    ) -> dict[str, Any]:
        """Adaptive sittings: send the answer to the question at ``position`` (None: only ask
        for the question on screen) and return the server's next step: ``{"done": false,
        "position", "item", "ends_ms"}`` or ``{"done": true, "reason", "ends_ms"}``."""
        body: dict[str, Any] = {}
        if position is not None:
            body = {"position": position, "options": list(options or [])}
        return dict(self.json("POST", f"/sittings/{sitting_id}/next", body))

    def checkpoint(
        self,
        sitting_id: str,
        seq: int,
        digest: str,
        final: bool = False,
        locked: bool | None = None,
    ) -> int:
        """Tell the server how far this sitting's log has come (``final``: this is its end;
        ``locked``: whether the sitting is locked now, for the proctor's room); return the
        furthest point the server has seen."""
        route = f"/sittings/{sitting_id}/checkpoint"
        body: dict[str, Any] = {"seq": seq, "hash": digest, "final": final}
        if locked is not None:
            body["locked"] = locked
        answer = self.json("POST", route, body)
        return int(answer["seq"])

    def shares(self, submission_id: str) -> list[dict[str, Any]]:
        """Who this device's result is shared with (and was: revoked shares are listed)."""
        return list(self.json("GET", f"/results/{submission_id}/shares")["items"])

    def share(self, submission_id: str, organisation: str) -> dict[str, Any]:
        """Share the result with the organisation whose handle is ``organisation``."""
        route = f"/results/{submission_id}/shares"
        return dict(self.json("POST", route, {"organisation": organisation}))

    def unshare(self, submission_id: str, organisation: str) -> None:
        """Stop sharing the result with an organisation (at once)."""
        self.request("DELETE", f"/results/{submission_id}/shares/{quote(organisation, safe='')}")

    def credential(self, submission_id: str) -> dict[str, Any] | float:
        """The Open Badges credential (JSON); or, while it is still being issued, the seconds
        the server asks the client to wait."""
        response = self.request("GET", f"/results/{submission_id}/credential")
        if response.status_code == 202:
            return _retry_after(response)
        found: dict[str, Any] = response.json()
        return found

    def certificate(self, submission_id: str) -> bytes | float:
        """The certificate PDF; or, while the server is still rendering it (202), how many
        seconds it asks the client to wait before asking again."""
        response = self.request("GET", f"/results/{submission_id}/certificate")
        if response.status_code == 202:
            return _retry_after(response)
        return response.content


def _retry_after(response: requests.Response) -> float:
    retry = response.headers.get("Retry-After", "")
    return float(retry) if retry.isdigit() else 1.0
