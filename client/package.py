"""Sealed packages on the client: check the server's signature on arrival, open with the code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from client.errors import PackageNotReady
from client.session import Item
from shared import canonical, crypto
from shared.crypto import X25519PrivateKey
from shared.errors import InvalidSignature, MalformedData, WrongDevice
from shared.protocol import PACKAGE_FORMAT


def verify(package: object, server_public: bytes, device_id: str) -> dict[str, Any]:
    """The package's header if the pinned server signed it for this device; else raise."""
    try:
        body = crypto.verify_document(package, server_public, "exam package")
    except (InvalidSignature, MalformedData) as error:
        raise InvalidSignature("exam package") from error
    header = body.get("header")
    if not isinstance(header, dict) or header.get("format") != PACKAGE_FORMAT:
        raise MalformedData("The exam package's format is not supported by this version.")
    if header.get("device_id") != device_id:
        raise WrongDevice()
    return header


@dataclass(frozen=True)
class Opened:
    header: dict[str, Any]
    items: list[Item]
    proctor_secret: bytes  # for checking a proctor's unlock code offline; memory only


def open_items(
    package: dict[str, Any],
    *,
    server_public: bytes,
    device_id: str,
    kex_key: X25519PrivateKey,
    unlock_code: str,
    now_ms: int,
) -> Opened:
    """Verify and decrypt; return the header and the items. Nothing is opened on any failure."""
    header = verify(package, server_public, device_id)
    if int(header.get("expires_ms", 0)) < now_ms:
        raise PackageNotReady("This exam package has expired: ask for a new invitation.")
    plaintext = crypto.open_sealed(package["body"], recipient=kex_key, unlock_code=unlock_code)
    content = canonical.loads(plaintext)
    items = [Item.from_package(entry) for entry in content["items"]]
    if len(items) != header.get("item_count"):
        raise MalformedData("The exam package is incomplete.")
    secret = content.get("proctor_secret")
    return Opened(header, items, crypto.b64decode(secret, "proctor secret") if secret else b"")
