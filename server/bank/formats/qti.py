"""QTI 2.1, 2.2 and 3.0 items, alone or in a content package (a zip, or a folder holding
``imsmanifest.xml``); a package's QTI 1.2 files (a Canvas export) go to ``qti12``.

Both versions are read by one set of element names (``content.name_of``). An item is imported
when it has exactly one choice interaction and a correct response: the key comes from that
correct response alone, never from a default value or a score mapping. Per-option feedback is
taken from ``feedbackInline`` inside a choice, or a ``modalFeedback`` / ``feedbackBlock`` whose
identifier is the choice's; feedback named ``correct`` or ``incorrect`` becomes the item's
feedback for a right or a wrong answer; any other is its general feedback. The item's ``label``,
if it reads ``category/skill``, maps category and skill.

A package exported by examgate carries ``examgate-bank.json`` (ids, status, parameters,
enemies): its items come back exactly as they left.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree.ElementTree import Element

from server.bank.formats import qti12
from server.bank.formats.archive import Package, PackageError
from server.bank.formats.common import (
    Draft,
    ImportError_,
    ImportResult,
    Mapping,
    Outcome,
    Skip,
    item_id,
    own_id,
    parse_xml,
)
from server.bank.formats.content import Pictures, Text, name_of
from server.bank.model import STATUSES, Option

EXTENSION = "examgate-bank.json"
EXTENSION_FORMAT = "examgate-bank/1"
_FEEDBACK = frozenset({"feedbackInline", "feedbackBlock", "modalFeedback"})
_NOT_STEM = _FEEDBACK | {"rubricBlock", "templateBlock", "templateInline", "stylesheet"}
_CORRECT = frozenset({"correct", "right", "fbcorrect", "feedback_correct", "correct_fb"})
_INCORRECT = frozenset(
    {"incorrect", "wrong", "fbincorrect", "feedback_incorrect", "incorrect_fb", "partial"}
)


def attr(element: Element, name: str) -> str | None:
    """An attribute by its QTI 2 name (``responseIdentifier``) or its QTI 3 one
    (``response-identifier``)."""
    if name in element.attrib:
        return element.attrib[name]
    kebab = "".join(f"-{c.lower()}" if c.isupper() else c for c in name)
    return element.attrib.get(kebab)


def children(element: Element, name: str) -> list[Element]:
    return [child for child in element if name_of(child) == name]


def descendants(element: Element, name: str) -> list[Element]:
    return [child for child in element.iter() if name_of(child) == name]


def read_qti(path: Path, mapping: Mapping) -> ImportResult:
    """Every item in ``path``: one item file, or a package (zip or folder)."""
    if path.is_dir() or path.suffix.lower() == ".zip" or path.name == "imsmanifest.xml":
        return read_package(path.parent if path.name == "imsmanifest.xml" else path, mapping)
    root = parse_xml(path.read_bytes(), str(path))
    if name_of(root) == "questestinterop":
        return qti12.read(root, str(path), mapping, _folder_fetch(path.parent))
    return ImportResult([parse_item(root, str(path), mapping, _folder_fetch(path.parent))])


def _folder_fetch(folder: Path) -> Callable[[str], bytes | None]:
    """Pictures beside an item file on disk, never outside its folder."""

    def fetch(src: str) -> bytes | None:
        try:
            with Package(folder) as package:
                return package.read(src)
        except (KeyError, PackageError, OSError):
            return None

    return fetch


def read_package(path: Path, mapping: Mapping) -> ImportResult:
    try:
        with Package(path) as package:
            return _read_package(package, str(path), mapping)
    except PackageError as error:
        raise ImportError_(f"{path}: {error}.") from error


def _read_package(package: Package, where: str, mapping: Mapping) -> ImportResult:
    try:
        manifest = parse_xml(package.read("imsmanifest.xml"), f"{where}:imsmanifest.xml")
    except KeyError as error:
        raise ImportError_(f"{where}: the package has no imsmanifest.xml.") from error
    extension = _extension(package, where)
    outcomes: list[Outcome] = []
    files: list[str] = []
    tests: list[str] = []
    for resource in descendants(manifest, "resource"):
        kind = resource.get("type", "")
        href = _href(manifest, resource)
        if href and kind.startswith(("imsqti_item_xmlv2", "imsqti_item_xmlv3", "imsqti_xmlv1p")):
            files.append(href)
        elif href and kind.startswith(("imsqti_test_xmlv2", "imsqti_test_xmlv3")):
            tests.append(href)
    for test in tests:  # items a test names but the manifest does not list
        files += [f for f in _test_items(package, test, where) if f not in files]
    if not files:
        raise ImportError_(f"{where}: the manifest lists no QTI items.")
    for href in files:
        outcomes += _package_file(package, href, where, mapping, extension)
    return ImportResult(outcomes)


def _package_file(
    package: Package, href: str, where: str, mapping: Mapping, extension: dict[str, Any]
) -> list[Outcome]:
    here = f"{where}:{href}"
    try:
        root = parse_xml(package.read(href), here)
    except KeyError:
        return [Outcome(here, None, [f"the manifest names {href}, which is missing"])]
    except ImportError_ as error:
        return [Outcome(here, None, [_reason(error, here)])]
    fetch = _package_fetch(package, href)
    if name_of(root) == "questestinterop":
        return qti12.read(root, here, mapping, fetch).outcomes
    return [parse_item(root, here, mapping, fetch, extension)]


def _test_items(package: Package, test: str, where: str) -> list[str]:
    """The item files an assessment test refers to, as paths in the package."""
    try:
        root = parse_xml(package.read(test), f"{where}:{test}")
    except (KeyError, ImportError_):
        return []
    folder = str(PurePosixPath(test).parent)
    found = []
    for ref in descendants(root, "assessmentItemRef"):
        href = attr(ref, "href")
        inside = Package.normal(f"{folder}/{href}" if href and folder != "." else href or "")
        if inside:
            found.append(inside)
    return found


def _reason(error: Exception, where: str) -> str:
    text = str(error)
    return text[len(where) + 2 :] if text.startswith(f"{where}: ") else text


def _href(manifest: Element, resource: Element) -> str:
    """The resource's file within the package, ``xml:base`` of its parents applied."""
    href = resource.get("href") or next((f.get("href", "") for f in children(resource, "file")), "")
    base = resource.get("{http://www.w3.org/XML/1998/namespace}base", "")
    for parent in descendants(manifest, "resources"):
        if resource in list(parent):
            base = parent.get("{http://www.w3.org/XML/1998/namespace}base", "") + base
    return base + href if href else ""


