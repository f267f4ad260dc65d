"""Form assembly: which items a candidate gets, in which order, with shuffled options.

PROVISIONAL: a simple random draw per category to the blueprint's counts. Assembly to a full
blueprint with exposure control replaces it (see the measurement issue); the form's shape stays.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from server.bank.model import BankItem
from server.errors import ApiError


def _opaque_id(rng: random.Random, taken: set[str]) -> str:
    while True:
        candidate = f"{rng.getrandbits(48):012x}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def assemble(
    bank: list[BankItem], per_category: dict[str, int], rng: random.Random
) -> list[dict[str, Any]]:
    """Draw ``per_category`` items from ``bank`` and return the form.

    Each entry: ``{"item": bank id, "id": presented id, "options": [[presented, bank option]]}``.
    Presented ids are random, so nothing the candidate sees maps back to the bank or the key.
    """
    by_category: dict[str, list[BankItem]] = defaultdict(list)
    for item in bank:
        by_category[item.category].append(item)
    chosen: list[BankItem] = []
    for category, count in per_category.items():
        pool = by_category.get(category, [])
        if len(pool) < count:
            raise ApiError(
                503, "bank_too_small", f"The item bank has too few items for '{category}'."
            )
        chosen.extend(rng.sample(pool, count))
    rng.shuffle(chosen)
    taken: set[str] = set()
    form = []
    for item in chosen:
        options = list(item.options)
        rng.shuffle(options)
        form.append(
            {
                "item": item.id,
                "id": _opaque_id(rng, taken),
                "options": [[_opaque_id(rng, taken), option.id] for option in options],
            }
        )
    return form


def package_items(form: list[dict[str, Any]], bank: dict[str, BankItem]) -> list[dict[str, Any]]:
    """What the candidate's package holds for ``form``: stems and option texts, nothing more."""
    content = []
    for entry in form:
        item = bank[entry["item"]]
        texts = {option.id: option.text for option in item.options}
        content.append(
            {
                "id": entry["id"],
                "category": item.category,
                "stem": item.stem,
                "multiple": item.multiple,
                "options": [
                    {"id": shown, "text": texts[source]} for shown, source in entry["options"]
                ],
            }
        )
    return content
