from __future__ import annotations

import pytest

from shared import canonical
from shared.errors import MalformedData


def test_keys_are_sorted_and_whitespace_dropped() -> None:
    assert (
        canonical.dumps({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()
    )


def test_same_value_same_bytes_whatever_the_insertion_order() -> None:
    assert canonical.dumps({"x": 1, "y": {"q": 2, "p": 3}}) == canonical.dumps(
        {"y": {"p": 3, "q": 2}, "x": 1}
    )


@pytest.mark.parametrize("value", [1.5, {"a": float("nan")}, {1: "x"}, {"a": object()}])
def test_values_without_a_canonical_form_are_refused(value: object) -> None:
    with pytest.raises(MalformedData):
        canonical.dumps(value)


@pytest.mark.parametrize(
    "text", [b"{", b'{"a":1,"a":2}', b"NaN", b"\xff\xfe", b'{"a": Infinity}', b"[" * 100_000]
)
def test_malformed_json_is_one_error(text: bytes) -> None:
    with pytest.raises(MalformedData):
        canonical.loads(text)


def test_round_trip() -> None:
    value = {"events": [{"seq": 0, "data": {"k": "v"}}], "n": -3}
    assert canonical.loads(canonical.dumps(value)) == value
