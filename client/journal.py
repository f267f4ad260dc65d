"""The crash-safe journal of a sitting: every answer and event, hash-chained, on disk before
the candidate sees it confirmed."""

from __future__ import annotations

import sqlite3
from typing import Any

from shared import canonical, events


class Journal:
    def __init__(self, connection: sqlite3.Connection, sitting_id: str) -> None:
        self.db = connection
        self.sitting_id = sitting_id
        self._events = [
            dict(canonical.loads(text))
            for (text,) in connection.execute(
                "SELECT event FROM journal WHERE sitting_id = ? ORDER BY seq", (sitting_id,)
            )
        ]

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(self._events)

    def append(
        self, kind: str, data: dict[str, Any], at_ms: int, elapsed_ms: int
    ) -> dict[str, Any]:
        """Chain and durably store one event; return it once it is on disk."""
        prev = self._events[-1]["hash"] if self._events else events.genesis(self.sitting_id)
        event = events.link(
            prev,
            len(self._events),
            {"type": kind, "data": data, "at_ms": at_ms, "elapsed_ms": elapsed_ms},
        )
        self.db.execute(
            "INSERT INTO journal (sitting_id, seq, event) VALUES (?, ?, ?)",
            (self.sitting_id, event["seq"], canonical.dumps(event).decode()),
        )
        self._events.append(event)
        return event
