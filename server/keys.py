"""The server's private keys, each in a key file only the server's user can read (0600, in a
0700 folder): the Ed25519 signing key (packages, receipts, its key-exchange key) and the X25519
key-exchange key (enrolment proofs and the first key of each sitting's event chain)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from shared import crypto

_KINDS = {"signing": Ed25519PrivateKey, "key-exchange": X25519PrivateKey}


class KeyFileError(Exception):
    pass


def _create(path: Path, kind: str) -> Any:
    if path.exists():
        return _load(path, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    key: Any = crypto.generate_signing_key() if kind == "signing" else crypto.generate_kex_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # O_EXCL: two concurrent inits never both write; the file is born 0600, never readable.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    return key


def _load(path: Path, kind: str) -> Any:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as error:
        raise KeyFileError(
            f"No server key at {path}. Run 'examgate-server init --data DIR' first."
        ) from error
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"The server key {path} is readable by other users; run 'chmod 600 {path}'."
        )
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, _KINDS[kind]):
        raise KeyFileError(f"The server key {path} is not a {kind} key.")
    return key


def create_key_file(path: Path) -> Ed25519PrivateKey:
    """Create the signing key at ``path`` (mode 0600) unless it exists; return the key."""
    key: Ed25519PrivateKey = _create(path, "signing")
    return key


def load_key_file(path: Path) -> Ed25519PrivateKey:
    """Load the signing key, refusing a key file that others can read."""
    key: Ed25519PrivateKey = _load(path, "signing")
    return key


def create_kex_key_file(path: Path) -> X25519PrivateKey:
    """Create the key-exchange key at ``path`` (mode 0600) unless it exists; return the key."""
    key: X25519PrivateKey = _create(path, "key-exchange")
    return key


def load_kex_key_file(path: Path) -> X25519PrivateKey:
    key: X25519PrivateKey = _load(path, "key-exchange")
    return key
