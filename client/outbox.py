"""The outbox: signed submissions wait here until the server acknowledges them with a signed
receipt. Uploads retry with exponential backoff and full jitter; the submission id is the
idempotency key, so a repeat after a dropped connection is answered, never double-counted."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from client.api import ApiClient
from client.errors import ServerFailed, ServerRefused, ServerUnreachable
from shared import canonical, crypto
from shared.errors import InvalidSignature
from shared.wire import Receipt, Result

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 60.0


@dataclass(frozen=True)
class Delivered:
    submission_id: str
    result: dict[str, Any]


class Outbox:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection

    def put(self, sitting_id: str, document: dict[str, Any]) -> str:
        """Store a signed submission durably; the same sitting is only ever put once."""
        submission_id = str(document["body"]["submission_id"])
        self.db.execute(
            "INSERT OR IGNORE INTO outbox (submission_id, sitting_id, document) VALUES (?, ?, ?)",
            (submission_id, sitting_id, canonical.dumps(document).decode()),
        )
        row = self.db.execute(
            "SELECT submission_id FROM outbox WHERE sitting_id = ?", (sitting_id,)
        ).fetchone()
        return str(row[0])

    def pending(self) -> list[str]:
        rows = self.db.execute(
            "SELECT submission_id FROM outbox WHERE receipt IS NULL ORDER BY rowid"
        )
        return [row[0] for row in rows]

    def entry(self, submission_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT sitting_id, attempts, last_error, result, receipt, certificate "
            "FROM outbox WHERE submission_id = ?",
            (submission_id,),
        ).fetchone()
        if row is None:
            return None
        return {
            "submission_id": submission_id,
            "sitting_id": row[0],
            "attempts": row[1],
            "last_error": row[2],
            "result": canonical.loads(row[3]) if row[3] else None,
            "receipt": canonical.loads(row[4]) if row[4] else None,
            "certificate": row[5],
        }

    def for_sitting(self, sitting_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT submission_id FROM outbox WHERE sitting_id = ?", (sitting_id,)
        ).fetchone()
        return self.entry(row[0]) if row else None

    def set_certificate(self, submission_id: str, path: str) -> None:
        self.db.execute(
            "UPDATE outbox SET certificate = ? WHERE submission_id = ?", (path, submission_id)
        )

    def _document(self, submission_id: str) -> str:
        row = self.db.execute(
            "SELECT document FROM outbox WHERE submission_id = ?", (submission_id,)
        ).fetchone()
        return str(row[0])

    def deliver(
        self,
        submission_id: str,
        api: ApiClient,
        server_public: bytes,
        *,
        attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> Delivered:
        """Upload one submission until acknowledged or ``attempts`` run out (then re-raise)."""
        rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        document = self._document(submission_id)
        for attempt in range(attempts):
            try:
                answer = api.submit(document.encode())
                result = self._accept(submission_id, document, answer, server_public)
                return Delivered(submission_id, result)
            except (ServerUnreachable, ServerFailed) as error:
                self._failed(submission_id, str(error))
                if attempt + 1 == attempts:
                    raise
                sleep(rng.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)))
            except ServerRefused as error:
                self._failed(submission_id, str(error))
                raise
        raise AssertionError("unreachable")

    def _failed(self, submission_id: str, message: str) -> None:
        self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE submission_id = ?",
            (message, submission_id),
        )

    def _accept(
        self, submission_id: str, document: str, answer: dict[str, Any], server_public: bytes
    ) -> dict[str, Any]:
        receipt = Receipt.from_json(
            crypto.verify_document(answer.get("receipt"), server_public, "receipt")
        )
        expected = hashlib.sha256(document.encode()).hexdigest()
        if receipt.submission_id != submission_id or receipt.submission_sha256 != expected:
            raise InvalidSignature("receipt")
        result = Result.from_json(answer.get("result")).to_json()
        self.db.execute(
            "UPDATE outbox SET result = ?, receipt = ?, last_error = NULL WHERE submission_id = ?",
            (
                canonical.to_text(result),
                canonical.dumps(answer["receipt"]).decode(),
                submission_id,
            ),
        )
        return result
