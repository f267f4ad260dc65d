"""The bank's item type: everything the server knows about an item, key and parameters included."""

from __future__ import annotations

from dataclasses import dataclass, field

# Only live items are drawn for exams; practice items are public and never drawn.
STATUSES = ("draft", "pretest", "live", "retired", "practice")


class BankError(Exception):
    """An item file that cannot be loaded; the message names the file and the item."""


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    feedback: str


@dataclass(frozen=True)
class BankItem:
    id: str
    category: str
    skill: str
    stem: str
    options: tuple[Option, ...]
    key: tuple[str, ...]
    a: float
    b: float
    c: float
    status: str
    source: str
    # Items that must never stand on one form with this one (they give each other away).
    enemies: tuple[str, ...] = ()
    # Where the item was read from ("file:line"), for messages; not part of the item.
    origin: str = field(default="", compare=False)

    @property
    def multiple(self) -> bool:
        return len(self.key) > 1
