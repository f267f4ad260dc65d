"""QTI 1.2: what Canvas and Blackboard export. Multiple-choice, multiple-answer and true/false
questions are imported; every other kind is skipped with its name.

The kind comes from the item's metadata (Canvas ``question_type``, Blackboard
``bbmd_questiontype``), else from its one ``response_lid``. The key is every option a response
condition that awards a positive score requires (under ``<and>``, less those under ``<not>``);
feedback is linked by ``displayfeedback`` (an option's own, ``general_fb``, ``correct_fb``,
``general_incorrect_fb``) or, as Blackboard writes it, by an ``itemfeedback`` named for an option.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from xml.etree.ElementTree import Element

from server.bank.formats.common import (
    Draft,
    ImportResult,
    Mapping,
    Outcome,
    Skip,
    item_id,
)
from server.bank.formats.content import Pictures, from_html, name_of, tidy
from server.bank.model import Option

_KINDS = {
    "multiple_choice_question": False,
    "multiple choice": False,
    "true_false_question": False,
    "true/false": False,
    "either/or": False,
    "multiple_answers_question": True,
    "multiple answer": True,
}
_FILEBASE = ("$IMS-CC-FILEBASE$", "%24IMS-CC-FILEBASE%24", "$IMS_CC_FILEBASE$")


def _all(element: Element, name: str) -> list[Element]:
    return [e for e in element.iter() if name_of(e) == name]


def read(
    root: Element, where: str, mapping: Mapping, fetch: Callable[[str], bytes | None]
) -> ImportResult:
    outcomes = []
    for number, element in enumerate(_all(root, "item"), 1):
        ident = element.get("ident") or ""
        title = element.get("title") or ""
        here = f"{where} ({ident or title or f'item {number}'})"
        pictures = Pictures(_canvas_files(fetch))
        try:
            draft = _draft(element, pictures)
            category, skill = mapping.resolve(_category(element))
            item = draft.make(
                item_id_=item_id("QTI12", ident or title, draft.stem),
                category=category,
                skill=skill,
                mapping=mapping,
                source=f"QTI 1.2 import: {where.rsplit('/', 1)[-1]}",
                origin=here,
            )
        except Skip as why:
            outcomes.append(Outcome(here, None, [str(why)]))
            continue
        outcomes.append(Outcome(here, item, pictures.notes))
    if not outcomes:
        outcomes.append(Outcome(where, None, ["the file holds no items"]))
    return ImportResult(outcomes)


def _canvas_files(fetch: Callable[[str], bytes | None]) -> Callable[[str], bytes | None]:
    """Canvas names its files ``$IMS-CC-FILEBASE$/path``: the package's web_resources."""

    def canvas(src: str) -> bytes | None:
        path = urllib.parse.unquote(src)
        for token in _FILEBASE:
            if path.startswith(token):
                rest = path[len(token) :].lstrip("/")
                return fetch(f"/web_resources/{rest}") or fetch(f"/{rest}")
        return fetch(path)

    return canvas


def _metadata(element: Element) -> dict[str, str]:
    found = {}
    for field in _all(element, "qtimetadatafield"):
        label = next((e.text for e in field if name_of(e) == "fieldlabel"), None)
        entry = next((e.text for e in field if name_of(e) == "fieldentry"), None)
        if label:
            found[label.strip()] = (entry or "").strip()
    for bb in _all(element, "itemmetadata"):
        for child in bb:
            if name_of(child).startswith("bbmd_") and child.text:
                found[name_of(child)] = child.text.strip()
    return found


def _category(element: Element) -> list[str]:
    return []  # QTI 1.2 exports name no category: --category and --skill say it


