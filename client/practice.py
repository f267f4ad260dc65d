"""Practice: public questions answered one at a time, with the answer and an explanation for
every option shown after Submit. No clock, no journal, nothing sent anywhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.models import CATEGORIES


@dataclass(frozen=True)
class PracticeOption:
    id: str
    text: str
    feedback: str


@dataclass(frozen=True)
class PracticeItem:
    id: str
    category: str
    skill: str
    stem: str
    options: tuple[PracticeOption, ...]
    key: tuple[str, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PracticeItem:
        return cls(
            id=str(data["id"]),
            category=str(data["category"]),
            skill=str(data["skill"]),
            stem=str(data["stem"]),
            options=tuple(
                PracticeOption(str(o["id"]), str(o["text"]), str(o["feedback"]))
                for o in data["options"]
            ),
            key=tuple(str(k) for k in data["key"]),
        )


@dataclass(frozen=True)
class Verdict:
    correct: bool
    chosen: tuple[str, ...]
    key: tuple[str, ...]
    explanations: dict[str, str]  # option id to why it is right or wrong


class PracticeRound:
    """A run through the practice questions of one category (or all of them)."""

    def __init__(self, items: list[PracticeItem], category: str | None = None) -> None:
        if category is not None and category not in CATEGORIES:
            raise ValueError(f"unknown category {category!r}")
        order = list(CATEGORIES)
        chosen = [item for item in items if category in (None, item.category)]
        self.items = sorted(chosen, key=lambda item: (order.index(item.category), item.id))
        self.index = 0
        self.verdicts: dict[str, Verdict] = {}

    @property
    def current(self) -> PracticeItem | None:
        return self.items[self.index] if self.index < len(self.items) else None

    @property
    def finished(self) -> bool:
        return self.index >= len(self.items)

    def submit(self, option_ids: list[str]) -> Verdict:
        """Check the choice for the current question; it can be submitted once."""
        item = self.current
        if item is None:
            raise ValueError("the practice round is over")
        if item.id in self.verdicts:
            return self.verdicts[item.id]
        chosen = tuple(sorted(set(option_ids)))
        verdict = Verdict(
            correct=set(chosen) == set(item.key),
            chosen=chosen,
            key=item.key,
            explanations={option.id: option.feedback for option in item.options},
        )
        self.verdicts[item.id] = verdict
        return verdict

    def next(self) -> None:
        self.index += 1

    @property
    def score(self) -> tuple[int, int]:
        return sum(1 for v in self.verdicts.values() if v.correct), len(self.verdicts)
