"""The server's Ed25519 signing key, kept in a key file only the server's user can read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared import crypto


class KeyFileError(Exception):
    pass


def create_key_file(path: Path) -> Ed25519PrivateKey:
    """Create the signing key at ``path`` (mode 0600) unless it exists; return the key."""
    if path.exists():
        return load_key_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    key = crypto.generate_signing_key()
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


def load_key_file(path: Path) -> Ed25519PrivateKey:
    """Load the signing key, refusing a key file that others can read."""
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
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"The server key {path} is not an Ed25519 key.")
    return key
