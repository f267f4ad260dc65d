"""Writing items out: QTI 3.0 content packages and the bank's own TOML."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable
from xml.etree.ElementTree import Element, SubElement, tostring

from server.bank.model import BankItem

QTI3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
CP = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"


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
        {"identifier": "FEEDBACK", "cardinality": "single", "base-type": "identifier"},
    )
    body = SubElement(root, "qti-item-body")
    for paragraph in item.stem.split("\n"):
        SubElement(body, "p").text = paragraph
    interaction = SubElement(
        body,
        "qti-choice-interaction",
        {
            "response-identifier": "RESPONSE",
            "shuffle": "true",
            "max-choices": str(len(item.options)) if item.multiple else "1",
        },
    )
    for option in item.options:
        choice = SubElement(interaction, "qti-simple-choice", {"identifier": option.id})
        choice.text = option.text
        feedback = SubElement(
            choice,
            "qti-feedback-inline",
            {"outcome-identifier": "FEEDBACK", "identifier": option.id, "show-hide": "show"},
        )
        feedback.text = option.feedback
    SubElement(
        root,
        "qti-response-processing",
        {"template": "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"},
    )
    document: bytes = tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + document


def qti3_package(items: Iterable[BankItem]) -> bytes:
    """A QTI 3.0 content package (zip): imsmanifest.xml and one file per item."""
    manifest = Element("manifest", {"xmlns": CP, "identifier": "examgate-export"})
    SubElement(manifest, "organizations")
    resources = SubElement(manifest, "resources")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in items:
            href = f"items/{item.id}.xml"
            resource = SubElement(
                resources,
                "resource",
                {"identifier": item.id, "type": "imsqti_item_xmlv3p0", "href": href},
            )
            SubElement(resource, "file", {"href": href})
            archive.writestr(href, qti3_item(item))
        archive.writestr(
            "imsmanifest.xml",
            b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(manifest, encoding="utf-8"),
        )
    return buffer.getvalue()


def _string(text: str) -> str:
    # A JSON string is a valid TOML basic string: the same escapes, UTF-8 kept as is.
    return json.dumps(text, ensure_ascii=False)


def to_toml(items: Iterable[BankItem], title: str) -> str:
    """Items in the bank's reviewable TOML format."""
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
        lines += [
            "",
        ]
        for option in item.options:
            lines += [
                "[[item.options]]",
                f"id = {_string(option.id)}",
                f"text = {_string(option.text)}",
                f"feedback = {_string(option.feedback)}",
                "",
            ]
    return "\n".join(lines)
