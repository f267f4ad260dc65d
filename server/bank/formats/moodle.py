"""Moodle XML: multichoice questions, with categories and skills from the category path.

A ``<question type="category">`` sets the path (``$course$/top/CNN/Pooling layers``) for the
questions after it: a part naming an examgate category maps the category, the last part is the
skill. Other question types are skipped with a warning.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

from server.bank.formats.common import (
    ImportError_,
    ImportResult,
    Mapping,
    item_id,
    make_item,
    parse_xml,
    plain,
)
from server.bank.model import BankItem, Option


def _text(element: Element | None) -> str:
    if element is None:
        return ""
    inner = element.find("text")
    return plain((inner.text if inner is not None else element.text) or "")


def read_moodle(path: Path, mapping: Mapping) -> ImportResult:
    root = parse_xml(path.read_bytes(), str(path))
    if root.tag != "quiz":
        raise ImportError_(f"{path}: not a Moodle XML quiz (root is <{root.tag}>).")
    items: list[BankItem] = []
    warnings: list[str] = []
    category_path: list[str] = []
    for number, question in enumerate(root.findall("question"), 1):
        kind = question.get("type", "")
        name = _text(question.find("name"))
        where = f"{path}: question {number}" + (f" '{name}'" if name else "")
        if kind == "category":
            category_path = _text(question.find("category")).split("/")
            continue
        if kind != "multichoice":
            warnings.append(f"{where}: a '{kind}' question; only multichoice is imported, skipped.")
            continue
        options, key = [], []
        for index, answer in enumerate(question.findall("answer")):
            option_id = "abcdefghij"[index] if index < 10 else f"o{index}"
            try:
                fraction = float(answer.get("fraction", "0"))
            except ValueError as error:
                raise ImportError_(f"{where}: an answer's fraction is not a number.") from error
            options.append(Option(option_id, _text(answer), _text(answer.find("feedback"))))
            if fraction > 0:
                key.append(option_id)
        single = _text(question.find("single")).lower() != "false"
        if single and len(key) != 1:
            raise ImportError_(f"{where}: a single-answer question needs exactly one right answer.")
        category, skill = mapping.resolve(category_path, where)
        stem = _text(question.find("questiontext"))
        items.append(
            make_item(
                item_id_=item_id("MDL", _text(question.find("idnumber")) or name, stem),
                category=category,
                skill=skill,
                stem=stem,
                options=options,
                key=key,
                mapping=mapping,
                source=f"Moodle import: {path.name}",
                origin=where,
            )
        )
    return ImportResult(items, warnings)
