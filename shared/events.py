"""The event log of a sitting: typed events, a hash chain, and a forward-secure MAC chain.

Every event is an object with exactly these fields::

    seq, prev, hash, mac     position, link to the previous event, and the two chain values
    type, data               the kind (a key of ``SCHEMAS``) and its typed fields
    at_ms                    the client's wall clock (ms since the epoch)
    elapsed_ms               time charged to the sitting so far
    mono_ms                  the client's monotonic clock (same boot: comparable across restarts)
    uptime_ms                the kernel's own uptime clock where the platform has one, else null

``hash`` = SHA-256 over ``prev`` and the canonical JSON of the event without ``hash`` and
``mac``: removing, reordering or editing an event breaks every later link.

``mac`` = HMAC under a key that moves on with every event (K[i+1] = HMAC(K[i], ...)); the client
keeps only the current key, and the first is agreed with the server by an X25519 exchange whose
private half the client throws away. Whoever reads the client's disk between two events holds
only the key for the *next* event: an event already written cannot be changed, dropped or
re-chained without the server noticing, because it re-derives every key from the first.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared import canonical
from shared.errors import MalformedData
from shared.models import END_REASONS

CHAIN_INFO = b"examgate-chain/1\n"
_RATCHET = b"examgate-chain-ratchet/1"
_MAC = b"examgate-event-mac/1\n"

TIME_MAX_MS = 10**13  # the year 2286: anything later is not a time
SPAN_MAX_MS = 10**10  # 115 days: no sitting or gap is longer
FIELDS = frozenset(
    {
        "seq",
        "prev",
        "hash",
        "mac",
        "type",
        "data",
        "at_ms",
        "elapsed_ms",
        "mono_ms",
        "uptime_ms",
    }
)

# -- field validators ----------------------------------------------------------------------------
Check = Callable[[object], str | None]  # a reason the value is wrong, or None


def _text(limit: int = 200) -> Check:
    def check(value: object) -> str | None:
        if not isinstance(value, str) or len(value) > limit:
            return f"must be text of at most {limit} characters"
        return None

    return check


def _number(limit: int) -> Check:
    def check(value: object) -> str | None:
        if type(value) is not int or not 0 <= value <= limit:
            return f"must be a whole number from 0 to {limit}"
        return None

    return check


def _boolean(value: object) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _one_of(*choices: str) -> Check:
    def check(value: object) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def _optional(inner: Check) -> Check:
    def check(value: object) -> str | None:
        return None if value is None else inner(value)

    return check


def _list(inner: Check, limit: int) -> Check:
    def check(value: object) -> str | None:
        if not isinstance(value, list) or len(value) > limit:
            return f"must be a list of at most {limit} entries"
        for element in value:
            reason = inner(element)
            if reason:
                return f"holds an entry that {reason}"
        return None

    return check


def _object(fields: Mapping[str, Check]) -> Check:
    def check(value: object) -> str | None:
        if not isinstance(value, dict) or set(value) != set(fields):
            return f"must be an object with exactly {', '.join(sorted(fields))}"
        for name, inner in fields.items():
            reason = inner(value[name])
            if reason:
                return f"has '{name}' that {reason}"
        return None

    return check


_ID = _text(64)
_CODE = _text(20)
_COUNT = _number(10_000)
_SPAN = _number(SPAN_MAX_MS)
_SOURCE = _one_of("window", "application")
_HEALTH = _object(
    {
        "name": _text(),
        "status": _one_of("ok", "warn", "fail"),
        "detail": _text(2000),
        "action": _text(2000),
    }
)

# Every event kind and its fields. An event of another kind, or with other fields, is refused.
SCHEMAS: dict[str, dict[str, Check]] = {
    "chain_opened": {},  # when the package is downloaded: the first key MACs it, then is gone
    "health_check": {"checks": _list(_HEALTH, 32)},
    "lockdown_started": {
        "platform": _text(),
        "capture_protection": _boolean,
        "keyboard_monitor": _boolean,
    },
    # Before the clock: whether the candidate lets the inviting organisation see the result.
    "consent": {"organisation": _ID, "share": _boolean},
    "started": {"items": _COUNT, "duration_ms": _SPAN},
    "answer": {"item": _ID, "options": _list(_ID, 16)},
    "advance": {"from": _ID, "to": _ID},
    # Adaptive sittings: the item the server gave at a position, and the switch to the
    # package's linear form when the server could not be reached.
    "served": {"item": _ID, "position": _COUNT},
    "fallback": {"reason": _text(200)},
    "ended": {"reason": _one_of(*END_REASONS), "answered": _COUNT},
    "heartbeat": {},
    "resumed": {"downtime_ms": _SPAN, "item": _optional(_ID)},
    # The wall clock ran ahead of the monotonic one; ``slept_ms``: by how much the kernel's
    # uptime did too (the machine slept), or null where there is no uptime clock.
    "clock_gap": {"gap_ms": _SPAN, "slept_ms": _optional(_SPAN)},
    "clock_slowed": {"mono_ms": _SPAN, "uptime_ms": _SPAN},
    "focus_lost": {"source": _SOURCE, "count": _COUNT},
    "focus_returned": {"source": _SOURCE},
    "key_blocked": {"combo": _text(), "suppressed": _boolean},
    "clipboard_used": {"formats": _list(_text(), 5)},
    "display_added": {"name": _text(), "size": _text(40), "displays": _COUNT},
    "program_found": {"name": _text(), "pid": _number(2**32)},
    "locked": {"reason": _text(40), "challenge": _optional(_CODE), "index": _COUNT},
    "unlocked": {"challenge": _CODE, "response": _text(40), "index": _COUNT},
    # An unsupervised candidate lifted the lock themselves, after the policy's pause.
    "released": {"index": _COUNT},
    "save_failed": {"failures": _COUNT, "reason": _text()},
    "unlock_refused": {
        "challenge": _optional(_CODE),
        "response": _text(40),
        "attempt": _COUNT,
        "reason": _one_of("wrong", "wait", "exhausted"),
    },
}


# The numbers every event carries, and what each may be.
_NUMBERS = {
    "seq": _number(1_000_000),
    "at_ms": _number(TIME_MAX_MS),
    "elapsed_ms": _SPAN,
    "mono_ms": _number(TIME_MAX_MS),
    "uptime_ms": _optional(_number(TIME_MAX_MS)),
}


@dataclass(frozen=True)
class Event:
    """One checked event of a sitting's log (the wire type both sides share)."""

    seq: int
    prev: str
    hash: str
    mac: str
    type: str
    data: dict[str, Any]
    at_ms: int
    elapsed_ms: int
    mono_ms: int
    uptime_ms: int | None

    @classmethod
    def from_json(cls, value: object, position: int = 0) -> Event:
        """Check an event against its schema; ``MalformedData`` names what is wrong."""
        if not isinstance(value, dict):
            raise MalformedData(f"Event {position} is not an object.")
        if value.keys() != FIELDS:
            raise MalformedData(
                f"Event {position} must have exactly the fields {', '.join(sorted(FIELDS))}."
            )
        kind = value["type"]
        if not isinstance(kind, str) or kind not in SCHEMAS:
            raise MalformedData(f"Event {position} is of an unknown kind.")
        for name, check in _NUMBERS.items():
            reason = check(value[name])
            if reason:
                raise MalformedData(f"Event {position} ({kind}): '{name}' {reason}.")
        for name in ("prev", "hash", "mac"):
            if not isinstance(value[name], str) or len(value[name]) != 64:
                raise MalformedData(
                    f"Event {position} ({kind}): '{name}' must be 64 hexadecimal characters."
                )
        data = value["data"]
        schema = SCHEMAS[kind]
        if not isinstance(data, dict) or data.keys() != schema.keys():
            fields = ", ".join(sorted(schema)) or "no fields"
            raise MalformedData(f"Event {position} ({kind}): 'data' must have exactly {fields}.")
        for name, check in schema.items():
            reason = check(data[name])
            if reason:
                raise MalformedData(f"Event {position} ({kind}): '{name}' {reason}.")
        return cls(**value)

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in sorted(FIELDS)}


