"""Items in the database: import (insert or update by id) and read back."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select

from server import db
from server.bank.model import BankItem, Option
from shared import canonical


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
    }


def import_items(connection: Connection, bank: Iterable[BankItem]) -> tuple[int, int]:
    """Insert new items and update changed ones; return (inserted, updated)."""
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
    return inserted, updated


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
    )
