"""GIFT (Moodle's plain-text format): multiple-choice, multiple-answer and true/false questions.

    $CATEGORY: top/cnn/Using pooling layers

    ::Q1:: How many trainable parameters does a 2x2 max-pooling layer have? {
      =0    # Correct: pooling has no weights.
      ~4    # These would be weights, which max-pooling does not have.
      #### Pooling summarises a window; it learns nothing.
    }

``=`` marks the right answer, ``~`` a wrong one, ``~%50%`` one worth part of the marks (wrong
here: examgate scores right or wrong, and the report says so), ``#`` an answer's feedback,
``####`` the question's general feedback. With no ``=``, the answers worth more than nothing
together are the key of a several-answer question. ``[html]``, ``[moodle]``, ``[plain]`` or
``[markdown]`` before any text gives its format (answers take the question's unless they name
their own); ``\\`` escapes ``~ = # { } :``. Numerical, short-answer, matching and essay
questions are skipped, each named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from server.bank.formats.common import (
    Draft,
    ImportError_,
    ImportResult,
    Mapping,
    Outcome,
    Skip,
    item_id,
    letter_ids,
)
from server.bank.formats.content import Pictures, from_html, tidy
from server.bank.model import Option

_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_WEIGHT = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_TRUE_FALSE = {"t": True, "true": True, "f": False, "false": False}


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


def _find(text: str, what: str) -> int:
    """The index of the first unescaped ``what`` in ``text``, or -1."""
    index = 0
    while True:
        index = text.find(what, index)
        if index < 0:
            return -1
        backslashes = len(text[:index]) - len(text[:index].rstrip("\\"))
        if backslashes % 2 == 0:
            return index
        index += 1


def _braces(text: str) -> tuple[str, str, str] | None:
    """(before, inside, after) of the first unescaped {...}, or None."""
    opening = _find(text, "{")
    if opening < 0:
        return None
    closing = _find(text[opening + 1 :], "}")
    if closing < 0:
        return None
    closing += opening + 1
    return text[:opening], text[opening + 1 : closing], text[closing + 1 :]


def _unescape(text: str) -> str:
    return re.sub(r"\\([~=#{}:\\])", r"\1", text).replace("\\n", "\n")


def _render(text: str, default: str, pictures: Pictures) -> tuple[str, str]:
    """(text, its format): a leading format marker is read and dropped."""
    marker = _FORMAT.match(text)
    kind = marker.group(1).lower() if marker else default
    body = _unescape(text[marker.end() :] if marker else text)
    if kind in ("html", "moodle"):
        return from_html(body, pictures), kind
    return tidy(body), kind


def read_gift(path: Path, mapping: Mapping) -> ImportResult:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportError_(f"{path}: not UTF-8 text.") from error
    outcomes: list[Outcome] = []
    for block in _blocks(text):
        where = f"{path}:{block.line}"
        pictures = Pictures(lambda _src: None)
        notes: list[str] = []
        try:
            title, draft = _question(block.text, pictures, notes)
            if title:
                where = f"{where} ({title})"
            category, skill = mapping.resolve(block.category)
            item = draft.make(
                item_id_=item_id("GIFT", title, draft.stem),
                category=category,
                skill=skill,
                mapping=mapping,
                source=f"GIFT import: {path.name}",
                origin=where,
            )
        except Skip as why:
            outcomes.append(Outcome(where, None, [str(why)]))
            continue
        outcomes.append(Outcome(where, item, notes + pictures.notes))
    return ImportResult(outcomes)


def _question(text: str, pictures: Pictures, notes: list[str]) -> tuple[str | None, Draft]:
    title = None
    titled = re.match(r"\s*::(.*?)::(.*)", text, re.DOTALL)
    if titled:
        title, text = _unescape(titled.group(1)).strip(), titled.group(2)
    split = _braces(text)
    if split is None:
        raise Skip("it has no answers in braces {...}: a description, not a question")
    before, inside, after = split
    marker = _FORMAT.match(before)
    question_format = marker.group(1).lower() if marker else "moodle"
    draft = Draft()
    stem_text = before + (" _____ " + after if after.strip() else "")
    draft.stem, _ = _render(stem_text, question_format, pictures)
    answers_text, general = inside, ""
    cut = _find(inside, "####")
    if cut >= 0:
        answers_text, general = inside[:cut], inside[cut + 4 :]
        draft.general_feedback, _ = _render(general, question_format, pictures)
    kind = answers_text.strip()
    if not kind:
        raise Skip("it is an essay question (empty braces); examgate imports choice questions")
    if kind.startswith("#"):
        raise Skip("it is a numerical question; examgate imports choice questions")
    if _find(answers_text, "->") >= 0:
        raise Skip("it is a matching question; examgate imports choice questions")
    head = _split(kind, "#")[0][1].strip().lower()
    if head in _TRUE_FALSE:
        _true_false(draft, answers_text, _TRUE_FALSE[head], question_format, pictures)
    elif _find(answers_text, "~") >= 0:
        _choices(draft, answers_text, question_format, pictures, notes)
    else:
        raise Skip("it is a short-answer question (no ~ wrong answers); examgate imports choices")
    draft.images = pictures.images
    return title, draft


def _true_false(
    draft: Draft, text: str, truth: bool, question_format: str, pictures: Pictures
) -> None:
    """``{T#feedback if wrong#feedback if right}``."""
    parts = [segment for _, segment in _split(text, "#")]
    wrong = _render(parts[1], question_format, pictures)[0] if len(parts) > 1 else ""
    right = _render(parts[2], question_format, pictures)[0] if len(parts) > 2 else ""
    key, other = ("a", "b") if truth else ("b", "a")
    feedback = {key: right, other: wrong}
    draft.options = [Option("a", "True", feedback["a"]), Option("b", "False", feedback["b"])]
    draft.key = [key]


def _choices(
    draft: Draft, text: str, question_format: str, pictures: Pictures, notes: list[str]
) -> None:
    answers = [(mark, part) for mark, part in _split(text, "=~") if mark]
    ids = letter_ids(len(answers))
    weights: dict[str, float] = {}
    for option_id, (mark, part) in zip(ids, answers, strict=True):
        pieces = _split(part, "#")
        answer = pieces[0][1]
        weight = _WEIGHT.match(answer)
        if weight:
            answer = answer[weight.end() :]
        value = float(weight.group(1)) if weight else (100.0 if mark == "=" else 0.0)
        weights[option_id] = value
        shown, answer_format = _render(answer, question_format, pictures)
        feedback = "".join(segment for _, segment in pieces[1:])
        explained = _render(feedback, answer_format, pictures)[0]
        draft.options.append(Option(option_id, shown, explained))
    full = [option_id for option_id, value in weights.items() if value >= 100]
    partial = [option_id for option_id, value in weights.items() if 0 < value < 100]
    if full:
        if len(full) > 1:
            raise Skip(
                f"{len(full)} answers are each fully right; examgate needs one right answer in a "
                "one-answer question"
            )
        draft.key = full
        for option_id in partial:
            notes.append(
                f"answer {option_id} earns {weights[option_id]:g}% in Moodle; examgate scores it "
                "as wrong"
            )
        return
    if not partial:
        raise Skip("no answer is marked right (= or a positive %weight%)")
    draft.multiple = True
    draft.key = partial
    total = sum(weights[option_id] for option_id in partial)
    if abs(total - 100) > 0.5:
        notes.append(f"the right answers' weights add up to {total:g}%, not 100%")
