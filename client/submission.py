"""Seal a finished sitting into one canonical-JSON submission, signed with the device key."""

from __future__ import annotations

import uuid
from typing import Any

from client.session import ExamSession
from shared import crypto
from shared.crypto import Ed25519PrivateKey
from shared.protocol import SUBMISSION_FORMAT
from shared.wire import PackageHeader


def build(
    session: ExamSession,
    header: PackageHeader,
    device_id: str,
    signing_key: Ed25519PrivateKey,
    submission_id: str | None = None,
) -> dict[str, Any]:
    """The signed submission document for an ended ``session``."""
    if session.state != "ended" or session.end_reason is None:
        raise ValueError("Only an ended sitting can be sealed.")
    body = {
        "format": SUBMISSION_FORMAT,
        "submission_id": submission_id or uuid.uuid4().hex,
        "sitting_id": session.sitting_id,
        "package_id": header.package_id,
        "device_id": device_id,
        "chain_public": session.journal.chain_public,
        "responses": session.responses(),
        "events": session.journal.events,
        "timing": {
            "started_ms": session.started_at_ms,
            "ended_ms": session.ended_at_ms,
            "elapsed_ms": session.elapsed_ms(),
            "duration_s": session.duration_ms // 1000,
        },
        "end_reason": session.end_reason,
    }
    return crypto.sign_document(body, signing_key)
