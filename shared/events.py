"""The hash chain over a sitting's events, built by the client and checked by the server.

Each event carries ``seq`` (0, 1, 2, ...), ``prev`` (the previous event's hash, or the sitting's
genesis value for the first) and ``hash`` = SHA-256 over ``prev`` and the canonical JSON of the
event without its hash. Removing, reordering or editing any event breaks every later link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from shared import canonical
from shared.errors import MalformedData


def genesis(sitting_id: str) -> str:
    return hashlib.sha256(b"examgate-events/1\n" + sitting_id.encode()).hexdigest()


def event_hash(event: Mapping[str, Any]) -> str:
    unsigned = {key: value for key, value in event.items() if key != "hash"}
    return hashlib.sha256(canonical.dumps(unsigned)).hexdigest()


def link(prev: str, seq: int, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Return the event ``fields`` chained after ``prev`` at position ``seq``."""
    event = dict(fields, seq=seq, prev=prev)
    event["hash"] = event_hash(event)
    return event


def verify_chain(events: Iterable[Mapping[str, Any]], sitting_id: str) -> None:
    """Raise ``MalformedData`` unless ``events`` form one unbroken chain from the genesis."""
    prev = genesis(sitting_id)
    for expected_seq, event in enumerate(events):
        if event.get("seq") != expected_seq or event.get("prev") != prev:
            raise MalformedData("The event log is out of order or incomplete.")
        if event.get("hash") != event_hash(event):
            raise MalformedData("The event log has been altered.")
        prev = str(event["hash"])
