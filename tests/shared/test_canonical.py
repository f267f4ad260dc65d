from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize(
    "text",
    [
        b'{"a":"\\u0000"}',  # a NUL, escaped
        b'["x\\ud800"]',  # half a surrogate pair, escaped
        b'["\\uDC00"]',
        b'["\xed\xa0\x80"]',  # a surrogate encoded in UTF-8 (not valid UTF-8)
        '["\ud800"]',  # a surrogate in text given as str
        b'{"\\u0000":1}',  # in a key
    ],
)
def test_text_no_database_can_hold_is_refused(text: bytes | str) -> None:
    with pytest.raises(MalformedData):
        canonical.loads(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    )
)
def test_loads_refuses_exactly_what_the_full_check_refuses(value: object) -> None:
    """The quick scan of the text never lets through what the walk over every value refuses."""
    text = json.dumps(value)  # escapes every surrogate and control character
    try:
        canonical._check_text(json.loads(text))
        expected: object = json.loads(text)
    except MalformedData:
        expected = MalformedData
    try:
        found: object = canonical.loads(text.encode())
    except MalformedData:
        found = MalformedData
    assert found == expected


ANY_TEXT = st.text(st.characters(exclude_categories=()))  # surrogates too


@settings(max_examples=500)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**70), 2**70) | ANY_TEXT,
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(ANY_TEXT, inner, max_size=5),
        max_leaves=20,
    )
)
def test_the_bytes_are_the_standard_encoders(value: object) -> None:
    """Signatures made by either side hold whichever encoder wrote the bytes: the fast one
    writes exactly what the standard library does (astral text, control characters, key order
    by code point, integers beyond 64 bits)."""
    expected = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    try:
        wanted: object = expected.encode("utf-8")
    except UnicodeEncodeError:
        wanted = MalformedData  # text with a surrogate: refused by both
    try:
        found: object = canonical.dumps(value)
    except MalformedData:
        found = MalformedData
    assert found == wanted
