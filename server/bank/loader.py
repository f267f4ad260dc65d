"""Load items from the bank's TOML files, checking each against the item schema."""

from __future__ import annotations

import base64
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from server.bank.model import IMAGE_TYPES, STATUSES, BankError, BankItem, Image, Option
from shared.models import CATEGORIES

BUNDLED = Path(__file__).with_name("data")
PRACTICE = Path(__file__).with_name("practice")
_ITEM_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*item[ \t]*\]\]", re.MULTILINE)


def bundled_files() -> list[Path]:
    return sorted(BUNDLED.glob("*.toml"))


def practice_files() -> list[Path]:
    return sorted(PRACTICE.glob("*.toml"))


def load_files(paths: Iterable[Path]) -> list[BankItem]:
    """All items in ``paths``; ids must be unique across the files."""
    loaded: list[BankItem] = []
    seen: dict[str, Path] = {}
    for path in paths:
        for item in load_file(path):
            if item.id in seen:
                raise BankError(f"{path}: item {item.id} is also defined in {seen[item.id]}.")
            seen[item.id] = path
            loaded.append(item)
    return loaded


def load_file(path: Path) -> list[BankItem]:
    try:
        text = path.read_text(encoding="utf-8")
        document = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as error:
        raise BankError(f"{path}: cannot be read ({error}).") from error
    except tomllib.TOMLDecodeError as error:
        raise BankError(f"{path}: not valid TOML: {error}.") from error
    entries = document.get("item")
    if not isinstance(entries, list):
        raise BankError(f"{path}: holds no [[item]] tables.")
    # The line of each [[item]] header, in order, so messages point into the file.
    lines = [text.count("\n", 0, match.start()) + 1 for match in _ITEM_HEADER.finditer(text)]
    items = []
    for number, entry in enumerate(entries, 1):
        line = lines[number - 1] if number <= len(lines) else None
        where = f"{path}:{line}" if line else f"{path}: item {number}"
        items.append(parse_item(entry, where))
    return items


def _text(entry: dict[str, Any], field: str, where: str) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value.strip():
        raise BankError(f"{where}: '{field}' must be non-empty text.")
    return value.strip()


def _number(entry: dict[str, Any], field: str, where: str, low: float, high: float) -> float:
    value = entry.get(field)
    if not isinstance(value, int | float) or isinstance(value, bool) or not low <= value <= high:
        raise BankError(f"{where}: '{field}' must be a number from {low} to {high}.")
    return float(value)


def parse_item(entry: object, where: str) -> BankItem:
    """One item from its TOML table; every problem is a ``BankError`` naming ``where``."""
    if not isinstance(entry, dict):
        raise BankError(f"{where}: is not a table.")
    item_id = _text(entry, "id", where)
    where = f"{where} ({item_id})"
    category = _text(entry, "category", where)
    if category not in CATEGORIES:
        raise BankError(f"{where}: unknown category '{category}'.")
    raw_options = entry.get("options")
    if not isinstance(raw_options, list) or len(raw_options) < 2:
        raise BankError(f"{where}: needs at least two options.")
    options = []
    for raw in raw_options:
        if not isinstance(raw, dict):
            raise BankError(f"{where}: an option is not a table.")
        options.append(
            Option(
                id=_text(raw, "id", where),
                text=_text(raw, "text", where),
                feedback=_optional_text(raw, "feedback", where),
            )
        )
    option_ids = [option.id for option in options]
    if len(set(option_ids)) != len(option_ids):
        raise BankError(f"{where}: option ids repeat.")
    key = entry.get("key")
    if (
        not isinstance(key, list)
        or not key
        or any(k not in option_ids for k in key)
        or len(set(key)) != len(key)
    ):
        raise BankError(f"{where}: 'key' must list one or more of the option ids {option_ids}.")
    enemies = entry.get("enemies", [])
    if not isinstance(enemies, list) or not all(isinstance(e, str) for e in enemies):
        raise BankError(f"{where}: 'enemies' must be a list of item ids.")
    status = _text(entry, "status", where)
    if status not in STATUSES:
        raise BankError(f"{where}: status must be one of {', '.join(STATUSES)}.")
    return BankItem(
        origin=where.split(" (")[0],
        id=item_id,
        category=category,
        skill=_text(entry, "skill", where),
        stem=_text(entry, "stem", where),
        options=tuple(options),
        key=tuple(key),
        a=_number(entry, "a", where, 0.05, 5.0),
        b=_number(entry, "b", where, -5.0, 5.0),
        c=_number(entry, "c", where, 0.0, 0.5),
        status=status,
        source=_text(entry, "source", where),
        enemies=tuple(enemies),
        multiple_response=_flag(entry, "multiple", where),
        general_feedback=_optional_text(entry, "general_feedback", where),
        correct_feedback=_optional_text(entry, "correct_feedback", where),
        incorrect_feedback=_optional_text(entry, "incorrect_feedback", where),
        images=_images(entry, where),
    )


def _optional_text(entry: dict[str, Any], field: str, where: str) -> str:
    value = entry.get(field, "")
    if not isinstance(value, str):
        raise BankError(f"{where}: '{field}' must be text.")
    return value.strip()


def _flag(entry: dict[str, Any], field: str, where: str) -> bool:
    value = entry.get(field, False)
    if not isinstance(value, bool):
        raise BankError(f"{where}: '{field}' must be true or false.")
    return value


def _images(entry: dict[str, Any], where: str) -> tuple[Image, ...]:
    raw = entry.get("images", [])
    if not isinstance(raw, list):
        raise BankError(f"{where}: 'images' must be a list of tables.")
    images = []
    for number, image in enumerate(raw, 1):
        if not isinstance(image, dict):
            raise BankError(f"{where}: image {number} is not a table.")
        media_type = _text(image, "type", where)
        if media_type not in IMAGE_TYPES:
            raise BankError(f"{where}: image {number} must be one of {', '.join(IMAGE_TYPES)}.")
        try:
            data = base64.b64decode(_text(image, "data", where), validate=True)
        except ValueError as error:
            raise BankError(f"{where}: image {number}'s data is not base64.") from error
        images.append(
            Image(
                _text(image, "name", where), media_type, data, _optional_text(image, "alt", where)
            )
        )
    return tuple(images)
