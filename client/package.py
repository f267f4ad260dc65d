"""Sealed packages on the client: check the server's signature on arrival, open with the code
inside the sitting's window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from client.errors import PackageNotReady
from client.session import Item, UnlockChecks
from shared import canonical, crypto
from shared.crypto import X25519PrivateKey
from shared.errors import InvalidSignature, MalformedData, WrongDevice
from shared.protocol import REQUEST_CLOCK_SKEW_S
from shared.wire import PackageHeader, PackageItem


def verify(package: object, server_public: bytes, device_id: str) -> PackageHeader:
    """The package's header if the pinned server signed it for this device; else raise."""
    try:
        body = crypto.verify_document(package, server_public, "exam package")
    except (InvalidSignature, MalformedData) as error:
        raise InvalidSignature("exam package") from error
    header = PackageHeader.from_json(body.get("header"))
    if header.device_id != device_id:
        raise WrongDevice()
    return header


def when(ms: int) -> str:
    """A moment as a candidate reads it, in this computer's time zone."""
    return datetime.fromtimestamp(ms / 1000).strftime("%d %B %Y at %H:%M")


def check_window(header: PackageHeader, now_ms: int) -> None:
    """Refuse to open a package before its sitting's window opens or after it closes (give or
    take the clock skew the server allows)."""
    skew = REQUEST_CLOCK_SKEW_S * 1000
    if now_ms < header.opens_ms - skew:
        raise PackageNotReady(
            f"This exam can be started from {when(header.opens_ms)}, not before. "
            "Come back then; it stays ready on this computer."
        )
    if now_ms > min(header.closes_ms, header.expires_ms) + skew:
        raise PackageNotReady(
            f"The time to sit this exam ended on {when(min(header.closes_ms, header.expires_ms))}. "
            "Ask the organisation that invited you for a new invitation."
        )


@dataclass(frozen=True)
class Opened:
    header: PackageHeader
    items: list[Item]
    unlock: UnlockChecks  # checks a proctor's code; cannot compute one


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
    check_window(header, now_ms)
    plaintext = crypto.open_sealed(package["body"], recipient=kex_key, unlock_code=unlock_code)
    content = canonical.loads(plaintext)
    if not isinstance(content, dict) or not isinstance(content.get("items"), list):
        raise MalformedData("The exam package is incomplete.")
    items = [PackageItem.from_json(entry) for entry in content["items"]]
    if len(items) != header.item_count:
        raise MalformedData("The exam package is incomplete.")
    try:
        unlock = UnlockChecks.from_json(content["unlock"])
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedData("The exam package is incomplete.") from error
    return Opened(header, items, unlock)
