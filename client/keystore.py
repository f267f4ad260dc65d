"""The device's private keys: in the OS keyring; where there is none, in a file encrypted under a
passphrase the candidate chooses; or (for ``simulate`` only) a plain 0600 file.

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
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from client.errors import KeyringUnavailable, WrongPassphrase
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


# The passphrase file's key: scrypt, about 0.1 s per try on a laptop (N=2^15, r=8, p=1).
PASSPHRASE_N = 2**15
PASSPHRASE_FORMAT = "examgate-device-keys/1"  # noqa: S105 (a format name)
MIN_PASSPHRASE = 8


class PassphraseKeyStore:
    """Keys in ``home/device-keys.enc`` (0600), AES-256-GCM under a key derived from the
    candidate's passphrase with scrypt: for computers without a system keyring. A wrong
    passphrase raises ``WrongPassphrase``; a changed file does not decrypt."""

    def __init__(self, home: Path, passphrase: str) -> None:
        self.path = home / "device-keys.enc"
        self.passphrase = passphrase

    @staticmethod
    def exists(home: Path) -> bool:
        return (home / "device-keys.enc").exists()

    def _key(self, salt: bytes, n: int) -> bytes:
        return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(self.passphrase.encode())

    def load(self) -> DeviceKeys | None:
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("format") != PASSPHRASE_FORMAT:
                raise ValueError("format")
            salt, n = crypto.b64decode(data["salt"]), int(data["n"])
            if not 2**14 <= n <= 2**20:
                raise ValueError("work factor")
        except (OSError, ValueError, KeyError, TypeError, MalformedData) as error:
            raise MalformedData("The file with this computer's keys is damaged.") from error
        try:
            text = crypto.decrypt_at_rest(self._key(salt, n), data["keys"], PASSPHRASE_FORMAT)
        except Exception as error:
            raise WrongPassphrase() from error
        return DeviceKeys.from_text(text.decode())

    def save(self, keys: DeviceKeys) -> None:
        if len(self.passphrase) < MIN_PASSPHRASE:
            raise WrongPassphrase(f"Choose a passphrase of at least {MIN_PASSPHRASE} characters.")
        salt = os.urandom(16)
        body = {
            "format": PASSPHRASE_FORMAT,
            "n": PASSPHRASE_N,
            "salt": crypto.b64encode(salt),
            "keys": crypto.encrypt_at_rest(
                self._key(salt, PASSPHRASE_N), keys.to_text().encode(), PASSPHRASE_FORMAT
            ),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(body) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(self.path)


def load_or_create(store: KeyStore) -> DeviceKeys:
    keys = store.load()
    if keys is None:
        keys = DeviceKeys.generate()
        store.save(keys)
    elif keys.upgraded:
        store.save(keys)  # an earlier version's keys, now with a storage key
    return keys
