"""Deciding what an import does with each item read: check it, match it with the bank, and
report it. Nothing here writes; ``bank import`` writes what ``check`` kept, in one transaction.

Each item is checked against the general profile (``validate.GENERAL``): what it breaks skips it.
An item whose id the bank already has from the same source updates it, keeping the bank's status
and calibrated parameters (unless the source gave them: examgate's own export or TOML); the same
id from another source is skipped rather than overwrite someone else's item. A stem much like
one already in the bank, in any status, or like another item of the import, is a warning.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict

from server.bank.formats.common import Outcome
from server.bank.model import BankItem
from server.bank.validate import GENERAL, near_duplicates, validate


def check(outcomes: list[Outcome], bank: dict[str, BankItem]) -> list[Outcome]:
    """The outcomes with every check applied (items found wanting become skipped)."""
    seen: dict[str, str] = {}
    for outcome in outcomes:
        item = outcome.item
        if item is None:
            continue
        report = validate([item], targets=None, profile=GENERAL)
        errors = [f.message.rstrip(".") for f in report.errors]
        if item.id in seen:
            errors.append(f"its id {item.id} is also the id of {seen[item.id]}")
        existing = bank.get(item.id)
        if existing is not None and existing.source != item.source and not outcome.exact:
            errors.append(
                f"the bank already has an item {item.id} from '{existing.source}'; give this "
                "one another id (rename the question or its id number)"
            )
        if errors:
            outcome.item = None
            outcome.notes = errors
            continue
        seen[item.id] = outcome.where
        outcome.notes += [f.message.rstrip(".") for f in report.findings if f.level == "warning"]
        if existing is not None and not outcome.exact:
            outcome.item = dataclasses.replace(
                item,
                status=existing.status,
                a=existing.a,
                b=existing.b,
                c=existing.c,
                enemies=existing.enemies,
            )
    _near_duplicates(outcomes, bank)
    return outcomes


def _near_duplicates(outcomes: list[Outcome], bank: dict[str, BankItem]) -> None:
    incoming = {o.item.id: o for o in outcomes if o.item is not None}
    pool = [i for i in bank.values() if i.id not in incoming]
    pool += [o.item for o in incoming.values() if o.item is not None]
    found: dict[str, list[str]] = defaultdict(list)
    for first, second, similarity in near_duplicates(pool):
        for this, other in ((first, second), (second, first)):
            if this.id in incoming and this.id != other.id:
                where = "the bank" if other.id not in incoming else "this import"
                found[this.id].append(
                    f"its stem is {similarity:.0%} like {other.id} ({other.status}) in {where}"
                )
    for item_id, notes in found.items():
        incoming[item_id].notes += notes


def summary(outcomes: list[Outcome]) -> list[str]:
    """A table of what became of each source file's items, then every warning and reason."""
    per_file: dict[str, Counter[str]] = defaultdict(Counter)
    for outcome in outcomes:
        source = outcome.where.split(":", 1)[0].split(" (", 1)[0]
        per_file[source][outcome.status] += 1
    width = max([len(s) for s in per_file] + [4])
    lines = [f"{'file':<{width}}  imported  with warnings  skipped"]
    total: Counter[str] = Counter()
    for source, counts in [*per_file.items(), ("total", total)]:
        total.update(counts if source != "total" else {})
        lines.append(
            f"{source:<{width}}  {counts['imported']:>8}  {counts['warnings']:>13}  "
            f"{counts['skipped']:>7}"
        )
    details = []
    for outcome in outcomes:
        for note in outcome.notes:
            kind = "skipped" if outcome.item is None else "warning"
            details.append(f"{outcome.where}: {kind}: {note}.")
    return [*details, "", *lines] if details else lines
