"""GIFT (Moodle's plain-text format): multiple-choice questions.

    $CATEGORY: top/cnn/Using pooling layers

    ::Q1:: How many trainable parameters does a 2x2 max-pooling layer have? {
      =0    # Correct: pooling has no weights.
      ~4    # These would be weights, which max-pooling does not have.
    }

``=`` marks the right answer, ``~`` a wrong one (``~%50%`` a weighted right one), ``#`` its
feedback; ``\\`` escapes ``~ = # { } :``. Other question kinds are skipped with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from server.bank.formats.common import (
    ImportError_,
    ImportResult,
    Mapping,
    item_id,
    make_item,
    plain,
)
from server.bank.model import BankItem, Option

_SPECIAL = "~=#{}:"


@dataclass
class _Block:
    line: int
    text: str
    category: list[str]


def _blocks(text: str) -> list[_Block]:
    """Questions (separated by blank lines) with the line they start on and their category."""
    blocks: list[_Block] = []
    category: list[str] = []
    current: list[str] = []
    start = 0
    for number, raw in enumerate([*text.splitlines(), ""], 1):
        line = raw.rstrip()
        if line.lstrip().startswith("//"):
            continue
        if line.startswith("$CATEGORY:"):
            category = line.split(":", 1)[1].strip().split("/")
            continue
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            blocks.append(_Block(start, "\n".join(current), category))
            current = []
    return blocks


def _split(text: str, separators: str) -> list[tuple[str, str]]:
    """Split at unescaped separator characters: [(separator or '', segment)]."""
    parts: list[tuple[str, str]] = []
    mark, buffer, escaped = "", [], False
    for char in text:
        if escaped:
            buffer.append(char)
            escaped = False
        elif char == "\\":
            buffer.append(char)
            escaped = True
        elif char in separators:
            parts.append((mark, "".join(buffer)))
            mark, buffer = char, []
        else:
            buffer.append(char)
    parts.append((mark, "".join(buffer)))
    return parts


def _unescape(text: str) -> str:
    return plain(re.sub(r"\\([~=#{}:])", r"\1", text).replace("\\n", "\n"))


def _outside_braces(text: str) -> tuple[str, str, str] | None:
    """(before, inside, after) of the first unescaped {...}, or None."""
    depth, start, escaped = 0, -1, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "{" and depth == 0:
            depth, start = 1, index
        elif char == "}" and depth == 1:
            return text[:start], text[start + 1 : index], text[index + 1 :]
    return None


def read_gift(path: Path, mapping: Mapping) -> ImportResult:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportError_(f"{path}: not UTF-8 text.") from error
    items: list[BankItem] = []
    warnings: list[str] = []
    for block in _blocks(text):
        where = f"{path}:{block.line}"
        body = block.text
        title = None
        titled = re.match(r"\s*::(.*?)::(.*)", body, re.DOTALL)
        if titled:
            title, body = titled.group(1).strip(), titled.group(2)
        body = re.sub(r"^\s*\[(html|moodle|plain|markdown)\]", "", body)
        split = _outside_braces(body)
        if split is None:
            raise ImportError_(f"{where}: no answers in braces {{...}}.")
        before, inside, after = split
        answers = [(mark, part) for mark, part in _split(inside, "=~") if mark]
        if not any(mark == "~" for mark, _ in answers):
            warnings.append(f"{where}: not a multiple-choice question; skipped.")
            continue
        options, key = [], []
        for index, (mark, part) in enumerate(answers):
            option_id = "abcdefghij"[index] if index < 10 else f"o{index}"
            pieces = _split(part, "#")
            answer = pieces[0][1]
            feedback = "".join(segment for _, segment in pieces[1:])
            weight = re.match(r"\s*%(-?[\d.]+)%", answer)
            if weight:
                answer = answer[weight.end() :]
            correct = mark == "=" or (weight is not None and float(weight.group(1)) > 0)
            options.append(Option(option_id, _unescape(answer), _unescape(feedback)))
            if correct:
                key.append(option_id)
        stem = _unescape(before + (" _____ " + after if after.strip() else ""))
        category, skill = mapping.resolve(block.category, where)
        items.append(
            make_item(
                item_id_=item_id("GIFT", title, stem),
                category=category,
                skill=skill,
                stem=stem,
                options=options,
                key=key,
                mapping=mapping,
                source=f"GIFT import: {path.name}",
                origin=where,
            )
        )
    return ImportResult(items, warnings)