def _package_fetch(package: Package, href: str) -> Callable[[str], bytes | None]:
    """Pictures in the package, by a path relative to the item file that names them."""
    folder = str(PurePosixPath(href).parent)

    def fetch(src: str) -> bytes | None:
        for candidate in (f"{folder}/{src}", src):
            try:
                return package.read(candidate)
            except (KeyError, PackageError):
                continue
        return None

    return fetch


def _extension(package: Package, where: str) -> dict[str, Any]:
    """What examgate's own export says of its items (empty for any other package)."""
    try:
        found = json.loads(package.read(EXTENSION))
    except (KeyError, ValueError, PackageError):
        return {}
    if not isinstance(found, dict) or found.get("format") != EXTENSION_FORMAT:
        return {}
    items = found.get("items")
    return items if isinstance(items, dict) else {}


def parse_item(
    root: Element,
    where: str,
    mapping: Mapping,
    fetch: Callable[[str], bytes | None],
    extension: dict[str, Any] | None = None,
) -> Outcome:
    if name_of(root) != "assessmentItem":
        found = name_of(root)
        hint = (
            "; it is a Blackboard pool in the old format: export it from Blackboard as QTI"
            if found == "POOL"
            else ""
        )
        return Outcome(where, None, [f"it is not a QTI assessment item (<{found}>){hint}"])
    identifier = attr(root, "identifier") or ""
    where = f"{where} ({identifier})" if identifier else where
    pictures = Pictures(fetch)
    try:
        draft = _draft(root, pictures)
        saved = (extension or {}).get(identifier)
        if isinstance(saved, dict):
            item = _as_exported(draft, identifier, saved, mapping, where)
            return Outcome(where, item, pictures.notes, exact=True)
        else:
            label = attr(root, "label") or ""
            category, skill = mapping.resolve(label.split("/") if label else [])
            item = draft.make(
                item_id_=item_id("QTI", identifier, draft.stem),
                category=category,
                skill=skill,
                mapping=mapping,
                source=f"QTI import: {Path(where.split(':', 1)[0]).name}",
                origin=where,
            )
    except Skip as why:
        return Outcome(where, None, [str(why)])
    return Outcome(where, item, pictures.notes)


