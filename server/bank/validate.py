"""Bank validation: what makes a bank fit for a high-stakes test, checked item by item and
across the bank.

Items are held to a **profile**. ``HOUSE``, the bundled bank's own rules: exactly four options,
each with its feedback, no "all/none of the above". ``GENERAL``, what any bank's items need
(imports are held to it): two to six options, distinct option texts, one key for a
single-response item.

Errors (the bank must not be used): an item that breaks the schema (the loader refuses it),
repeated ids, an item its profile refuses, a practice item without feedback on every option or
that also stands in the exam bank, and, for a whole bank, a key position or key length that
gives the answer away, or too little coverage of categories and skills.
Warnings (a person should look): pairs of near-duplicate stems, an image without a text
alternative, "all/none of the above" outside the house profile.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations

from server.bank.model import BankItem
from shared.models import CATEGORIES

# chi-square critical value, 3 degrees of freedom, p = 0.01 (four key positions)
CHI2_3DF_P01 = 11.345
# one-sided normal critical value, p = 0.005
Z_P005 = 2.576
NEAR_DUPLICATE = 0.6  # Jaccard similarity of word 3-shingles
_GIVEAWAY = re.compile(
    r"\b(all|none|both) of (the )?(above|these|them)\b|\bboth [a-d] and [a-d]\b", re.IGNORECASE
)
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Profile:
    """The rules items are held to, beyond what every item needs."""

    name: str
    min_options: int
    max_options: int
    option_feedback: bool  # every option explains why it is right or wrong
    giveaway_is_error: bool  # "all/none of the above" refused, not only pointed out


HOUSE = Profile("house", 4, 4, option_feedback=True, giveaway_is_error=True)
GENERAL = Profile("general", 2, 6, option_feedback=False, giveaway_is_error=False)
PROFILES = {profile.name: profile for profile in (HOUSE, GENERAL)}


@dataclass(frozen=True)
class Targets:
    """What a whole bank must reach; a partial set (one file, an import) skips these."""

    items_per_category: int = 80
    skills: int = 40
    items_per_skill: int = 6


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.level}: {self.message}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)

    def error(self, where: str, message: str) -> None:
        self.findings.append(Finding("error", where, message))

    def warning(self, where: str, message: str) -> None:
        self.findings.append(Finding("warning", where, message))

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors


def _where(item: BankItem) -> str:
    return f"{item.origin or 'item'} ({item.id})"


def shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    if len(words) < 3:
        return {tuple(words)}
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def near_duplicates(
    items: list[BankItem], threshold: float = NEAR_DUPLICATE
) -> list[tuple[BankItem, BankItem, float]]:
    """Pairs of items whose stems share most of their word 3-shingles.

    An inverted index means only pairs sharing a shingle are compared, so this stays fast on
    large banks."""
    sets = [shingles(item.stem) for item in items]
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for number, grams in enumerate(sets):
        for gram in grams:
            index[gram].append(number)
    shared: Counter[tuple[int, int]] = Counter()
    for holders in index.values():
        if len(holders) > 200:  # a shingle in hundreds of stems says nothing about duplicates
            continue
        shared.update(combinations(holders, 2))
    pairs = []
    for (i, j), common in shared.items():
        similarity = common / len(sets[i] | sets[j])
        if similarity >= threshold:
            pairs.append((items[i], items[j], similarity))
    return sorted(pairs, key=lambda pair: -pair[2])


def _check_items(items: list[BankItem], report: Report, profile: Profile) -> None:
    seen: dict[str, BankItem] = {}
    for item in items:
        where = _where(item)
        if item.id in seen:
            report.error(where, f"id {item.id} is also used at {_where(seen[item.id])}.")
        seen[item.id] = item
        if item.status == "practice" or profile.option_feedback:
            for option in item.options:
                if not option.feedback.strip():
                    report.error(where, f"option {option.id} has no feedback.")
        if not item.multiple and len(item.key) != 1:
            report.error(where, "a single-response item needs exactly one right option.")
        for number, image in enumerate(item.images, 1):
            if not image.alt.strip():
                report.warning(where, f"image {number} has no text alternative for screen readers.")
        if item.status == "practice":
            continue
        count = len(item.options)
        if not profile.min_options <= count <= profile.max_options:
            wanted = (
                f"{profile.min_options}"
                if profile.min_options == profile.max_options
                else f"{profile.min_options} to {profile.max_options}"
            )
            report.error(where, f"an exam item needs {wanted} options, not {count}.")
        for option in item.options:
            if _GIVEAWAY.search(option.text):
                message = f"option {option.id} reads like 'all/none of the above'."
                if profile.giveaway_is_error:
                    report.error(where, message)
                else:
                    report.warning(where, message)
        texts = [option.text.strip().lower() for option in item.options]
        if len(set(texts)) != len(texts):
            report.error(where, "two options have the same text.")


def _check_keys(items: list[BankItem], report: Report) -> None:
    single = [item for item in items if len(item.key) == 1 and len(item.options) == 4]
    positions = Counter(
        [
            item.options.index(next(o for o in item.options if o.id == item.key[0]))
            for item in single
        ]
    )
    longest = sum(
        1
        for item in single
        if all(len(o.text) < len(_key_text(item)) for o in item.options if o.id != item.key[0])
    )
    shortest = sum(
        1
        for item in single
        if all(len(o.text) > len(_key_text(item)) for o in item.options if o.id != item.key[0])
    )
    n = len(single)
    report.figures["key_positions"] = {"abcd"[p]: positions.get(p, 0) for p in range(4)}
    report.figures["key_longest_share"] = round(longest / n, 3) if n else 0.0
    report.figures["key_shortest_share"] = round(shortest / n, 3) if n else 0.0
    if n < 40:
        return  # too few items for the tests below to mean anything
    expected = n / 4
    chi2 = sum((positions.get(p, 0) - expected) ** 2 / expected for p in range(4))
    report.figures["key_position_chi2"] = round(chi2, 2)
    if chi2 > CHI2_3DF_P01:
        report.error(
            "bank",
            f"key positions are unbalanced {report.figures['key_positions']} "
            f"(chi-square {chi2:.1f} > {CHI2_3DF_P01}, p < 0.01).",
        )
    spread = math.sqrt(n * 0.25 * 0.75)
    z_longest = (longest - expected) / spread
    report.figures["key_longest_z"] = round(z_longest, 2)
    if z_longest > Z_P005:
        report.error(
            "bank",
            f"the key is the longest option in {longest} of {n} items: length gives the "
            f"answer away (z = {z_longest:.1f}).",
        )


def _key_text(item: BankItem) -> str:
    return next(o.text for o in item.options if o.id == item.key[0])


def _check_coverage(items: list[BankItem], targets: Targets, report: Report) -> None:
    exam = [item for item in items if item.status in ("live", "pretest")]
    per_category = Counter(item.category for item in exam)
    for category in CATEGORIES:
        if per_category[category] < targets.items_per_category:
            report.error(
                "bank",
                f"category '{category}' has {per_category[category]} items; "
                f"a bank needs {targets.items_per_category}.",
            )
    per_skill = Counter(item.skill for item in exam)
    if len(per_skill) < targets.skills:
        report.error("bank", f"{len(per_skill)} skills; a bank needs {targets.skills}.")
    for skill, count in sorted(per_skill.items()):
        if count < targets.items_per_skill:
            report.error(
                "bank",
                f"skill '{skill}' has {count} items; each skill needs {targets.items_per_skill}.",
            )


def validate(
    items: Iterable[BankItem],
    practice: Iterable[BankItem] = (),
    targets: Targets | None = Targets(),
    profile: Profile = HOUSE,
) -> Report:
    """Check ``items`` (and the practice set against them) against ``profile``; ``targets=None``
    for a partial set."""
    report = Report()
    exam = list(items)
    practice = list(practice)
    _check_items(exam + practice, report, profile)
    _check_keys([item for item in exam if item.status != "practice"], report)
    if targets is not None:
        _check_coverage(exam, targets, report)
    exam_ids = {item.id for item in exam}
    for item in exam if targets is not None else []:  # a partial set may name other items
        for enemy in item.enemies:
            if enemy not in exam_ids:
                report.error(_where(item), f"enemy {enemy} is not an item of this bank.")
    for pair in near_duplicates(exam + practice):
        first, second, similarity = pair
        mixed = (first.status == "practice") != (second.status == "practice")
        message = f"stem is {similarity:.0%} like {_where(second)}" + (
            "; a practice item must never stand in the exam bank" if mixed else ""
        )
        if mixed:
            report.error(_where(first), message)
        else:
            report.warning(_where(first), message)
    for item in practice:
        if item.id in exam_ids:
            report.error(_where(item), "a practice item's id is also in the exam bank.")
        if item.status != "practice":
            report.error(_where(item), "items in the practice set must have status 'practice'.")
    report.figures["items"] = len(exam)
    report.figures["profile"] = profile.name
    report.figures["practice_items"] = len(practice)
    return report
