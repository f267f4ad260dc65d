"""The bank's item type: everything the server knows about an item, key and parameters included."""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("draft", "pretest", "live", "retired")


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

    @property
    def multiple(self) -> bool:
        return len(self.key) > 1
