"""The crash-safe journal of a sitting: every answer and event, chained, encrypted at rest, on disk
before the candidate sees it confirmed.

Each row holds one event encrypted (AES-256-GCM) with the device's storage key from the keyring,
bound to its sitting and position. The events carry the hash chain and the forward-secure MAC
chain of ``shared.events``: the journal keeps only the MAC key for the *next* event, replaced in
the same transaction that writes an event, so nothing on this computer can re-sign an event
already written. The first key comes from an X25519 exchange with the server's key-exchange key;
the private half is discarded at once and only its public half is kept, for the server.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from client.errors import SaveFailed
from shared import canonical, crypto, events
from shared.errors import Tampered

_WHAT = "saved sitting"


class Journal:
    def __init__(self, connection: sqlite3.Connection, sitting_id: str, storage_key: bytes) -> None:
        self.db = connection
        self.sitting_id = sitting_id
        self._storage = storage_key
        self._events = [
            self._decrypt(token, seq)
            for seq, token in connection.execute(
                "SELECT seq, event FROM journal WHERE sitting_id = ? ORDER BY seq", (sitting_id,)
            )
        ]
        state = connection.execute(
            "SELECT next_seq, chain_key, chain_public FROM journal_state WHERE sitting_id = ?",
            (sitting_id,),
        ).fetchone()
        self._key: bytes | None = None
        self.chain_public: str | None = None
        if state is not None:
            next_seq, token, self.chain_public = state
            if next_seq != len(self._events):
                raise Tampered(_WHAT)
            self._key = crypto.decrypt_at_rest(self._storage, token, self._context("key"), _WHAT)
        elif self._events:
            raise Tampered(_WHAT)
        try:
            events.verify_chain(self._events, sitting_id)
        except Exception as error:
            raise Tampered(_WHAT) from error

    def _context(self, what: object) -> str:
        return f"examgate-journal/1\n{self.sitting_id}\n{what}"

    def _decrypt(self, token: str, seq: int) -> dict[str, Any]:
        plaintext = crypto.decrypt_at_rest(self._storage, token, self._context(seq), _WHAT)
        return dict(canonical.loads(plaintext))

    @property
    def events(self) -> list[dict[str, Any]]:
        return list(self._events)

    def open_chain(self, server_kex_public: bytes) -> str:
        """Start the MAC chain (once per sitting) and return its public half for the server.

        The first key MACs a ``chain_opened`` event written in the same transaction as the key
        that follows it, so the first key is never on disk, not even for a moment."""
        if self.chain_public is not None:
            return self.chain_public
        ephemeral = crypto.generate_kex_key()
        first = crypto.shared_key(
            ephemeral, server_kex_public, events.CHAIN_INFO + self.sitting_id.encode()
        )
        public = crypto.b64encode(crypto.public_bytes(ephemeral))
        del ephemeral  # only the public half is kept: the first key cannot be derived again here
        times = {"at_ms": _wall_ms(), "elapsed_ms": 0, "mono_ms": _mono_ms(), "uptime_ms": None}
        self._write(first, "chain_opened", {}, times, public)
        self.chain_public = public
        return public

    def append(self, kind: str, data: dict[str, Any], times: dict[str, Any]) -> dict[str, Any]:
        """Chain and durably store one event; return it once it is on disk."""
        if self._key is None:
            raise RuntimeError("open_chain must be called before the first event")
        return self._write(self._key, kind, data, times)

    def _write(
        self,
        key: bytes,
        kind: str,
        data: dict[str, Any],
        times: dict[str, Any],
        opening: str | None = None,
    ) -> dict[str, Any]:
        prev = self._events[-1]["hash"] if self._events else events.genesis(self.sitting_id)
        seq = len(self._events)
        event = events.link(prev, seq, {"type": kind, "data": data, **times}, key)
        following = events.next_key(key)
        token = crypto.encrypt_at_rest(self._storage, canonical.dumps(event), self._context(seq))
        key_token = crypto.encrypt_at_rest(self._storage, following, self._context("key"))
        try:
            with self.db:  # one transaction: the event and the key that follows it, or neither
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute(
                    "INSERT INTO journal (sitting_id, seq, event) VALUES (?, ?, ?)",
                    (self.sitting_id, seq, token),
                )
                if opening is not None:
                    self.db.execute(
                        "INSERT INTO journal_state (sitting_id, next_seq, chain_key, chain_public)"
                        " VALUES (?, ?, ?, ?)",
                        (self.sitting_id, seq + 1, key_token, opening),
                    )
                else:
                    self.db.execute(
                        "UPDATE journal_state SET next_seq = ?, chain_key = ? WHERE sitting_id = ?",
                        (seq + 1, key_token, self.sitting_id),
                    )
        except (sqlite3.Error, OSError) as error:  # disk full, I/O error: nothing was written
            raise SaveFailed(str(error)) from error
        self._key = following
        self._events.append(event)
        return event


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def _mono_ms() -> int:
    return time.monotonic_ns() // 1_000_000
