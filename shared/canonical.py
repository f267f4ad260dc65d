"""Canonical JSON: one byte string per value, so signatures and hashes are stable.

Keys sorted, no insignificant white space, UTF-8, no floats (timings travel as integer
milliseconds), no NaN. Both the client and the server sign and verify these bytes.
"""

from __future__ import annotations

import json
from typing import Any

from shared.errors import MalformedData

JSONValue = Any


def _check(value: JSONValue, depth: int = 0) -> None:
    if depth > 64:
        raise MalformedData("The data is nested too deeply.")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedData("The data holds text that is not valid Unicode.") from None
        return
    if isinstance(value, int):
        return
    if isinstance(value, float):
        raise MalformedData("Canonical JSON holds no floating-point numbers.")
    if isinstance(value, list | tuple):
        for element in value:
            _check(element, depth + 1)
        return
    if isinstance(value, dict):
        for key, element in value.items():
            if not isinstance(key, str):
                raise MalformedData("Canonical JSON object keys must be strings.")
            _check(key, depth + 1)
            _check(element, depth + 1)
        return
    raise MalformedData(f"Canonical JSON cannot hold a {type(value).__name__}.")


def dumps(value: JSONValue) -> bytes:
    """Encode ``value`` as canonical JSON bytes."""
    _check(value)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


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
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise MalformedData(f"The JSON repeats the key {key!r}.")
            result[key] = value
        return result

    def no_constant(name: str) -> Any:
        raise MalformedData(f"The JSON holds {name}, which is not a number.")

    def number(text: str) -> int | float:
        """``7.0`` and ``1e3`` are the whole numbers they spell; other fractions stay floats
        (and are refused wherever canonical JSON is required)."""
        value = float(text)
        return int(value) if value.is_integer() else value

    try:
        value = json.loads(
            data, object_pairs_hook=no_duplicates, parse_constant=no_constant, parse_float=number
        )
    except (ValueError, RecursionError) as error:
        raise MalformedData("The data is not valid JSON.") from error
    _check_text(value)
    return value


def _check_text(value: JSONValue, depth: int = 0) -> None:
    """Refuse text no database can hold: a NUL, or half of a surrogate pair (not Unicode)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise MalformedData("The data holds a NUL character, which is not allowed.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedData("The data holds text that is not valid Unicode.") from None
    elif isinstance(value, dict):
        for key, element in value.items():
            _check_text(key, depth + 1)
            _check_text(element, depth + 1)
    elif isinstance(value, list):
        for element in value:
            _check_text(element, depth + 1)
