"""The client's local database: enrolment, sittings with their sealed packages, the journal and
the outbox, in one SQLite file (WAL, synchronous=FULL: a confirmed write survives power loss).

The file and its WAL are readable by this user only (0600), deleted rows are overwritten
(``secure_delete``), and once a sitting is sealed its package and journal are deleted and the WAL
truncated, so nothing on this computer opens to the exam's items afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from shared import canonical, crypto
from shared.wire import PackageHeader

SCHEMA = """
CREATE TABLE IF NOT EXISTS enrolment (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    server_url TEXT NOT NULL,
    server_public TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    device_id TEXT NOT NULL,
    server_kex TEXT
);
CREATE TABLE IF NOT EXISTS sittings (
    id TEXT PRIMARY KEY,
    summary TEXT NOT NULL,
    package TEXT,
    header TEXT,
    deadline_ms INTEGER
);
CREATE TABLE IF NOT EXISTS journal (
    sitting_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (sitting_id, seq)
);
CREATE TABLE IF NOT EXISTS journal_state (
    sitting_id TEXT PRIMARY KEY,
    next_seq INTEGER NOT NULL,
    chain_key TEXT NOT NULL,
    chain_public TEXT NOT NULL
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
    certificate TEXT,
    next_attempt_ms INTEGER,
    failed TEXT,
    exported TEXT
);
-- An adaptive sitting's questions as the server gave them, encrypted with the storage key
-- like the journal, so a restart shows them again without the network; gone with the journal.
CREATE TABLE IF NOT EXISTS served (
    sitting_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (sitting_id, position)
);
"""


def _served_context(sitting_id: str, position: int) -> str:
    return f"examgate-served/1\n{sitting_id}\n{position}"


def private_file(path: Path) -> None:
    """Create ``path`` readable by this user only, or tighten it if it exists. SQLite gives its
    WAL and shared-memory files the database file's permissions."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


class _Rows:
    """A statement's result, read in full while the connection was held."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._rows = cursor.fetchall()
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid

    def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class SharedConnection(sqlite3.Connection):
    """The local database, used by the window's thread and by background work (a sync, a
    certificate being fetched): one statement, or one transaction (``with db:``), at a time,
    each statement's rows read in full before another thread may use the connection. (The
    sqlite3 module's objects are not safe to use from two threads at once.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.RLock()

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        with self._lock:
            return _Rows(super().execute(sql, parameters))

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        with self._lock:
            return super().executescript(script)

    def __enter__(self) -> SharedConnection:
        self._lock.acquire()
        try:
            super().__enter__()
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc: Any) -> Literal[False]:
        try:
            super().__exit__(*exc)
        finally:
            self._lock.release()
        return False

    def close(self) -> None:
        with self._lock:
            super().close()


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the local database with durable settings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    private_file(path)
    connection = sqlite3.connect(
        path,
        timeout=30,
        isolation_level=None,
        check_same_thread=False,
        factory=SharedConnection,
    )
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA secure_delete=ON")
    connection.executescript(SCHEMA)
    for table, name, kind in (
        ("enrolment", "server_kex", "TEXT"),
        ("sittings", "header", "TEXT"),
        ("sittings", "deadline_ms", "INTEGER"),
        ("outbox", "next_attempt_ms", "INTEGER"),
        ("outbox", "failed", "TEXT"),
        ("outbox", "exported", "TEXT"),
    ):
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        if name not in columns:  # a database from an earlier version
            connection.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    return connection


@dataclass(frozen=True)
class Enrolment:
    server_url: str
    server_public: str
    fingerprint: str
    device_id: str
    server_kex: str  # the server's key-exchange key (verified against the pinned key)


class LocalState:
    """Enrolment and sittings as this computer knows them, usable with no network."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.db = connection

    def enrolment(self) -> Enrolment | None:
        row = self.db.execute(
            "SELECT server_url, server_public, fingerprint, device_id, server_kex FROM enrolment"
        ).fetchone()
        return Enrolment(*row) if row else None

    def save_enrolment(self, enrolment: Enrolment) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO enrolment VALUES (1, ?, ?, ?, ?, ?)",
            (
                enrolment.server_url,
                enrolment.server_public,
                enrolment.fingerprint,
                enrolment.device_id,
                enrolment.server_kex,
            ),
        )

    def save_sitting(self, summary: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO sittings (id, summary) VALUES (?, ?) "
            "ON CONFLICT (id) DO UPDATE SET summary = excluded.summary",
            (summary["id"], canonical.dumps(summary).decode()),
        )

    def save_package(self, sitting_id: str, package: dict[str, Any], header: PackageHeader) -> None:
        self.db.execute(
            "UPDATE sittings SET package = ?, header = ? WHERE id = ?",
            (
                canonical.dumps(package).decode(),
                canonical.dumps(header.to_json()).decode(),
                sitting_id,
            ),
        )

    def package(self, sitting_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT package FROM sittings WHERE id = ?", (sitting_id,)).fetchone()
        return dict(canonical.loads(row[0])) if row and row[0] else None

    def header(self, sitting_id: str) -> PackageHeader | None:
        """The verified header kept when the package was downloaded (it outlives the package)."""
        row = self.db.execute("SELECT header FROM sittings WHERE id = ?", (sitting_id,)).fetchone()
        return PackageHeader.from_json(canonical.loads(row[0])) if row and row[0] else None

    def save_deadline(self, sitting_id: str, deadline_ms: int) -> None:
        """The server's end of an online sitting, as it said when it released the code."""
        self.db.execute(
            "UPDATE sittings SET deadline_ms = ? WHERE id = ?", (deadline_ms, sitting_id)
        )

    def deadline(self, sitting_id: str) -> int | None:
        row = self.db.execute(
            "SELECT deadline_ms FROM sittings WHERE id = ?", (sitting_id,)
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def save_served(
        self, sitting_id: str, position: int, item: dict[str, Any], storage_key: bytes
    ) -> None:
        """Keep a question an adaptive sitting was given (before the journal says so)."""
        token = crypto.encrypt_at_rest(
            storage_key, canonical.dumps(item), _served_context(sitting_id, position)
        )
        self.db.execute(
            "INSERT OR REPLACE INTO served (sitting_id, position, item) VALUES (?, ?, ?)",
            (sitting_id, position, token),
        )

    def served(self, sitting_id: str, storage_key: bytes) -> dict[int, dict[str, Any]]:
        """The questions an adaptive sitting was given, by position."""
        rows = self.db.execute(
            "SELECT position, item FROM served WHERE sitting_id = ? ORDER BY position",
            (sitting_id,),
        ).fetchall()
        return {
            int(position): dict(
                canonical.loads(
                    crypto.decrypt_at_rest(
                        storage_key, token, _served_context(sitting_id, position), "question"
                    )
                )
            )
            for position, token in rows
        }

    def purge_sitting(self, sitting_id: str) -> None:
        """Delete what could reveal the sitting's items: the sealed package, the journal and
        its chain key (call inside the transaction that stores the sealed submission)."""
        self.db.execute("UPDATE sittings SET package = NULL WHERE id = ?", (sitting_id,))
        self.db.execute("DELETE FROM journal WHERE sitting_id = ?", (sitting_id,))
        self.db.execute("DELETE FROM served WHERE sitting_id = ?", (sitting_id,))
        self.db.execute("DELETE FROM journal_state WHERE sitting_id = ?", (sitting_id,))

    def truncate_wal(self) -> None:
        """Fold the WAL into the (secure-deleting) database file and cut it to nothing."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

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
