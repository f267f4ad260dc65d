from __future__ import annotations

from typing import Any

import pytest

from shared import events
from shared.errors import MalformedData

KEY = bytes(32)


def times(seq: int) -> dict[str, Any]:
    return {"at_ms": 1_000 + seq, "elapsed_ms": seq, "mono_ms": seq, "uptime_ms": None}


def chain(n: int, sitting: str = "s1", key: bytes = KEY) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    prev = events.genesis(sitting)
    for seq in range(n):
        fields = {"type": "heartbeat", "data": {}, **times(seq)}
        event = events.link(prev, seq, fields, key)
        out.append(event)
        prev = str(event["hash"])
        key = events.next_key(key)
    return out


def test_an_unbroken_chain_verifies() -> None:
    events.verify_chain(chain(5), "s1")
    assert events.first_bad_mac(events.parse(chain(5)), KEY) is None


def test_a_chain_from_another_sitting_fails() -> None:
    with pytest.raises(MalformedData):
        events.verify_chain(chain(3, "other"), "s1")


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: c.pop(2),  # truncated in the middle
        lambda c: c.insert(1, c.pop(3)),  # reordered
        lambda c: c[1].update(at_ms=99),  # edited
        lambda c: c.pop(0),  # first event removed
    ],
)
def test_removed_reordered_or_edited_events_are_detected(damage: object) -> None:
    events_ = chain(5)
    damage(events_)  # type: ignore[operator]
    with pytest.raises(MalformedData):
        events.verify_chain(events_, "s1")


def test_a_log_re_chained_with_the_current_key_fails_its_macs_from_the_first_change() -> None:
    """Whoever holds only the key for the next event can rebuild the hashes, not the MACs."""
    original = chain(6)
    current = KEY
    for _ in range(6):
        current = events.next_key(current)
    kept = original[:2]
    prev = kept[-1]["hash"]
    rebuilt = list(kept)
    for seq in range(2, 5):  # event 5 dropped, 2-4 re-chained with the key the disk holds
        event = events.link(prev, seq, {"type": "heartbeat", "data": {}, **times(seq)}, current)
        rebuilt.append(event)
        prev = event["hash"]
    events.verify_chain(rebuilt, "s1")  # the hash chain alone is satisfied
    assert events.first_bad_mac(events.parse(rebuilt), KEY) == 2


def test_the_ratchet_cannot_be_run_backwards() -> None:
    assert events.next_key(events.next_key(KEY)) != KEY
    assert events.next_key(KEY) != KEY


def test_every_event_kind_has_a_schema_and_good_events_parse() -> None:
    good = {
        "type": "focus_lost",
        "data": {"source": "window", "count": 1},
        **times(0),
        "seq": 0,
        "prev": "0" * 64,
        "hash": "1" * 64,
        "mac": "2" * 64,
    }
    assert events.Event.from_json(good).to_json() == good


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data": {"source": "window", "away_ms": "abc"}}, "exactly"),
        ({"data": "text"}, "exactly"),
        ({"data": ["x"]}, "exactly"),
        ({"type": "health_check", "data": {"checks": ["x"]}}, "checks"),
        ({"type": "no_such_kind"}, "unknown kind"),
        ({"elapsed_ms": -5}, "elapsed_ms"),
        ({"elapsed_ms": "10"}, "elapsed_ms"),
        ({"at_ms": 10**15}, "at_ms"),
        ({"uptime_ms": 1.5}, "uptime_ms"),
        ({"extra": 1}, "exactly the fields"),
    ],
)
def test_a_malformed_event_is_refused_with_its_reason(change: dict[str, Any], message: str) -> None:
    event = {
        "type": "focus_returned",
        "data": {"source": "window"},
        **times(0),
        "seq": 0,
        "prev": "0" * 64,
        "hash": "1" * 64,
        "mac": "2" * 64,
        **change,
    }
    with pytest.raises(MalformedData, match=message):
        events.Event.from_json(event)
