"""Canonical JSON: one byte string per value, so signatures and hashes are stable.

Keys sorted, no insignificant white space, UTF-8, no floats (timings travel as integer
milliseconds), no NaN. Both the client and the server sign and verify these bytes.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from shared.errors import MalformedData

JSONValue = Any


_LEAVES = frozenset({str, int, bool, type(None)})


def _check(value: JSONValue, depth: int = 0) -> None:
    """Refuse what canonical JSON cannot hold: floats, non-string keys, other types, nesting
    deeper than 64. (Text that is not Unicode is refused when the whole is encoded.) Exact
    type tests first: this runs for every signature and hash."""
    if depth > 64:
        raise MalformedData("The data is nested too deeply.")
    kind = type(value)
    if kind in _LEAVES:
        return
    if kind is dict:
        for key, element in value.items():
            if type(key) is not str and not isinstance(key, str):
                raise MalformedData("Canonical JSON object keys must be strings.")
            if type(element) not in _LEAVES:
                _check(element, depth + 1)
        return
    if kind is list or kind is tuple:
        for element in value:
            if type(element) not in _LEAVES:
                _check(element, depth + 1)
        return
    _check_other(value, depth)


def _check_other(value: JSONValue, depth: int) -> None:
    """Subclasses of the JSON types (an IntEnum, a str subclass), and everything refused."""
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, float):
        raise MalformedData("Canonical JSON holds no floating-point numbers.")
    if isinstance(value, int):
        return
    if isinstance(value, list | tuple):
        for element in value:
            _check(element, depth + 1)
        return
    if isinstance(value, dict):
        for key, element in value.items():
            if not isinstance(key, str):
                raise MalformedData("Canonical JSON object keys must be strings.")
            _check(element, depth + 1)
        return
    raise MalformedData(f"Canonical JSON cannot hold a {type(value).__name__}.")


_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)  # made once: json.dumps with arguments makes a new one every call


def dumps(value: JSONValue) -> bytes:
    """Encode ``value`` as canonical JSON bytes.

    orjson writes the same bytes as the standard library's encoder with these settings (keys
    sorted by code point, which is UTF-8 byte order; the same escapes; tests hold the two
    equal) ten times faster; what it cannot write (an integer beyond 64 bits, a surrogate) is
    left to the standard library, which writes or refuses it as before."""
    _check(value)
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        pass
    text = _ENCODER.encode(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedData("The data holds text that is not valid Unicode.") from None


def to_text(value: JSONValue) -> str:
    """JSON text for storing data that is never signed (reports, settings): sorted keys,
    compact, floats allowed. Signed documents use ``dumps``."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def loads(data: bytes | str) -> JSONValue:
    """Decode JSON strictly: duplicate keys, non-finite numbers, NUL characters and text that
    is not valid Unicode are refused."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise MalformedData(f"The JSON repeats the key {key!r}.")
                seen.add(key)
        return result

    def no_constant(name: str) -> Any:
        raise MalformedData(f"The JSON holds {name}, which is not a number.")

    def number(text: str) -> int | float:
        """``7.0`` and ``1e3`` are the whole numbers they spell; other fractions stay floats
        (and are refused wherever canonical JSON is required)."""
        value = float(text)
        return int(value) if value.is_integer() else value

    try:
        if isinstance(data, bytes | bytearray):
            data = data.decode("utf-8")  # strictly: json.loads would let surrogates through
        elif not data.isascii():
            data.encode("utf-8")  # a surrogate in the text itself
    except UnicodeError:
        raise MalformedData("The data holds text that is not valid Unicode.") from None
    try:
        value = json.loads(
            data, object_pairs_hook=no_duplicates, parse_constant=no_constant, parse_float=number
        )
    except (ValueError, RecursionError) as error:
        raise MalformedData("The data is not valid JSON.") from error
    # Valid Unicode text can hide a NUL or half a surrogate pair only behind a \u escape
    # (strict JSON refuses raw control characters): without one, no value needs a look.
    if "\\u" in data:
        _check_text(value)
    return value


def _check_text(value: JSONValue, depth: int = 0) -> None:
    """Refuse text no database can hold: a NUL, or half of a surrogate pair (not Unicode)."""
    kind = type(value)
    if kind is str:
        _check_string(value)
    elif kind is dict:
        for key, element in value.items():
            _check_string(key)
            if type(element) in _CONTAINERS_OR_TEXT:
                _check_text(element, depth + 1)
    elif kind is list:
        for element in value:
            if type(element) in _CONTAINERS_OR_TEXT:
                _check_text(element, depth + 1)


_CONTAINERS_OR_TEXT = frozenset({str, dict, list})


def _check_string(text: str) -> None:
    if "\x00" in text:
        raise MalformedData("The data holds a NUL character, which is not allowed.")
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedData("The data holds text that is not valid Unicode.") from None
