"""Items in the database: import (insert or update by id) and read back."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from server import db
from server.bank.model import BankItem, Image, Option
from shared import canonical

if TYPE_CHECKING:
    from server.context import Context


def _row(item: BankItem) -> dict[str, object]:
    return {
        "id": item.id,
        "category": item.category,
        "skill": item.skill,
        "stem": item.stem,
        "options": canonical.dumps(
            [{"id": o.id, "text": o.text, "feedback": o.feedback} for o in item.options]
        ).decode(),
        "answer_key": canonical.dumps(list(item.key)).decode(),
        "a": item.a,
        "b": item.b,
        "c": item.c,
        "status": item.status,
        "source": item.source,
        "enemies": canonical.dumps(sorted(item.enemies)).decode(),
        "multiple_response": item.multiple_response,
        "feedback": canonical.dumps(item_feedback(item)).decode(),
        "images": canonical.dumps([image_json(image) for image in item.images]).decode(),
    }


def item_feedback(item: BankItem) -> dict[str, str]:
    """The item-level feedback it has: general, for a right answer, for a wrong one."""
    given = {
        "general": item.general_feedback,
        "correct": item.correct_feedback,
        "incorrect": item.incorrect_feedback,
    }
    return {name: text for name, text in given.items() if text}


def image_json(image: Image) -> dict[str, str]:
    return {
        "name": image.name,
        "type": image.media_type,
        "alt": image.alt,
        "data": base64.b64encode(image.data).decode(),
    }


def image_from_json(value: dict[str, str]) -> Image:
    return Image(value["name"], value["type"], base64.b64decode(value["data"]), value["alt"])


def import_items(connection: Connection, bank: Iterable[BankItem]) -> tuple[int, int]:
    """Insert new items and update changed ones; return (inserted, updated). Any change moves
    the bank to a new version, so every process's cache of it is renewed."""
    rows = [_row(item) for item in bank]
    existing = {row.id: row._asdict() for row in connection.execute(select(db.items))}
    inserted = updated = 0
    for row in rows:
        old = existing.get(str(row["id"]))
        if old is None:
            connection.execute(db.items.insert().values(**row))
            inserted += 1
        elif old != row:
            connection.execute(db.items.update().where(db.items.c.id == row["id"]).values(**row))
            updated += 1
    if inserted or updated:
        bump_version(connection)
    return inserted, updated


def bump_version(connection: Connection) -> None:
    """Mark the bank changed (items added, edited or recalibrated)."""
    connection.execute(
        db.bank_version.update()
        .where(db.bank_version.c.id == 1)
        .values(version=db.bank_version.c.version + 1)
    )


def cached_items(ctx: Context, connection: Connection) -> dict[str, BankItem]:
    """Every item by id, read once per bank version per process (one small query to check)."""
    version = int(connection.execute(_BANK_VERSION).scalar() or 0)
    held = ctx.bank_cache
    if held is not None and held[0] == version:
        return held[1]
    items = {item.id: item for item in all_items(connection)}
    ctx.bank_cache = (version, items)
    return items


_BANK_VERSION = select(db.bank_version.c.version).where(db.bank_version.c.id == 1)


def all_items(connection: Connection) -> list[BankItem]:
    query = select(db.items).order_by(db.items.c.id)
    return [item_from_row(row._asdict()) for row in connection.execute(query)]


def practice_items(connection: Connection) -> list[BankItem]:
    query = select(db.items).where(db.items.c.status == "practice").order_by(db.items.c.id)
    return [item_from_row(row._asdict()) for row in connection.execute(query)]


def practice_view(item: BankItem) -> dict[str, object]:
    """A practice item as the public sees it: answers and explanations included, never
    parameters (practice items are public by design and never drawn for an exam)."""
    return {
        "id": item.id,
        "category": item.category,
        "skill": item.skill,
        "stem": item.stem,
        "options": [{"id": o.id, "text": o.text, "feedback": o.feedback} for o in item.options],
        "key": list(item.key),
    }


def exposed_from(bank: dict[str, BankItem]) -> list[BankItem]:
    """The items a form can hold, from a cached bank (as ``exposed_items``)."""
    return sorted(
        (item for item in bank.values() if item.status in ("live", "pretest")),
        key=lambda item: item.id,
    )


def exposed_items(connection: Connection) -> list[BankItem]:
    """The items a form can hold: live ones, and pretest ones riding along unscored."""
    query = (
        select(db.items).where(db.items.c.status.in_(("live", "pretest"))).order_by(db.items.c.id)
    )
    return [item_from_row(row._asdict()) for row in connection.execute(query)]


def items_by_id(connection: Connection, ids: Iterable[str]) -> dict[str, BankItem]:
    query = select(db.items).where(db.items.c.id.in_(list(ids)))
    return {row.id: item_from_row(row._asdict()) for row in connection.execute(query)}


def item_from_row(row: dict[str, object]) -> BankItem:
    options = canonical.loads(str(row["options"]))
    feedback = canonical.loads(str(row.get("feedback") or "{}"))
    return BankItem(
        id=str(row["id"]),
        category=str(row["category"]),
        skill=str(row["skill"]),
        stem=str(row["stem"]),
        options=tuple(Option(o["id"], o["text"], o["feedback"]) for o in options),
        key=tuple(canonical.loads(str(row["answer_key"]))),
        a=float(str(row["a"])),
        b=float(str(row["b"])),
        c=float(str(row["c"])),
        status=str(row["status"]),
        source=str(row["source"]),
        enemies=tuple(canonical.loads(str(row.get("enemies") or "[]"))),
        multiple_response=bool(row.get("multiple_response")),
        general_feedback=feedback.get("general", ""),
        correct_feedback=feedback.get("correct", ""),
        incorrect_feedback=feedback.get("incorrect", ""),
        images=tuple(image_from_json(i) for i in canonical.loads(str(row.get("images") or "[]"))),
    )
