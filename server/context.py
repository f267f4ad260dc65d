"""What every server operation needs: settings, the database, the signing key, time, chance."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Engine

from server import db
from server.keys import load_kex_key_file, load_key_file
from server.settings import Settings
from shared import crypto


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Context:
    settings: Settings
    engine: Engine
    signing_key: Ed25519PrivateKey
    kex_key: X25519PrivateKey
    reader: Engine  # for reads that need no transaction (see db.make_engine)
    now_ms: Callable[[], int] = wall_ms
    # Unpredictable in production; tests pass a seeded random.Random.
    rng: random.Random = field(default_factory=random.SystemRandom)
    # The bank as last read, with its version (server.bank.store.cached_items).
    bank_cache: tuple[int, dict[str, Any]] | None = None
    # That bank's live items as arrays, with their time parameters, for adaptive selection (per
    # set of categories), with the bank they came from.
    bank_index: tuple[dict[str, Any], dict[frozenset[str], Any]] | None = None
    # Enrolled devices' signing keys, as read (a device's key never changes; see server.auth).
    device_keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)

    @property
    def public_key(self) -> bytes:
        return crypto.public_bytes(self.signing_key)

    @property
    def kex_public(self) -> bytes:
        return crypto.public_bytes(self.kex_key)

    def derived_key(self, purpose: bytes) -> bytes:
        """A 32-byte key for one purpose, derived (HKDF-SHA256) from the server's signing key
        file: what the database alone cannot reproduce."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        raw = crypto.private_bytes(self.signing_key)
        return HKDF(hashes.SHA256(), 32, None, purpose).derive(raw)

    @classmethod
    def open(cls, settings: Settings) -> Context:
        return cls(
            settings=settings,
            engine=db.make_engine(settings.database_url),
            signing_key=load_key_file(settings.key_file),
            kex_key=load_kex_key_file(settings.kex_key_file),
            reader=db.make_engine(settings.database_url, reading=True),
        )

    def dispose(self) -> None:
        self.engine.dispose()
        self.reader.dispose()
