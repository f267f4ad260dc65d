"""The device's private keys: in the OS keyring, or (for ``simulate`` only) a 0600 file.

One device identity per client home: the keyring entry's user name is derived from the home's
path, so two homes on one machine are two devices.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import keyring
import keyring.errors

from client.errors import KeyringUnavailable
from shared import crypto
from shared.crypto import Ed25519PrivateKey, X25519PrivateKey
from shared.errors import MalformedData

SERVICE = "examgate"


@dataclass(frozen=True)
class DeviceKeys:
    signing: Ed25519PrivateKey  # signs requests and submissions
    kex: X25519PrivateKey  # receives sealed packages
    storage: bytes  # encrypts the journal at rest (AES-256-GCM)
    upgraded: bool = field(default=False, compare=False)  # read from an earlier format

    @classmethod
    def generate(cls) -> DeviceKeys:
        return cls(crypto.generate_signing_key(), crypto.generate_kex_key(), os.urandom(32))

    def to_text(self) -> str:
        return json.dumps(
            {
                "signing": crypto.b64encode(crypto.private_bytes(self.signing)),
                "kex": crypto.b64encode(crypto.private_bytes(self.kex)),
                "storage": crypto.b64encode(self.storage),
            }
        )

    @classmethod
    def from_text(cls, text: str) -> DeviceKeys:
        """Keys saved by this or an earlier version (which had no storage key: one is made)."""
        try:
            data = json.loads(text)
            storage = crypto.b64decode(data["storage"]) if "storage" in data else os.urandom(32)
            if len(storage) != 32:
                raise ValueError("storage key")
            return cls(
                crypto.signing_key_from_bytes(crypto.b64decode(data["signing"])),
                crypto.kex_key_from_bytes(crypto.b64decode(data["kex"])),
                storage,
                upgraded="storage" not in data,
            )
        except (ValueError, KeyError, TypeError, MalformedData) as error:
            raise MalformedData("The stored device keys are damaged.") from error


class KeyStore(Protocol):
    def load(self) -> DeviceKeys | None: ...

    def save(self, keys: DeviceKeys) -> None: ...


def keyring_available() -> bool:
    """True when the OS offers a keyring backend that can store secrets."""
    backend = keyring.get_keyring()
    priority = getattr(backend, "priority", 0)
    return bool(priority and priority > 0) and "fail" not in type(backend).__module__


class KeyringStore:
    def __init__(self, home: Path) -> None:
        self.user = "device-" + hashlib.sha256(str(home).encode()).hexdigest()[:16]

    def load(self) -> DeviceKeys | None:
        try:
            text = keyring.get_password(SERVICE, self.user)
        except keyring.errors.KeyringError as error:
            raise KeyringUnavailable() from error
        return DeviceKeys.from_text(text) if text else None

    def save(self, keys: DeviceKeys) -> None:
        try:
            keyring.set_password(SERVICE, self.user, keys.to_text())
        except keyring.errors.KeyringError as error:
            raise KeyringUnavailable() from error


class FileKeyStore:
    """Keys in ``home/device-keys.json`` with mode 0600: for headless automation only."""

    def __init__(self, home: Path) -> None:
        self.path = home / "device-keys.json"

    def load(self) -> DeviceKeys | None:
        if not self.path.exists():
            return None
        return DeviceKeys.from_text(self.path.read_text(encoding="utf-8"))

    def save(self, keys: DeviceKeys) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(keys.to_text())
            handle.flush()
            os.fsync(handle.fileno())


def load_or_create(store: KeyStore) -> DeviceKeys:
    keys = store.load()
    if keys is None:
        keys = DeviceKeys.generate()
        store.save(keys)
    elif keys.upgraded:
        store.save(keys)  # an earlier version's keys, now with a storage key
    return keys
