"""Writing items out: QTI 3.0 content packages and the bank's own TOML.

The package validates against 1EdTech's QTI 3.0 item and content-packaging schemas
(``tests/data/qti3``). What QTI has no place for (an item's category, skill, status, 3PL
parameters, source and enemies) travels in ``examgate-bank.json``, listed in the manifest as an
extension resource, so that importing the package gives back every item as it was.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from xml.etree.ElementTree import Element, SubElement, tostring

from server.bank.formats.qti import EXTENSION, EXTENSION_FORMAT
from server.bank.model import BankItem

QTI3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
CP = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
MATCH_CORRECT = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"
_MARKER = re.compile(r"\[Image (\d+)(?:: ([^\]]*))?\]")
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


def _media(item: BankItem, number: int) -> str:
    """Where picture ``number`` of ``item`` is kept, relative to the item file."""
    return f"media/{item.id}/{number}/{item.images[number - 1].name}"


def _text(parent: Element, text: str, item: BankItem, block: str | None = "p") -> None:
    """``text`` into ``parent``: a paragraph a line (``block``; inline, lines are broken with
    ``<br/>``), pictures where it marks them."""
    last: Element | None = None
    for number, line in enumerate(text.split("\n")):
        if block:
            holder, last = SubElement(parent, block), None
        else:
            holder = parent
            if number:
                last = SubElement(holder, "br")
        position = 0
        for found in _MARKER.finditer(line):
            number = int(found.group(1))
            if not 1 <= number <= len(item.images):
                continue
            _append(holder, last, line[position : found.start()])
            source = {"src": _media(item, number), "alt": found.group(2) or ""}
            last = SubElement(holder, "img", source)
            position = found.end()
        _append(holder, last, line[position:])


def _append(holder: Element, last: Element | None, text: str) -> None:
    if last is None:
        holder.text = (holder.text or "") + text
    else:
        last.tail = (last.tail or "") + text


def qti3_item(item: BankItem) -> bytes:
    root = Element(
        "qti-assessment-item",
        {
            "xmlns": QTI3,
            "identifier": item.id,
            "title": item.id,
            "label": f"{item.category}/{item.skill}",
            "adaptive": "false",
            "time-dependent": "false",
        },
    )
    declaration = SubElement(
        root,
        "qti-response-declaration",
        {
            "identifier": "RESPONSE",
            "cardinality": "multiple" if item.multiple else "single",
            "base-type": "identifier",
        },
    )
    correct = SubElement(declaration, "qti-correct-response")
    for key in item.key:
        SubElement(correct, "qti-value").text = key
    SubElement(
        root,
        "qti-outcome-declaration",
        {"identifier": "SCORE", "cardinality": "single", "base-type": "float"},
    )
    SubElement(
        root,
        "qti-outcome-declaration",
        {"identifier": "FEEDBACK", "cardinality": "multiple", "base-type": "identifier"},
    )
    body = SubElement(root, "qti-item-body")
    _text(body, item.stem, item)
    interaction = SubElement(
        body,
        "qti-choice-interaction",
        {
            "response-identifier": "RESPONSE",
            "shuffle": "true",
            "max-choices": "0" if item.multiple else "1",
        },
    )
    for option in item.options:
        choice = SubElement(interaction, "qti-simple-choice", {"identifier": option.id})
        _text(choice, option.text, item, block=None)
        if option.feedback:
            feedback = SubElement(
                choice,
                "qti-feedback-inline",
                {"outcome-identifier": "FEEDBACK", "identifier": option.id, "show-hide": "show"},
            )
            _text(feedback, option.feedback, item, block=None)
    SubElement(root, "qti-response-processing", {"template": MATCH_CORRECT})
    for name, text in (
        ("general", item.general_feedback),
        ("correct", item.correct_feedback),
        ("incorrect", item.incorrect_feedback),
    ):
        if text:
            modal = SubElement(
                root,
                "qti-modal-feedback",
                {"outcome-identifier": "FEEDBACK", "identifier": name, "show-hide": "show"},
            )
            _text(SubElement(modal, "qti-content-body"), text, item)
    written: bytes = tostring(root, encoding="utf-8", xml_declaration=False)
    return _DECLARATION + written


def _extension(items: list[BankItem]) -> bytes:
    entries = {
        item.id: {
            "category": item.category,
            "skill": item.skill,
            "status": item.status,
            "a": item.a,
            "b": item.b,
            "c": item.c,
            "source": item.source,
            "enemies": list(item.enemies),
        }
        for item in items
    }
    document = {"format": EXTENSION_FORMAT, "items": entries}
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def qti3_package(items: Iterable[BankItem]) -> bytes:
    """A QTI 3.0 content package (zip): the manifest, one file per item with its pictures,
    and ``examgate-bank.json``. The same items always give the same bytes."""
    items = sorted(items, key=lambda item: item.id)
    manifest = Element("manifest", {"xmlns": CP, "identifier": "examgate-export"})
    metadata = SubElement(manifest, "metadata")
    SubElement(metadata, "schema").text = "QTI Package"
    SubElement(metadata, "schemaversion").text = "3.0.0"
    SubElement(manifest, "organizations")
    resources = SubElement(manifest, "resources")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in items:
            href = f"items/{item.id}.xml"
            resource = SubElement(
                resources,
                "resource",
                {"identifier": f"R-{item.id}", "type": "imsqti_item_xmlv3p0", "href": href},
            )
            SubElement(resource, "file", {"href": href})
            _write(archive, href, qti3_item(item))
            for number, image in enumerate(item.images, 1):
                path = f"items/{_media(item, number)}"
                SubElement(resource, "file", {"href": path})
                _write(archive, path, image.data)
        extension = SubElement(
            resources,
            "resource",
            {"identifier": "examgate-bank", "type": "extension", "href": EXTENSION},
        )
        SubElement(extension, "file", {"href": EXTENSION})
        _write(archive, EXTENSION, _extension(items))
        _write(archive, "imsmanifest.xml", _DECLARATION + tostring(manifest, encoding="utf-8"))
    return buffer.getvalue()


def _write(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    """A member with a fixed time stamp, so an export is the same bytes every time."""
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _string(text: str) -> str:
    # A JSON string is a valid TOML basic string: the same escapes, UTF-8 kept as is.
    return json.dumps(text, ensure_ascii=False)


def to_toml(items: Iterable[BankItem], title: str) -> str:
    """Items in the bank's reviewable TOML format."""
    import base64

    lines = [f"# {title}", ""]
    for item in items:
        lines += [
            "[[item]]",
            f"id = {_string(item.id)}",
            f"category = {_string(item.category)}",
            f"skill = {_string(item.skill)}",
            f"stem = {_string(item.stem)}",
            f"key = [{', '.join(_string(k) for k in item.key)}]",
            f"a = {item.a}",
            f"b = {item.b}",
            f"c = {item.c}",
            f"status = {_string(item.status)}",
            f"source = {_string(item.source)}",
        ]
        if item.enemies:
            lines.append(f"enemies = [{', '.join(_string(e) for e in item.enemies)}]")
        if item.multiple_response:
            lines.append("multiple = true")
        for name, text in (
            ("general_feedback", item.general_feedback),
            ("correct_feedback", item.correct_feedback),
            ("incorrect_feedback", item.incorrect_feedback),
        ):
            if text:
                lines.append(f"{name} = {_string(text)}")
        lines.append("")
        for option in item.options:
            lines += ["[[item.options]]", f"id = {_string(option.id)}"]
            lines.append(f"text = {_string(option.text)}")
            if option.feedback:
                lines.append(f"feedback = {_string(option.feedback)}")
            lines.append("")
        for image in item.images:
            lines += [
                "[[item.images]]",
                f"name = {_string(image.name)}",
                f"type = {_string(image.media_type)}",
                f"alt = {_string(image.alt)}",
                f"data = {_string(base64.b64encode(image.data).decode())}",
                "",
            ]
    return "\n".join(lines)
