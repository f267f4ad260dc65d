"""The client's local database: enrolment, sittings with their sealed packages, the journal and
the outbox, in one SQLite file (WAL, synchronous=FULL: a confirmed write survives power loss)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared import canonical

SCHEMA = """
CREATE TABLE IF NOT EXISTS enrolment (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server_url TEXT NOT NULL,
    server_public TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    device_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sittings (
    id TEXT PRIMARY KEY,
    summary TEXT NOT NULL,
    package TEXT
);
CREATE TABLE IF NOT EXISTS journal (
    sitting_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (sitting_id, seq)
);
CREATE TABLE IF NOT EXISTS practice (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server_url TEXT NOT NULL,
    items TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    submission_id TEXT PRIMARY KEY,
    sitting_id TEXT NOT NULL UNIQUE,
    document TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    result TEXT,
    receipt TEXT,
    certificate TEXT
);
"""


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the local database with durable settings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.executescript(SCHEMA)
    return connection


@dataclass(frozen=True)
class Enrolment:
    server_url: str
    server_public: str
    fingerprint: str
    device_id: str


class LocalState:
    """Enrolment and sittings as this computer knows them, usable with no network."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection

    def enrolment(self) -> Enrolment | None:
        row = self.db.execute(
            "SELECT server_url, server_public, fingerprint, device_id FROM enrolment"
        ).fetchone()
        return Enrolment(*row) if row else None

    def save_enrolment(self, enrolment: Enrolment) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO enrolment VALUES (1, ?, ?, ?, ?)",
            (
                enrolment.server_url,
                enrolment.server_public,
                enrolment.fingerprint,
                enrolment.device_id,
            ),
        )

    def save_sitting(self, summary: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO sittings (id, summary) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET summary = excluded.summary",
            (summary["id"], canonical.dumps(summary).decode()),
        )

    def save_package(self, sitting_id: str, package: dict[str, Any]) -> None:
        self.db.execute(
            "UPDATE sittings SET package = ? WHERE id = ?",
            (canonical.dumps(package).decode(), sitting_id),
        )

    def package(self, sitting_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT package FROM sittings WHERE id = ?", (sitting_id,)).fetchone()
        return dict(canonical.loads(row[0])) if row and row[0] else None

    def save_practice(self, server_url: str, items: list[dict[str, Any]]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO practice VALUES (1, ?, ?)",
            (server_url, canonical.dumps(items).decode()),
        )

    def practice(self) -> list[dict[str, Any]]:
        row = self.db.execute("SELECT items FROM practice").fetchone()
        return list(canonical.loads(row[0])) if row else []

    def sittings(self) -> list[dict[str, Any]]:
        """Each sitting's summary, with ``downloaded`` telling whether it can be sat offline."""
        rows = self.db.execute("SELECT summary, package IS NOT NULL FROM sittings ORDER BY rowid")
        return [dict(canonical.loads(summary), downloaded=bool(ready)) for summary, ready in rows]
