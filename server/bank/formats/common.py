"""What the importers share: the category and skill mapping, safe XML, ids, and the outcome of
each item (imported, imported with warnings, or skipped with the reason).

An importer never stops a whole file for one item it cannot take: it records that item as
skipped, naming the file and the item, and goes on. Only a file that cannot be read at all (not
XML, a damaged zip, a DTD) is one skipped outcome for the whole file.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from server.bank.model import BankItem, Image, Option
from shared.models import CATEGORIES

MAX_DEPTH = 100  # elements nested deeper than this are no item's markup
ID_LENGTH = 32  # the bank's id column
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_QTI_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


class ImportError_(Exception):
    """A file that cannot be imported; the message names the file (and line or item)."""


class Skip(Exception):
    """This item cannot be imported; the message says why, in words for the person importing."""


@dataclass(frozen=True)
class Mapping:
    """How source categories and skills become examgate's.

    A source category (Moodle or GIFT category path, QTI label) is matched, case-insensitively,
    against examgate's category ids and names, then ``categories`` (source name to id); items
    with none get ``category``. The skill is the last part of the source category path, else
    ``skill``. Every id given must be one of examgate's categories.
    """

    category: str | None = None
    skill: str | None = None
    categories: dict[str, str] = field(default_factory=dict)
    status: str = "draft"
    source: str = ""

    def __post_init__(self) -> None:
        given = [self.category] if self.category else []
        given += list(self.categories.values())
        unknown = sorted({c for c in given if c not in CATEGORIES})
        if unknown:
            raise ImportError_(
                f"unknown category {', '.join(repr(c) for c in unknown)}; the categories are "
                f"{', '.join(CATEGORIES)}."
            )

    def resolve(self, path: list[str]) -> tuple[str, str]:
        """(category id, skill) for a source category path like ['top', 'CNN', 'Pooling']."""
        known = {name.lower(): cid for cid, name in CATEGORIES.items()}
        known.update({cid: cid for cid in CATEGORIES})
        known.update({name.lower(): cid for name, cid in self.categories.items()})
        parts = [part.strip() for part in path if part.strip() and part.strip() != "$course$"]
        category = next((known[p.lower()] for p in reversed(parts) if p.lower() in known), None)
        category = category or self.category
        if category is None:
            raise Skip(
                f"no examgate category for {'/'.join(parts) or 'it'}; pass --category ID or "
                "--category-map 'SOURCE NAME=ID'"
            )
        skill = parts[-1] if parts and parts[-1].lower() not in known else None
        skill = skill or self.skill
        if not skill:
            raise Skip("no skill is named for it; pass --skill NAME")
        return category, skill


@dataclass
class Outcome:
    """What became of one item of a source (or of a whole file that could not be read)."""

    where: str  # "file" or "file: item X" or "file:line"
    item: BankItem | None
    notes: list[str] = field(default_factory=list)  # warnings, or the reason it was skipped
    # The source gave the item whole (examgate's own export, its TOML): id, status and
    # parameters are the item's own, not an import's defaults.
    exact: bool = False

    @property
    def status(self) -> str:
        if self.item is None:
            return "skipped"
        return "warnings" if self.notes else "imported"


@dataclass
class ImportResult:
    outcomes: list[Outcome]

    @property
    def items(self) -> list[BankItem]:
        return [o.item for o in self.outcomes if o.item is not None]


def parse_xml(data: bytes, where: str) -> Element:
    """Parse untrusted XML: DTDs, entities and external references refused, depth limited."""
    try:
        root: Element = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise ImportError_(
            f"{where}: refused: the XML declares a DTD or entities ({type(error).__name__}); "
            "item files never need them."
        ) from error
    except SafeET.ParseError as error:
        raise ImportError_(f"{where}: not well-formed XML ({error}).") from error
    if _depth(root) > MAX_DEPTH:
        raise ImportError_(
            f"{where}: refused: elements are nested more than {MAX_DEPTH} deep; no item needs that."
        )
    return root


def _depth(root: Element) -> int:
    """How deeply elements nest under ``root``, without recursion (stops past the limit)."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in element)
    return deepest


