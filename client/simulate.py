"""``examgate-client simulate``: a headless candidate driving the same engine as the app.

Enrols, downloads, unlocks (the given code, or the one the server releases), answers every item
by a strategy, seals, syncs and saves the certificate; returns one JSON-ready summary.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client.engine import Engine
from client.errors import ResultNotReady
from client.session import ExamSession

STRATEGIES = ("random", "first")


def answer_all(
    session: ExamSession,
    strategy: str,
    rng: random.Random,
    next_question: Callable[[ExamSession], None] | None = None,
) -> None:
    """Start and answer until the sitting ends; an adaptive sitting's items come from
    ``next_question`` (the engine's)."""
    session.start()
    while session.state == "running":
        if session.awaiting():
            if next_question is None:
                raise ValueError("An adaptive sitting needs the engine to fetch its questions.")
            next_question(session)
            continue
        item = session.current
        assert item is not None
        choice = item.options[0] if strategy == "first" else rng.choice(item.options)
        session.answer([choice.id])
        session.advance()


def run(
    engine: Engine,
    server_url: str,
    invitation: str,
    unlock_code: str | None,
    strategy: str = "random",
    seed: int | None = None,
    certificate_dir: Path | None = None,
    share: bool | None = None,
) -> dict[str, Any]:
    sitting = engine.enrol(server_url, invitation)
    header = engine.download(sitting["id"])
    code = unlock_code or engine.release_code(sitting["id"])
    session = engine.unlock(sitting["id"], code, share=share)
    draws = random.Random(seed)  # noqa: S311 (a simulated candidate)
    answer_all(session, strategy, draws, engine.next_question)
    submission_id = engine.seal(session)
    delivered = {d.submission_id: d.result for d in engine.sync()}
    result = delivered[submission_id]
    if result is None:
        raise ResultNotReady()
    certificate = engine.save_certificate(submission_id, certificate_dir)
    return {
        "submission_id": submission_id,
        "sitting_id": sitting["id"],
        "assessment": header.assessment,
        "items": session.total,
        "answered": session.answered(),
        "end_reason": session.end_reason,
        "result": {
            "overall": result["overall"],
            "categories": {d["name"]: d["level"] for d in result["category_details"]},
            "scoring": result["scoring"],
            "verification_code": result["verification_code"],
            "integrity": {
                "outcome": result["integrity"]["outcome"],
                "flags": result["integrity"]["flags"],
            },
        },
        "certificate": str(certificate),
    }
