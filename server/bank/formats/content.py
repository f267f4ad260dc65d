"""Item text from markup: QTI's XHTML (an element tree) and the HTML inside Moodle, GIFT and
QTI 1.2 (a string, parsed once into the same kind of tree), as the plain text the client shows.

Text is decoded exactly once: a parsed tree's text is literal (``&lt;b&gt;`` in the source is
the four characters ``<b>``), never read as markup again. Paragraphs, list entries and table
rows become lines; a picture becomes ``[Image N: alt]`` where it stood, numbered across the
whole item, its file collected to be carried in the package; MathML becomes readable text
(``server.bank.formats.mathml``); media that cannot be shown (audio, video, an embedded page)
leaves ``[media not shown: NAME]`` and a note for the importer's report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from xml.etree.ElementTree import Element, SubElement

from server.bank.formats.mathml import linear
from server.bank.formats.media import NotAPicture, data_uri, picture
from server.bank.model import Image

BLOCKS = frozenset(
    {
        "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
        "table", "ul", "ol", "dl", "dt", "dd", "hr", "figure", "figcaption", "section",
        "prompt", "caption",
    }
)  # fmt: skip
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr", "param"}
)  # fmt: skip
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


def name_of(element: Element) -> str:
    """An element's name, namespace dropped and QTI 3's kebab-case made QTI 2's camelCase
    (``qti-choice-interaction`` is ``choiceInteraction``), so one name serves both versions."""
    local = str(element.tag).rsplit("}", 1)[-1].rsplit(":", 1)[-1]
    if local.startswith("qti-"):
        head, *rest = local[4:].split("-")
        return head + "".join(part.capitalize() for part in rest)
    return local


@dataclass
class Pictures:
    """An item's pictures, in the order its text first shows them; a file is fetched by
    ``fetch(src)`` (the package, a data URI, the Moodle file list), never from the network."""

    fetch: Callable[[str], bytes | None]
    images: list[Image] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _numbers: dict[str, int] = field(default_factory=dict)

    def marker(self, src: str, alt: str) -> str:
        """Where the picture ``src`` stands in the text."""
        alt = " ".join(alt.split())
        if src in self._numbers:
            number = self._numbers[src]
        else:
            found = self._load(src, alt)
            if found is None:
                return f"[picture not available{': ' + alt if alt else ''}]"
            self.images.append(found)
            number = self._numbers[src] = len(self.images)
        return f"[Image {number}{': ' + alt if alt else ''}]"

    def _load(self, src: str, alt: str) -> Image | None:
        name = src.rsplit("/", 1)[-1][:120] or "picture"
        inline = data_uri(src)
        if inline is not None:
            data: bytes | None = inline[1]
            name = "inline" + {"image/png": ".png", "image/jpeg": ".jpg"}.get(inline[0], "")
        elif src.startswith(("http://", "https://", "//", "file:")):
            self.notes.append(f"the picture {src} is on the web and is not fetched")
            return None
        else:
            data = self.fetch(src)
        if data is None:
            self.notes.append(f"the picture {src} is not in the file or package")
            return None
        try:
            image = picture(name, data, alt)
        except NotAPicture as why:
            self.notes.append(str(why))
            return None
        return image  # one without alt text is reported by the profile check


@dataclass
class Text:
    """Builds plain text from an element tree (see the module docstring)."""

    pictures: Pictures
    skip: frozenset[str] = frozenset()
    # Elements of which only the prompt is text (an interaction inside an item's body).
    prompt_only: frozenset[str] = frozenset()
    _parts: list[str] = field(default_factory=list)
    _pre: int = 0  # inside <pre>: line breaks in the text are kept

    def _flow(self, text: str | None) -> str:
        """Markup text: its own line breaks are only spaces (blocks make the lines)."""
        if not text:
            return ""
        return text if self._pre else _SPACES.sub(" ", text)

    def render(self, element: Element, with_self: bool = True) -> str:
        self._parts = []
        if with_self:
            self._element(element, 0)
        else:
            self._inside(element, 0)
        return tidy("".join(self._parts))

    def _element(self, element: Element, depth: int) -> None:
        name = name_of(element)
        if name in self.skip or name in ("style", "script", "head", "title", "stylesheet"):
            self._parts.append(self._flow(element.tail))
            return
        if name in self.prompt_only:
            self._parts.append("\n")
            for child in element:
                if name_of(child) == "prompt":
                    self._element(child, depth + 1)
            self._parts.append("\n")
        elif name == "math":
            self._parts.append(" " + linear(element) + " ")
        elif name == "img":
            self._parts.append(self.pictures.marker(element.get("src", ""), element.get("alt", "")))
        elif name == "object":
            self._object(element, depth)
        elif name in ("audio", "video", "iframe", "embed", "applet"):
            shown = element.get("src") or element.get("data") or name
            self.pictures.notes.append(f"the {name} {shown} cannot be shown and was left out")
            self._parts.append(f"[media not shown: {shown.rsplit('/', 1)[-1]}]")
        else:
            block = name in BLOCKS
            if block:
                self._parts.append("\n")
            if name == "li":
                self._parts.append("• ")
            if name in ("td", "th"):
                self._parts.append(" | ")
            self._pre += name == "pre"
            self._inside(element, depth)
            self._pre -= name == "pre"
            if block:
                self._parts.append("\n")
        self._parts.append(self._flow(element.tail))

    def _inside(self, element: Element, depth: int) -> None:
        self._parts.append(self._flow(element.text))
        for child in element:
            self._element(child, depth + 1)

    def _object(self, element: Element, depth: int) -> None:
        data, kind = element.get("data", ""), element.get("type", "")
        if kind.startswith("image/") or re.search(r"\.(png|jpe?g|gif|webp|svg)$", data, re.I):
            label = tidy("".join(element.itertext())) or element.get("title", "")
            self._parts.append(self.pictures.marker(data, label))
            return
        self.pictures.notes.append(f"the embedded {kind or 'object'} {data} was left out")
        self._parts.append(f"[media not shown: {data.rsplit('/', 1)[-1] or kind}]")


def tidy(text: str) -> str:
    """Spaces folded within lines, blank lines and leading bars gone."""
    lines = []
    for line in text.split("\n"):
        folded = _SPACES.sub(" ", line).strip()
        if folded.startswith("| "):
            folded = folded[2:]
        if folded:
            lines.append(folded)
    return "\n".join(lines)


class _TreeBuilder(HTMLParser):
    """HTML into an element tree, leniently (unclosed and stray tags are common in item HTML);
    character references decoded here, once."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("div")
        self._open: list[Element] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if len(self._open) > 200:  # markup nested this deep is not an item's text
            raise ValueError("the HTML is nested too deeply")
        element = SubElement(self._open[-1], tag, {k: v or "" for k, v in attrs})
        if tag not in _VOID:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        SubElement(self._open[-1], tag, {k: v or "" for k, v in attrs})

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth].tag == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        current = self._open[-1]
        if len(current):
            last = current[-1]
            last.tail = (last.tail or "") + data
        else:
            current.text = (current.text or "") + data


def html_tree(html: str) -> Element:
    """``html`` (a fragment) as an element tree under a ``div``."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def from_html(html: str, pictures: Pictures) -> str:
    """``html`` as text (``Skip`` if its markup is nested too deeply to be an item's)."""
    from server.bank.formats.common import Skip

    try:
        tree = html_tree(html)
    except ValueError as error:
        raise Skip(str(error)) from error
    return Text(pictures).render(tree, with_self=False)
