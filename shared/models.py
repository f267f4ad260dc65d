"""The vocabulary both sides share: categories, levels, end reasons, event kinds."""

from __future__ import annotations

from typing import Final

# The four graded categories of the deep learning test, in the order they are reported.
CATEGORIES: Final[dict[str, str]] = {
    "foundations": "Deep learning foundations",
    "improving": "Techniques to improve neural networks",
    "cnn": "Convolutional neural networks",
    "sequence": "Sequence models",
}

LEVELS: Final = ("beginning", "developing", "accomplished")

END_REASONS: Final = ("finished", "time_up", "voided")


def category_name(category: str) -> str:
    return CATEGORIES.get(category, category)


def level_name(level: str) -> str:
    return level.capitalize()