def parse(values: object) -> list[Event]:
    """The events of a submission, each checked; ``MalformedData`` on the first bad one."""
    if not isinstance(values, list) or len(values) > 100_000:
        raise MalformedData("The event log is not a list of events.")
    return [Event.from_json(value, position) for position, value in enumerate(values)]


# -- the chains ---------------------------------------------------------------------------------
def genesis(sitting_id: str) -> str:
    return hashlib.sha256(b"examgate-events/1\n" + sitting_id.encode()).hexdigest()


def event_hash(event: Mapping[str, Any]) -> str:
    unsigned = {key: value for key, value in event.items() if key not in ("hash", "mac")}
    return hashlib.sha256(canonical.dumps(unsigned)).hexdigest()


def next_key(key: bytes) -> bytes:
    """The MAC key of the next event; the previous key cannot be computed back from it."""
    return hmac.new(key, _RATCHET, hashlib.sha256).digest()


def event_mac(key: bytes, digest: str) -> str:
    return hmac.new(key, _MAC + digest.encode(), hashlib.sha256).hexdigest()


def link(prev: str, seq: int, fields: Mapping[str, Any], key: bytes) -> dict[str, Any]:
    """Return the event ``fields`` chained after ``prev`` at position ``seq``, MAC'd with ``key``
    (the key for this position)."""
    event = dict(fields, seq=seq, prev=prev)
    event["hash"] = event_hash(event)
    event["mac"] = event_mac(key, event["hash"])
    return event


def verify_chain(events: Iterable[Mapping[str, Any]], sitting_id: str) -> None:
    """Raise ``MalformedData`` unless ``events`` form one unbroken hash chain from the genesis."""
    prev = genesis(sitting_id)
    for expected_seq, event in enumerate(events):
        if event.get("seq") != expected_seq or event.get("prev") != prev:
            raise MalformedData("The event log is out of order or incomplete.")
        if event.get("hash") != event_hash(event):
            raise MalformedData("The event log has been altered.")
        prev = str(event["hash"])


def first_bad_mac(events: Sequence[Event], first_key: bytes) -> int | None:
    """The position of the first event whose MAC was not made with the chain's key for that
    position (the log was rewritten from there), or None if every MAC holds."""
    key = first_key
    for event in events:
        if not hmac.compare_digest(event.mac, event_mac(key, event.hash)):
            return event.seq
        key = next_key(key)
    return None
