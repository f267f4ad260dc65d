"""Moodle XML: multiple-choice (one or several right answers), OU multiple-response and
true/false questions; the category and skill from the category path; pictures from the files
the question carries.

A ``<question type="category">`` sets the path (``$course$/top/CNN/Pooling layers``) for the
questions after it: a part naming an examgate category maps the category, the last part is the
skill. For a one-answer question the key is the answer worth 100%; an answer worth part of the
marks is a wrong answer here (examgate scores right or wrong), which the report says. For a
several-answer question the key is every answer worth more than nothing. Text is read in its
own format (HTML decoded once; plain and Markdown text kept as written).
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from xml.etree.ElementTree import Element

from server.bank.formats.common import (
    Draft,
    ImportError_,
    ImportResult,
    Mapping,
    Outcome,
    Skip,
    item_id,
    letter_ids,
    parse_xml,
)
from server.bank.formats.content import Pictures, from_html, tidy
from server.bank.model import Option

_PLUGINFILE = "@@PLUGINFILE@@/"
_KINDS = {"multichoice": None, "oumultiresponse": True, "truefalse": False}


def _files(block: Element | None) -> dict[str, bytes]:
    """The files a text block carries (``<file name="..." encoding="base64">``)."""
    found: dict[str, bytes] = {}
    if block is None:
        return found
    for file in block.findall("file"):
        try:
            found[file.get("name", "")] = base64.b64decode(file.text or "", validate=False)
        except (binascii.Error, ValueError):
            continue
    return found


def _text(block: Element | None, pictures: Pictures) -> str:
    """A text block in its own format."""
    if block is None:
        return ""
    inner = block.find("text")
    raw = (inner.text if inner is not None else block.text) or ""
    if block.get("format", "html") in ("html", "moodle_auto_format"):
        return from_html(raw, pictures)
    return tidy(raw)


class _Files:
    """The question's files, wherever in it they are carried, by name."""

    def __init__(self, question: Element) -> None:
        self.files: dict[str, bytes] = {}
        for block in question.iter():
            self.files.update(_files(block))

    def fetch(self, src: str) -> bytes | None:
        from urllib.parse import unquote

        name = unquote(src.removeprefix(_PLUGINFILE)).rsplit("/", 1)[-1]
        return self.files.get(name)


def read_moodle(path: Path, mapping: Mapping) -> ImportResult:
    root = parse_xml(path.read_bytes(), str(path))
    if root.tag != "quiz":
        raise ImportError_(f"{path}: not a Moodle XML quiz (root is <{root.tag}>).")
    outcomes: list[Outcome] = []
    category_path: list[str] = []
    for number, question in enumerate(root.findall("question"), 1):
        kind = question.get("type", "")
        if kind == "category":
            category_path = _text(question.find("category"), Pictures(lambda _: None)).split("/")
            continue
        name = tidy((question.findtext("name/text") or "").strip())
        where = f"{path}: question {number}" + (f" '{name}'" if name else "")
        pictures = Pictures(_Files(question).fetch)
        try:
            if kind not in _KINDS:
                raise Skip(
                    f"its type is '{kind}'; examgate imports multichoice, oumultiresponse and "
                    "truefalse questions"
                )
            draft, notes = _draft(question, kind, pictures)
            category, skill = mapping.resolve(category_path)
            item = draft.make(
                item_id_=item_id("MDL", _identifier(question) or name, draft.stem),
                category=category,
                skill=skill,
                mapping=mapping,
                source=f"Moodle import: {path.name}",
                origin=where,
            )
        except Skip as why:
            outcomes.append(Outcome(where, None, [str(why)]))
            continue
        outcomes.append(Outcome(where, item, notes + pictures.notes))
    return ImportResult(outcomes)


def _identifier(question: Element) -> str:
    return (question.findtext("idnumber") or "").strip()


def _draft(question: Element, kind: str, pictures: Pictures) -> tuple[Draft, list[str]]:
    draft = Draft()
    notes: list[str] = []
    stem = _text(question.find("questiontext"), pictures)
    legacy = question.findtext("image_base64")
    if legacy:  # Moodle 1.x: one picture beside the question text
        name = (question.findtext("image") or "picture").rsplit("/", 1)[-1]
        fetch = pictures.fetch
        pictures.fetch = lambda src: base64.b64decode(legacy) if src == name else fetch(src)
        stem = f"{stem}\n{pictures.marker(name, '')}"
    draft.stem = stem
    single = kind == "truefalse" or (
        _KINDS[kind] is None and (question.findtext("single") or "true").strip().lower() != "false"
    )
    draft.multiple = not single
    answers = question.findall("answer")
    ids = letter_ids(len(answers))
    full: list[str] = []
    for option_id, answer in zip(ids, answers, strict=True):
        try:
            fraction = float(answer.get("fraction", "0"))
        except ValueError as error:
            raise Skip("an answer's fraction is not a number") from error
        text = _text(answer, pictures)
        if kind == "truefalse":
            text = {"true": "True", "false": "False"}.get(text.strip().lower(), text)
        draft.options.append(Option(option_id, text, _text(answer.find("feedback"), pictures)))
        if single and fraction >= 100:
            full.append(option_id)
        elif single and fraction > 0:
            notes.append(
                f"answer {option_id} earns {fraction:g}% in Moodle; examgate scores it as wrong"
            )
        elif not single and fraction > 0:
            draft.key.append(option_id)
    if single:
        if len(full) > 1:
            raise Skip(
                f"{len(full)} answers are each fully right; examgate needs one right answer in a "
                "one-answer question"
            )
        draft.key = full
    draft.general_feedback = _text(question.find("generalfeedback"), pictures)
    draft.correct_feedback = _text(question.find("correctfeedback"), pictures)
    draft.incorrect_feedback = _text(question.find("incorrectfeedback"), pictures)
    draft.images = pictures.images
    return draft, notes