def _draft(element: Element, pictures: Pictures) -> Draft:
    meta = _metadata(element)
    kind = (meta.get("question_type") or meta.get("bbmd_questiontype") or "").strip()
    responses = _all(element, "response_lid")
    if kind and kind.lower() not in _KINDS:
        raise Skip(
            f"its kind is '{kind}'; examgate imports multiple-choice, multiple-answer and "
            "true/false questions"
        )
    if len(responses) != 1 or not _all(responses[0], "render_choice"):
        raise Skip(f"it has {len(responses)} choice responses; examgate imports questions with one")
    response = responses[0]
    multiple = (
        _KINDS[kind.lower()] if kind else response.get("rcardinality", "Single") == "Multiple"
    )
    draft = Draft(multiple=multiple)
    presentation = next(iter(_all(element, "presentation")), element)
    inside = set(response.iter())
    draft.stem = "\n".join(
        text
        for material in _all(presentation, "material")
        if material not in inside and (text := _material(material, pictures))
    )
    for label in _all(response, "response_label"):
        text = "\n".join(t for m in _all(label, "material") if (t := _material(m, pictures)))
        draft.options.append(Option(label.get("ident", ""), text))
    _key_and_feedback(element, draft, pictures)
    draft.images = pictures.images
    return draft


def _material(material: Element, pictures: Pictures) -> str:
    parts = []
    for part in material.iter():
        name = name_of(part)
        text = part.text or ""
        if name == "mattext":
            html = "html" in (part.get("texttype") or "")
            parts.append(from_html(text, pictures) if html else tidy(text))
        elif name == "mat_formattedtext":
            parts.append(from_html(text, pictures))
        elif name == "matimage" and part.get("uri"):
            parts.append(pictures.marker(part.get("uri", ""), part.get("label", "")))
    return "\n".join(p for p in parts if p)


def _score(condition: Element) -> float:
    """The score a response condition awards (``SCORE.max`` is the most there is)."""
    total = 0.0
    for setvar in _all(condition, "setvar"):
        value = (setvar.text or "").strip()
        try:
            number = 1.0 if value.endswith(".max") else float(value)
        except ValueError:
            continue
        total = number if setvar.get("action", "Set") == "Set" else total + number
    return total


def _required(conditionvar: Element) -> tuple[list[str], bool]:
    """The options a condition requires, and whether it accepts any one of several (``or``)."""
    required: list[str] = []
    either = False

    def walk(element: Element, negated: bool) -> None:
        nonlocal either
        for child in element:
            name = name_of(child)
            if name == "not":
                walk(child, not negated)
            elif name == "or":
                either = either or len(_all(child, "varequal")) > 1
                walk(child, negated)
            elif name == "and":
                walk(child, negated)
            elif name == "varequal" and not negated:
                required.append((child.text or "").strip())

    walk(conditionvar, False)
    return required, either


def _key_and_feedback(element: Element, draft: Draft, pictures: Pictures) -> None:
    texts = {
        f.get("ident", ""): "\n".join(
            t for m in _all(f, "material") if (t := _material(m, pictures))
        )
        for f in _all(element, "itemfeedback")
    }
    option_ids = [option.id for option in draft.options]
    feedback = {option_id: texts.get(option_id, "") for option_id in option_ids}
    key: list[str] = []
    for condition in _all(element, "respcondition"):
        conditionvar = next(iter(_all(condition, "conditionvar")), None)
        if conditionvar is None:
            continue
        required, either = _required(conditionvar)
        score = _score(condition)
        links = [d.get("linkrefid", "") for d in _all(condition, "displayfeedback")]
        if score > 0 and required:
            if either and not draft.multiple:
                raise Skip(
                    "it accepts any one of several options as right; make one option the key"
                )
            key += [r for r in required if r not in key]
        for link in links:
            text = texts.get(link, "")
            if not text:
                continue
            if link in ("general_fb",):
                draft.general_feedback = text
            elif link in ("correct_fb", "correct") or (score > 0 and not required):
                draft.correct_feedback = text
            elif link in ("general_incorrect_fb", "incorrect"):
                draft.incorrect_feedback = text
            elif score <= 0 and len(required) == 1 and required[0] in feedback:
                feedback[required[0]] = feedback[required[0]] or text
    draft.key = key
    draft.options = [Option(o.id, o.text, feedback[o.id]) for o in draft.options]
