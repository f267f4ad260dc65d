from __future__ import annotations

import pytest

from shared import events
from shared.errors import MalformedData


def chain(n: int, sitting: str = "s1") -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    prev = events.genesis(sitting)
    for seq in range(n):
        event = events.link(prev, seq, {"type": "answer", "data": {"n": seq}, "at_ms": seq})
        out.append(event)
        prev = str(event["hash"])
    return out


def test_an_unbroken_chain_verifies() -> None:
    events.verify_chain(chain(5), "s1")


def test_a_chain_from_another_sitting_fails() -> None:
    with pytest.raises(MalformedData):
        events.verify_chain(chain(3, "other"), "s1")


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: c.pop(2),  # truncated in the middle
        lambda c: c.insert(1, c.pop(3)),  # reordered
        lambda c: c[1]["data"].update(n=99),  # edited
        lambda c: c.pop(0),  # first event removed
    ],
)
def test_removed_reordered_or_edited_events_are_detected(damage: object) -> None:
    events_ = chain(5)
    damage(events_)  # type: ignore[operator]
    with pytest.raises(MalformedData):
        events.verify_chain(events_, "s1")
