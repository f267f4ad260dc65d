"""Form assembly: linear-on-the-fly forms to a blueprint, with exposure control.

For each category the blueprint asks for n items; they are chosen one slot at a time, the slots'
target abilities spread evenly around the expected ability so each form has easy and hard items.
For a slot, the eligible items are the live items of the category that the candidate has not
seen, that are no enemy of an item already chosen, whose skill is not yet used on the form (or,
when the category runs short, used fewer than ``max_per_skill`` times) and whose exposure rate is
below ``max_exposure``. One of the ``randomesque`` most informative of them at the slot's ability
is drawn at random: the randomesque method, which with the exposure ceiling keeps any item from
appearing on more than the configured share of forms.

Assembly is deterministic given the random generator, the bank and the exposure counts.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from server import timing
from server.bank.model import BankItem
from server.irt import information
from server.timing import ItemTime
from shared.wire import PackageImage, PackageItem, PackageOption


class BankTooSmall(Exception):
    """The bank cannot fill the blueprint (too few items, or all excluded); the message says why."""


@dataclass(frozen=True)
class Blueprint:
    per_category: dict[str, int]
    max_per_skill: int = 2
    target_theta: float = 0.0
    spread: float = 1.0  # slot targets run from target - spread to target + spread
    randomesque: int = 5
    max_exposure: float = 0.2
    pretest: int = 0  # unscored pretest items riding along on each form
    item_feedback: bool = False  # results explain the questions a candidate missed
    # With a time model: as many items as a typical candidate answers in this many seconds, in
    # the proportions of ``per_category`` (0: ``per_category`` as it stands).
    fill_seconds: float = 0.0
    # Online sittings choose each next item on the server (server.delivery); the package then
    # holds the linear form the client falls back on if the connection drops.
    adaptive: bool = False

    def counts(self, index: BankIndex, times: Mapping[str, ItemTime] | None) -> dict[str, int]:
        """Items per category: ``per_category``, or what fills ``fill_seconds``."""
        if not self.fill_seconds or times is None:
            return dict(self.per_category)
        numbers = {index.categories.get(c) for c in self.per_category}
        expected = [
            timing.lookup(times, item.id).expected_seconds()
            for n, item in enumerate(index.items)
            if index.live[n] and index.category[n] in numbers
        ]
        total = timing.items_filling(self.fill_seconds, expected, len(self.per_category))
        weight = sum(self.per_category.values())
        return {c: max(1, round(total * n / weight)) for c, n in self.per_category.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Blueprint:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class BankIndex:
    """A bank as arrays, built once and reused for many forms."""

    def __init__(self, items: Sequence[BankItem]) -> None:
        self.items = list(items)
        self.position = {item.id: n for n, item in enumerate(self.items)}
        self.a = np.array([i.a for i in self.items])
        self.b = np.array([i.b for i in self.items])
        self.c = np.array([i.c for i in self.items])
        self.live = np.array([i.status == "live" for i in self.items])
        self.pretest = np.array([i.status == "pretest" for i in self.items])
        self.categories = {
            name: n for n, name in enumerate(sorted({i.category for i in self.items}))
        }
        self.category = np.array([self.categories[i.category] for i in self.items])
        skills = {name: n for n, name in enumerate(sorted({i.skill for i in self.items}))}
        self.skill = np.array([skills[i.skill] for i in self.items])
        self.skill_count = len(skills)
        self.enemies = [
            [self.position[e] for e in i.enemies if e in self.position] for i in self.items
        ]
        # enemies are mutual even when only one side names the other
        for n, _item in enumerate(self.items):
            for enemy in self.enemies[n]:
                if n not in self.enemies[enemy]:
                    self.enemies[enemy].append(n)


def opaque_id(rng: random.Random, taken: set[str]) -> str:
    while True:
        candidate = f"{rng.getrandbits(48):012x}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def choose_items(
    index: BankIndex,
    blueprint: Blueprint,
    rng: random.Random,
    exposure: Mapping[str, int] | None = None,
    forms_issued: int = 0,
    seen: frozenset[str] = frozenset(),
    times: Mapping[str, ItemTime] | None = None,
) -> tuple[list[int], list[int]]:
    """Positions of the scored items and of the pretest items for one form."""
    size = len(index.items)
    counts = np.zeros(size)
    for item_id, count in (exposure or {}).items():
        if item_id in index.position:
            counts[index.position[item_id]] = count
    # Would this form push the item over the ceiling? (+1 on both sides: this form counts.)
    under_ceiling = (counts + 1) / (forms_issued + 1) <= blueprint.max_exposure
    if forms_issued < 1 / blueprint.max_exposure:
        under_ceiling[:] = True  # too few forms yet for a rate to mean anything
    unseen = np.ones(size, dtype=bool)
    for item_id in seen:
        if item_id in index.position:
            unseen[index.position[item_id]] = False
    blocked = np.zeros(size, dtype=bool)
    skill_used = np.zeros(index.skill_count, dtype=int)
    chosen: list[int] = []
    for category, wanted in blueprint.counts(index, times).items():
        number = index.categories.get(category)
        base = index.live & unseen & (index.category == number)
        if number is None or int(base.sum()) < wanted:
            raise BankTooSmall(f"The item bank has too few items for '{category}'.")
        targets = blueprint.target_theta + np.linspace(-blueprint.spread, blueprint.spread, wanted)
        if wanted == 1:
            targets = np.array([blueprint.target_theta])
        for target in rng.sample(list(targets), len(targets)):
            pick = _pick(index, blueprint, rng, base & ~blocked, under_ceiling, skill_used, target)
            chosen.append(pick)
            blocked[pick] = True
            blocked[index.enemies[pick]] = True
            skill_used[index.skill[pick]] += 1
    pretest: list[int] = []
    if blueprint.pretest:
        pool = np.flatnonzero(index.pretest & unseen & ~blocked)
        pretest = rng.sample(sorted(pool.tolist()), min(blueprint.pretest, len(pool)))
    return chosen, pretest


def _pick(
    index: BankIndex,
    blueprint: Blueprint,
    rng: random.Random,
    eligible: np.ndarray,
    under_ceiling: np.ndarray,
    skill_used: np.ndarray,
    target: float,
) -> int:
    uses = skill_used[index.skill]
    # Strictest first; each step relaxes one preference rather than failing the form.
    for mask in (
        eligible & under_ceiling & (uses == 0),
        eligible & under_ceiling & (uses < blueprint.max_per_skill),
        eligible & (uses < blueprint.max_per_skill),
        eligible,
    ):
        candidates = np.flatnonzero(mask)
        if candidates.size:
            break
    else:
        raise BankTooSmall("The item bank cannot fill this form.")
    info = information(target, index.a[candidates], index.b[candidates], index.c[candidates])
    top = min(blueprint.randomesque, candidates.size)
    best = (
        candidates[np.argpartition(-info, top - 1)[:top]] if top < candidates.size else candidates
    )
    return int(rng.choice(sorted(best.tolist())))


def assemble(
    bank: Sequence[BankItem] | BankIndex,
    blueprint: Blueprint,
    rng: random.Random,
    exposure: Mapping[str, int] | None = None,
    forms_issued: int = 0,
    seen: frozenset[str] = frozenset(),
    times: Mapping[str, ItemTime] | None = None,
) -> list[dict[str, Any]]:
    """A form: ``[{"item", "id", "options": [[presented, bank option]], "pretest"}]``.

    Presented ids are random, so nothing the candidate sees maps back to the bank or the key.
    """
    index = bank if isinstance(bank, BankIndex) else BankIndex(bank)
    scored, pretest = choose_items(index, blueprint, rng, exposure, forms_issued, seen, times)
    entries = [(n, False) for n in scored] + [(n, True) for n in pretest]
    rng.shuffle(entries)
    taken: set[str] = set()
    form = []
    for position, is_pretest in entries:
        item = index.items[position]
        options = list(item.options)
        rng.shuffle(options)
        form.append(
            {
                "item": item.id,
                "id": opaque_id(rng, taken),
                "options": [[opaque_id(rng, taken), option.id] for option in options],
                "pretest": is_pretest,
            }
        )
    return form


def package_items(form: list[dict[str, Any]], bank: dict[str, BankItem]) -> list[dict[str, Any]]:
    """What the candidate's package holds for ``form``: stems and option texts, nothing more."""
    content = []
    for entry in form:
        item = bank[entry["item"]]
        texts = {option.id: option.text for option in item.options}
        options = tuple(PackageOption(shown, texts[source]) for shown, source in entry["options"])
        images = tuple(
            PackageImage(i.media_type, base64.b64encode(i.data).decode(), i.alt)
            for i in item.images
        )
        shown = PackageItem(entry["id"], item.category, item.stem, options, item.multiple, images)
        content.append(shown.to_json())
    return content
