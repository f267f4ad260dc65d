"""The outbox: signed submissions wait here until the server acknowledges them with a signed
receipt. Nothing here ever gives up silently:

- every failed upload is recorded (how many, the last reason) and the next one scheduled with
  exponential backoff and full jitter (1 s doubling to 60 s), in the database, so it survives
  restarts;
- a refusal no retry can change (the server says the submission is wrong, or too late) marks the
  submission *failed* with the server's sentence, and it stays here, ready to export;
- the submission id is the idempotency key, so a repeat after a dropped connection is answered,
  never double-counted;
- a server under load (an end-of-exam burst) may receipt a submission before scoring it: the
  receipt is kept (the answers are safe) and the result is asked for, politely, until it comes
  (``results_due``, ``fetch_result``), or until the server says why it cannot be scored.
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from client.api import ApiClient
from client.errors import ClientError, ServerFailed, ServerRefused, ServerUnreachable
from shared import canonical, crypto
from shared.errors import InvalidSignature
from shared.wire import Receipt, Result

RESULT_FIRST_ASK_S = 2.0  # after a receipt without a result, if the server named no time
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 60.0
# Refusals a later attempt can overcome: a clock to be set right, a request in flight, a limit.
_RETRYABLE = {401, 408, 425, 429}


def retryable(error: Exception) -> bool:
    if isinstance(error, ServerUnreachable | ServerFailed):
        return True
    if isinstance(error, ServerRefused):
        return error.status in _RETRYABLE or error.code == "in_flight"
    return False


def backoff_s(failures: int, rng: random.Random) -> float:
    """Full jitter: anywhere from 0 to the capped exponential delay after ``failures``."""
    return rng.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, failures - 1)))


@dataclass(frozen=True)
class Delivered:
    submission_id: str
    result: dict[str, Any] | None  # None: received, and the server is still scoring it


@dataclass(frozen=True)
class Status:
    """One finished sitting's way to the server, as the sync view shows it."""

    submission_id: str
    sitting_id: str
    state: str  # "pending", "scoring" (received, no result yet), "received" or "failed"
    attempts: int
    last_error: str | None
    next_attempt_ms: int | None
    received_ms: int | None
    exported: str | None


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
        """Submissions still to be delivered (not received, not refused for good)."""
        rows = self.db.execute(
            "SELECT submission_id FROM outbox WHERE receipt IS NULL AND failed IS NULL "
            "ORDER BY rowid"
        )
        return [row[0] for row in rows]

    def due(self, now_ms: int) -> list[str]:
        """Pending submissions whose next attempt is due."""
        rows = self.db.execute(
            "SELECT submission_id FROM outbox WHERE receipt IS NULL AND failed IS NULL "
            "AND (next_attempt_ms IS NULL OR next_attempt_ms <= ?) ORDER BY rowid",
            (now_ms,),
        )
        return [row[0] for row in rows]

    def next_attempt_ms(self, submission_id: str) -> int | None:
        row = self.db.execute(
            "SELECT next_attempt_ms FROM outbox WHERE submission_id = ?", (submission_id,)
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def results_due(self, now_ms: int) -> list[str]:
        """Received submissions the server is still scoring whose next question is due."""
        rows = self.db.execute(
            "SELECT submission_id FROM outbox WHERE receipt IS NOT NULL AND result IS NULL "
            "AND failed IS NULL AND (next_attempt_ms IS NULL OR next_attempt_ms <= ?) "
            "ORDER BY rowid",
            (now_ms,),
        )
        return [row[0] for row in rows]

    def unscored(self) -> list[str]:
        """Received submissions whose result has not come back yet."""
        rows = self.db.execute(
            "SELECT submission_id FROM outbox WHERE receipt IS NOT NULL AND result IS NULL "
            "AND failed IS NULL ORDER BY rowid"
        )
        return [row[0] for row in rows]

    def entry(self, submission_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT sitting_id, attempts, last_error, result, receipt, certificate, failed "
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
            "failed": row[6],
        }

    def statuses(self) -> list[Status]:
        rows = self.db.execute(
            "SELECT submission_id, sitting_id, attempts, last_error, next_attempt_ms, receipt, "
            "failed, exported, result IS NOT NULL FROM outbox ORDER BY rowid"
        )
        found = []
        for sid, sitting, attempts, error, due, receipt, failed, exported, scored in rows:
            received = (
                int(canonical.loads(receipt)["body"]["received_ms"])
                if receipt is not None
                else None
            )
            state = (
                "failed"
                if failed
                else "received"
                if receipt and scored
                else "scoring"
                if receipt
                else "pending"
            )
            found.append(
                Status(sid, sitting, state, attempts, failed or error, due, received, exported)
            )
        return found

    def for_sitting(self, sitting_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT submission_id FROM outbox WHERE sitting_id = ?", (sitting_id,)
        ).fetchone()
        return self.entry(row[0]) if row else None

    def set_certificate(self, submission_id: str, path: str) -> None:
        self.db.execute(
            "UPDATE outbox SET certificate = ? WHERE submission_id = ?", (path, submission_id)
        )

    def set_exported(self, submission_id: str, path: str) -> None:
        self.db.execute(
            "UPDATE outbox SET exported = ? WHERE submission_id = ?", (path, submission_id)
        )

    def document(self, submission_id: str) -> str:
        row = self.db.execute(
            "SELECT document FROM outbox WHERE submission_id = ?", (submission_id,)
        ).fetchone()
        return str(row[0])

    # -- delivery --------------------------------------------------------------------------------
    def attempt(
        self,
        submission_id: str,
        api: ApiClient,
        server_public: bytes,
        now_ms: int,
        rng: random.Random,
    ) -> Delivered:
        """Upload once. A failure is recorded and re-raised: a retryable one schedules the next
        attempt, any other marks the submission failed with the server's reason."""
        document = self.document(submission_id)
        try:
            answer = api.submit(document.encode())
            result = self._accept(submission_id, document, answer, server_public, now_ms, rng)
            return Delivered(submission_id, result)
        except ClientError as error:
            self._failed(submission_id, error, now_ms, rng)
            raise

    def fetch_result(
        self, submission_id: str, api: ApiClient, now_ms: int, rng: random.Random
    ) -> dict[str, Any] | float:
        """Ask once for the result of a submission the server received before scoring it:
        the result (kept here), or the seconds the server asks to wait. A refusal (scoring
        found the submission wrong) marks it failed with the server's sentence and is raised."""
        try:
            answer = api.result(submission_id)
        except ClientError as error:
            self._failed(submission_id, error, now_ms, rng)
            raise
        if isinstance(answer, float):
            self.db.execute(
                "UPDATE outbox SET next_attempt_ms = ? WHERE submission_id = ?",
                (now_ms + int(answer * 1000 * rng.uniform(1.0, 1.2)), submission_id),
            )
            return answer
        result = Result.from_json(answer).to_json()
        self.db.execute(
            "UPDATE outbox SET result = ?, last_error = NULL, next_attempt_ms = NULL "
            "WHERE submission_id = ?",
            (canonical.to_text(result), submission_id),
        )
        return result

    def _failed(
        self, submission_id: str, error: ClientError, now_ms: int, rng: random.Random
    ) -> None:
        """Record a failed attempt: a retryable one schedules the next, any other marks the
        submission failed with the server's reason."""
        if retryable(error):
            failures = self._failures(submission_id) + 1
            delay_ms = int(backoff_s(failures, rng) * 1000)
            if isinstance(error, ServerRefused) and error.retry_after_s:
                delay_ms = max(delay_ms, error.retry_after_s * 1000)
            self.db.execute(
                "UPDATE outbox SET attempts = ?, last_error = ?, next_attempt_ms = ? "
                "WHERE submission_id = ?",
                (failures, str(error), now_ms + delay_ms, submission_id),
            )
        else:
            self.db.execute(
                "UPDATE outbox SET attempts = attempts + 1, failed = ? WHERE submission_id = ?",
                (str(error), submission_id),
            )

    def _failures(self, submission_id: str) -> int:
        row = self.db.execute(
            "SELECT attempts FROM outbox WHERE submission_id = ?", (submission_id,)
        ).fetchone()
        return int(row[0])

    def deliver(
        self,
        submission_id: str,
        api: ApiClient,
        server_public: bytes,
        *,
        attempts: int | None = 6,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> Delivered:
        """Upload until acknowledged; ``attempts`` bounds this call (None: until delivered or
        refused for good). Whatever happens is recorded; the next call carries on."""
        rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        tried = 0
        while True:
            try:
                return self.attempt(submission_id, api, server_public, now_ms(), rng)
            except ClientError as error:
                tried += 1
                if not retryable(error) or (attempts is not None and tried >= attempts):
                    raise
                sleep(max(0.0, ((self.next_attempt_ms(submission_id) or 0) - now_ms()) / 1000))

    def _accept(
        self,
        submission_id: str,
        document: str,
        answer: dict[str, Any],
        server_public: bytes,
        now_ms: int,
        rng: random.Random,
    ) -> dict[str, Any] | None:
        receipt = Receipt.from_json(
            crypto.verify_document(answer.get("receipt"), server_public, "receipt")
        )
        expected = hashlib.sha256(document.encode()).hexdigest()
        if receipt.submission_id != submission_id or receipt.submission_sha256 != expected:
            raise InvalidSignature("receipt")
        if answer.get("result") is None and answer.get("status") == "pending":
            wait_s = float(answer.get("retry_after_s") or RESULT_FIRST_ASK_S)
            self.db.execute(  # received; the result is asked for when the server said
                "UPDATE outbox SET receipt = ?, last_error = NULL, next_attempt_ms = ? "
                "WHERE submission_id = ?",
                (
                    canonical.dumps(answer["receipt"]).decode(),
                    now_ms + int(wait_s * 1000 * rng.uniform(1.0, 1.2)),
                    submission_id,
                ),
            )
            return None
        result = Result.from_json(answer.get("result")).to_json()
        self.db.execute(
            "UPDATE outbox SET result = ?, receipt = ?, last_error = NULL, next_attempt_ms = NULL "
            "WHERE submission_id = ?",
            (
                canonical.to_text(result),
                canonical.dumps(answer["receipt"]).decode(),
                submission_id,
            ),
        )
        return result