def _as_exported(
    draft: Draft, identifier: str, saved: dict[str, Any], mapping: Mapping, where: str
) -> Any:
    """An item examgate exported, with the id, status and parameters it left with."""
    try:
        status = str(saved["status"])
        if status not in STATUSES:
            raise ValueError(status)
        own = own_id(identifier)
        if own is None:
            raise ValueError(identifier)
        return draft.make(
            item_id_=own,
            category=str(saved["category"]),
            skill=str(saved["skill"]),
            mapping=Mapping(),
            source=str(saved["source"]),
            origin=where,
            a=float(saved["a"]),
            b=float(saved["b"]),
            c=float(saved["c"]),
            status=status,
            enemies=tuple(str(e) for e in saved.get("enemies", [])),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise Skip(f"its entry in {EXTENSION} is not readable ({error})") from error


def _draft(root: Element, pictures: Pictures) -> Draft:
    if descendants(root, "templateDeclaration"):
        raise Skip(
            "it is generated from a template (templateDeclaration); examgate needs fixed items"
        )
    interactions = [e for e in root.iter() if name_of(e).endswith("Interaction")]
    kinds = [name_of(e) for e in interactions]
    if kinds != ["choiceInteraction"]:
        counted = {kind: kinds.count(kind) for kind in kinds}
        described = ", ".join(
            f"{count} {kind}s" if count > 1 else kind for kind, count in counted.items()
        )
        raise Skip(
            f"it has {described or 'no interaction'}; examgate imports questions with exactly "
            "one choice interaction"
        )
    interaction = interactions[0]
    response_id = attr(interaction, "responseIdentifier")
    declaration = next(
        (
            d
            for d in descendants(root, "responseDeclaration")
            if attr(d, "identifier") == response_id
        ),
        None,
    )
    if declaration is None:
        raise Skip("the interaction's response declaration is missing")
    correct = children(declaration, "correctResponse")
    if not correct:
        raise Skip(
            "it declares no correct response (it is scored by a mapping or by hand); "
            "examgate needs the right option(s) named"
        )
    draft = Draft()
    draft.key = [(v.text or "").strip() for v in children(correct[0], "value")]
    draft.multiple = attr(declaration, "cardinality") == "multiple"
    body = next(iter(descendants(root, "itemBody")), None)
    if body is None:
        raise Skip("the item has no body")
    # Pictures are numbered in reading order: the stem's, the options', the feedback's.
    draft.stem = Text(
        pictures, skip=_NOT_STEM, prompt_only=frozenset({"choiceInteraction"})
    ).render(body, with_self=False)
    _options(draft, interaction, pictures)
    _feedback(draft, root, pictures)
    draft.images = pictures.images
    return draft


def _options(draft: Draft, interaction: Element, pictures: Pictures) -> None:
    for choice in descendants(interaction, "simpleChoice"):
        identifier = attr(choice, "identifier") or ""
        text = Text(pictures, skip=_FEEDBACK).render(choice, with_self=False)
        inline = [
            Text(pictures).render(f, with_self=False)
            for f in choice
            if name_of(f) in ("feedbackInline", "feedbackBlock")
        ]
        draft.options.append(Option(identifier, text, " ".join(t for t in inline if t)))


def _feedback(draft: Draft, root: Element, pictures: Pictures) -> None:
    """Modal feedback and feedback blocks outside the choices: per option, right, wrong, any."""
    by_option = {option.id: n for n, option in enumerate(draft.options)}
    general: list[str] = []
    blocks = descendants(root, "modalFeedback") + [
        f
        for f in descendants(root, "feedbackBlock")
        if not any(f in list(c.iter()) for c in descendants(root, "simpleChoice"))
    ]
    for block in blocks:
        text = Text(pictures).render(block, with_self=False)
        identifier = attr(block, "identifier") or ""
        if not text:
            continue
        if identifier in by_option and not draft.options[by_option[identifier]].feedback:
            number = by_option[identifier]
            option = draft.options[number]
            draft.options[number] = Option(option.id, option.text, text)
        elif identifier.lower() in _CORRECT and not draft.correct_feedback:
            draft.correct_feedback = text
        elif identifier.lower() in _INCORRECT and not draft.incorrect_feedback:
            draft.incorrect_feedback = text
        else:
            general.append(text)
    draft.general_feedback = "\n".join(general)
