"""What the importers share: the category and skill mapping, safe XML, text cleanup, ids."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, ClassVar
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from server.bank.model import BankItem, Option
from shared.models import CATEGORIES


class ImportError_(Exception):
    """A file that cannot be imported; the message names the file (and line or item)."""


@dataclass(frozen=True)
class Mapping:
    """How source categories and skills become examgate's.

    A source category (Moodle or GIFT category path, QTI label) is matched, case-insensitively,
    against examgate's category ids and names, then ``categories`` (source name to id); items
    with none get ``category``. The skill is the last part of the source category path, else
    ``skill``.
    """

    category: str | None = None
    skill: str | None = None
    categories: dict[str, str] = field(default_factory=dict)
    status: str = "draft"
    source: str = ""

    def resolve(self, path: list[str], where: str) -> tuple[str, str]:
        """(category id, skill) for a source category path like ['top', 'CNN', 'Pooling']."""
        known = {name.lower(): cid for cid, name in CATEGORIES.items()}
        known.update({cid: cid for cid in CATEGORIES})
        known.update({name.lower(): cid for name, cid in self.categories.items()})
        parts = [part.strip() for part in path if part.strip() and part.strip() != "$course$"]
        category = next((known[p.lower()] for p in reversed(parts) if p.lower() in known), None)
        category = category or self.category
        if category is None:
            raise ImportError_(
                f"{where}: no examgate category for {'/'.join(parts) or 'this item'}; pass "
                "--category ID or --category-map 'SOURCE NAME=ID'."
            )
        skill = None
        if parts and parts[-1].lower() not in known:
            skill = parts[-1]
        skill = skill or self.skill
        if not skill:
            raise ImportError_(f"{where}: no skill for this item; pass --skill NAME.")
        return category, skill


@dataclass
class ImportResult:
    items: list[BankItem]
    warnings: list[str]


def parse_xml(data: bytes, where: str) -> Element:
    """Parse untrusted XML: DTDs, entities and external references are refused."""
    try:
        root: Element = SafeET.fromstring(data, forbid_dtd=True)
        return root
    except DefusedXmlException as error:
        raise ImportError_(
            f"{where}: refused: the XML declares a DTD or entities ({type(error).__name__}); "
            "item files never need them."
        ) from error
    except SafeET.ParseError as error:
        raise ImportError_(f"{where}: not well-formed XML ({error}).") from error


def local(tag: Any) -> str:
    """An element's name without its namespace."""
    return str(tag).rsplit("}", 1)[-1]


class _Text(HTMLParser):
    BREAKS: ClassVar[frozenset[str]] = frozenset(
        {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "pre"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")
        if tag == "img":
            self.parts.append("[image]")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain(text: str) -> str:
    """HTML or plain text as tidy plain text: tags gone, entities decoded, spaces folded."""
    parser = _Text()
    parser.feed(text)
    parser.close()
    lines = [
        re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n")
    ]
    return "\n".join(line for line in lines if line)


def element_text(element: Element, skip: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    """The text inside ``element``, leaving out child elements named in ``skip``."""
    parts = [element.text or ""]
    for child in element:
        if local(child.tag) not in skip:
            name = local(child.tag)
            block = name in _Text.BREAKS or name in ("qti-prompt", "prompt")
            parts.append(("\n" if block else "") + element_text(child, skip))
        parts.append(child.tail or "")
    return plain("".join(parts)) if element is not None else ""


def item_id(prefix: str, given: str | None, stem: str) -> str:
    """A stable id: the source's own identifier if usable, else a hash of the stem."""
    if given:
        cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", given).strip("-")[:40]
        if cleaned:
            return f"{prefix}-{cleaned}"
    return f"{prefix}-{hashlib.sha256(stem.encode()).hexdigest()[:10]}"


def make_item(
    *,
    item_id_: str,
    category: str,
    skill: str,
    stem: str,
    options: list[Option],
    key: list[str],
    mapping: Mapping,
    source: str,
    origin: str,
) -> BankItem:
    """A bank item with the initial parameters of an uncalibrated import (a=1, b=0, c=1/n)."""
    if not stem:
        raise ImportError_(f"{origin}: the question has no text.")
    if not key:
        raise ImportError_(f"{origin}: no option is marked correct.")
    return BankItem(
        id=item_id_,
        category=category,
        skill=skill,
        stem=stem,
        options=tuple(options),
        key=tuple(key),
        a=1.0,
        b=0.0,
        c=round(1 / len(options), 3) if options else 0.25,
        status=mapping.status,
        source=mapping.source or source,
        origin=origin,
    )
