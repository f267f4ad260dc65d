"""Bank statistics: items per category, skill and difficulty band, and a picture of the spread."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from server.bank.model import BankItem
from shared.models import CATEGORIES

# Bands on the 3PL difficulty (b) scale, where 0 is the average candidate.
BANDS = (
    ("very easy", -99.0, -1.5),
    ("easy", -1.5, -0.5),
    ("medium", -0.5, 0.5),
    ("hard", 0.5, 1.5),
    ("very hard", 1.5, 99.0),
)


def band(b: float) -> str:
    return next(name for name, low, high in BANDS if low <= b < high)


def bank_stats(items: list[BankItem], practice: list[BankItem]) -> dict[str, Any]:
    exam = [item for item in items if item.status != "practice"]
    by_category = Counter(item.category for item in exam)
    return {
        "items": len(exam),
        "categories": {c: by_category.get(c, 0) for c in CATEGORIES},
        "skills": dict(sorted(Counter(item.skill for item in exam).items())),
        "skills_by_category": {
            c: dict(sorted(Counter(i.skill for i in exam if i.category == c).items()))
            for c in CATEGORIES
        },
        "difficulty_bands": {
            c: {
                name: sum(1 for i in exam if i.category == c and band(i.b) == name)
                for name, _, _ in BANDS
            }
            for c in CATEGORIES
        },
        "statuses": dict(sorted(Counter(item.status for item in exam).items())),
        "practice_items": len(practice),
        "practice_categories": dict(Counter(item.category for item in practice)),
    }


def plot_difficulty(items: list[BankItem], path: Path) -> None:
    """Histogram of item difficulty per category, written as PNG (needs matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(CATEGORIES), figsize=(14, 3.6), sharey=True)
    bins = [x / 4 for x in range(-12, 13)]
    for axis, (category, name) in zip(axes, CATEGORIES.items(), strict=True):
        values = [item.b for item in items if item.category == category]
        axis.hist(values, bins=bins, color="#1f6f8b", edgecolor="white")
        axis.set_title(f"{name}\n{len(values)} items", fontsize=10)
        axis.set_xlabel("difficulty b (logits)")
    axes[0].set_ylabel("items")
    figure.suptitle("examgate bank: difficulty spread per category", fontsize=12)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