def item_id(prefix: str, given: str | None, stem: str) -> str:
    """A stable id for an item from another tool: ``PREFIX-`` and its own identifier if usable
    (shortened with a digest to fit), else a digest of the stem."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", given or "").strip("-.")
    if not cleaned:
        return f"{prefix}-{hashlib.sha256(stem.encode()).hexdigest()[:10]}"
    made = f"{prefix}-{cleaned}"
    if len(made) <= ID_LENGTH:
        return made
    digest = hashlib.sha256(cleaned.encode()).hexdigest()[:8]
    return f"{made[: ID_LENGTH - 9]}-{digest}"


def own_id(given: str | None) -> str | None:
    """An id examgate wrote (an exported item's), used as it is; None if it cannot be one."""
    if given and len(given) <= ID_LENGTH and _ID.fullmatch(given):
        return given
    return None


def _chance(options: int, multiple: bool) -> float:
    """The 3PL guessing parameter of an uncalibrated item: the chance of a blind right answer
    (one option of n; for a multiple-response item, the one right set of 2^n - 1)."""
    return round(1 / (2**options - 1) if multiple else 1 / options, 3)


def letter_ids(count: int) -> list[str]:
    return [chr(ord("a") + n) if n < 26 else f"o{n}" for n in range(count)]


@dataclass
class Draft:
    """An item being read, before it is checked and made a ``BankItem``."""

    stem: str = ""
    options: list[Option] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    multiple: bool = False
    general_feedback: str = ""
    correct_feedback: str = ""
    incorrect_feedback: str = ""
    images: list[Image] = field(default_factory=list)

    def _letter_ids(self) -> None:
        letters = dict(
            zip([o.id for o in self.options], letter_ids(len(self.options)), strict=True)
        )
        self.options = [Option(letters[o.id], o.text, o.feedback) for o in self.options]
        self.key = [letters[k] for k in self.key]

    def make(
        self,
        *,
        item_id_: str,
        category: str,
        skill: str,
        mapping: Mapping,
        source: str,
        origin: str,
        a: float = 1.0,
        b: float = 0.0,
        c: float | None = None,
        status: str | None = None,
        enemies: tuple[str, ...] = (),
    ) -> BankItem:
        """The bank item, with the parameters of an uncalibrated import (a=1, b=0, c=1/n)
        unless given; ``Skip`` if it has no text, no options or no key."""
        if not self.stem:
            raise Skip("the question has no text")
        if len(self.options) < 2:
            raise Skip(f"it has {len(self.options)} option(s); a question needs at least two")
        if len(self.options) > 6:
            raise Skip(f"it has {len(self.options)} options; examgate shows at most six")
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise Skip("two options share an identifier")
        if not all(_QTI_IDENTIFIER.fullmatch(i) for i in ids) and set(self.key) <= set(ids):
            self._letter_ids()  # a QTI identifier starts with a letter: "7011" cannot be one
            ids = [o.id for o in self.options]
        if not self.key:
            raise Skip("no option is marked correct")
        if not set(self.key) <= set(ids):
            raise Skip("the correct response names an option the question does not have")
        if not self.multiple and len(self.key) != 1:
            raise Skip("a single-response question has more than one correct option")
        if any(not o.text for o in self.options):
            raise Skip("an option has no text")
        return BankItem(
            id=item_id_,
            category=category,
            skill=skill,
            stem=self.stem,
            options=tuple(self.options),
            key=tuple(sorted(set(self.key), key=ids.index)),
            a=a,
            b=b,
            c=_chance(len(self.options), self.multiple) if c is None else c,
            status=status or mapping.status,
            source=mapping.source or source,
            enemies=enemies,
            multiple_response=self.multiple,
            general_feedback=self.general_feedback,
            correct_feedback=self.correct_feedback,
            incorrect_feedback=self.incorrect_feedback,
            images=tuple(self.images),
            origin=origin,
        )
