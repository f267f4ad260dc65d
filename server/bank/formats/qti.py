"""QTI 2.1 and 3.0 choice items, alone or in an IMS content package (a zip with a manifest).

Both versions are read the same way by element name: ``choiceInteraction`` /
``qti-choice-interaction``, ``simpleChoice`` / ``qti-simple-choice``, the correct response of
the interaction's response declaration, and per-choice feedback from ``feedbackInline`` inside a
choice or ``modalFeedback`` whose identifier is the choice's. The item's ``label``, if it reads
``category/skill``, maps category and skill.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from xml.etree.ElementTree import Element

from server.bank.formats.common import (
    ImportError_,
    ImportResult,
    Mapping,
    element_text,
    item_id,
    local,
    make_item,
    parse_xml,
)
from server.bank.model import BankItem, Option

MAX_PACKAGE_BYTES = 50 * 1024 * 1024  # uncompressed: a zip bomb stops here

FEEDBACK = {"feedbackInline", "qti-feedback-inline", "feedbackBlock", "qti-feedback-block"}
CHOICE = {"simpleChoice", "qti-simple-choice"}
INTERACTION = {"choiceInteraction", "qti-choice-interaction"}
OTHER_INTERACTIONS = {
    "textEntryInteraction",
    "extendedTextInteraction",
    "orderInteraction",
    "matchInteraction",
    "associateInteraction",
    "gapMatchInteraction",
    "inlineChoiceInteraction",
    "hotspotInteraction",
}


def _find(root: Element, names: set[str]) -> list[Element]:
    return [element for element in root.iter() if local(element.tag) in names]


def _attr(element: Element, *names: str) -> str | None:
    for name in names:
        if name in element.attrib:
            return element.attrib[name]
    return None


def parse_item(data: bytes, where: str, mapping: Mapping) -> BankItem:
    root = parse_xml(data, where)
    if local(root.tag) not in ("assessmentItem", "qti-assessment-item"):
        raise ImportError_(f"{where}: not a QTI assessment item (root is <{local(root.tag)}>).")
    identifier = _attr(root, "identifier")
    where = f"{where} ({identifier})" if identifier else where
    interactions = _find(root, INTERACTION)
    others = {local(e.tag) for e in root.iter()} & (
        OTHER_INTERACTIONS | {"qti-" + name for name in OTHER_INTERACTIONS}
    )
    if len(interactions) != 1 or others:
        raise ImportError_(
            f"{where}: only items with exactly one choice interaction can be imported."
        )
    interaction = interactions[0]
    response_id = _attr(interaction, "responseIdentifier", "response-identifier")
    declaration = next(
        (
            d
            for d in _find(root, {"responseDeclaration", "qti-response-declaration"})
            if d.attrib.get("identifier") == response_id
        ),
        None,
    )
    if declaration is None:
        raise ImportError_(f"{where}: the interaction's response declaration is missing.")
    key = [element_text(v) for v in _find(declaration, {"value", "qti-value"})]
    modal = {
        _attr(m, "identifier"): element_text(m)
        for m in _find(root, {"modalFeedback", "qti-modal-feedback"})
    }
    options = []
    for choice in _find(interaction, CHOICE):
        choice_id = _attr(choice, "identifier") or ""
        inline = [element_text(f) for f in choice if local(f.tag) in FEEDBACK]
        feedback = " ".join(inline) or modal.get(choice_id) or ""
        options.append(Option(choice_id, element_text(choice, FEEDBACK), feedback))
    max_choices = _attr(interaction, "maxChoices", "max-choices") or "1"
    if max_choices == "1" and len(key) != 1:
        raise ImportError_(f"{where}: a single-choice item must have exactly one correct value.")
    body = next((e for e in root.iter() if local(e.tag) in ("itemBody", "qti-item-body")), None)
    if body is None:
        raise ImportError_(f"{where}: the item has no body.")
    stem_parts = [element_text(body, INTERACTION | FEEDBACK)]
    stem_parts += [element_text(p) for p in _find(interaction, {"prompt", "qti-prompt"})]
    stem = "\n".join(part for part in stem_parts if part)
    label = _attr(root, "label") or ""
    category, skill = mapping.resolve(label.split("/") if label else [], where)
    return make_item(
        item_id_=item_id("QTI", identifier, stem),
        category=category,
        skill=skill,
        stem=stem,
        options=options,
        key=key,
        mapping=mapping,
        source=f"QTI import: {Path(where.split(' (')[0]).name}",
        origin=where,
    )


def read_qti(path: Path, mapping: Mapping) -> ImportResult:
    if path.suffix.lower() != ".zip":
        return ImportResult([parse_item(path.read_bytes(), str(path), mapping)], [])
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ImportError_(f"{path}: not a zip content package.") from error
    with archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_PACKAGE_BYTES:
            raise ImportError_(f"{path}: the package unpacks to more than 50 MiB; refused.")
        try:
            manifest = parse_xml(archive.read("imsmanifest.xml"), f"{path}:imsmanifest.xml")
        except KeyError as error:
            raise ImportError_(f"{path}: the package has no imsmanifest.xml.") from error
        items: list[BankItem] = []
        warnings: list[str] = []
        for resource in manifest.iter():
            if local(resource.tag) != "resource":
                continue
            kind, href = resource.attrib.get("type", ""), resource.attrib.get("href")
            if not kind.startswith("imsqti_item") or not href:
                continue
            name = str(PurePosixPath(href))
            try:
                data = archive.read(name)
            except KeyError as error:
                raise ImportError_(
                    f"{path}: the manifest names {name}, which is missing."
                ) from error
            items.append(parse_item(data, f"{path}:{name}", mapping))
        if not items:
            raise ImportError_(f"{path}: the manifest lists no QTI items.")
        return ImportResult(items, warnings)
