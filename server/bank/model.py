"""The bank's item type: everything the server knows about an item, key and parameters included."""

from __future__ import annotations

from dataclasses import dataclass, field

# Only live items are drawn for exams; practice items are public and never drawn.
STATUSES = ("draft", "pretest", "live", "retired", "practice")

# Pictures an item may show: raster formats every client draws, nothing that can carry a script.
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


class BankError(Exception):
    """An item file that cannot be loaded; the message names the file and the item."""


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    feedback: str = ""  # why this option is right or wrong (the house profile requires it)


@dataclass(frozen=True)
class Image:
    """A picture the item shows, carried (encrypted) in the sealed package. The stem (or an
    option) marks where it belongs with ``[Image N: alt]``, N counting from 1 in this tuple."""

    name: str
    media_type: str
    data: bytes = field(repr=False)
    alt: str = ""


@dataclass(frozen=True)
class BankItem:
    id: str
    category: str
    skill: str
    stem: str
    options: tuple[Option, ...]
    key: tuple[str, ...]
    a: float
    b: float
    c: float
    status: str
    source: str
    # Items that must never stand on one form with this one (they give each other away).
    enemies: tuple[str, ...] = ()
    # Choose every right option (check boxes), even when only one is right.
    multiple_response: bool = False
    # Feedback for the whole item, and for a right or a wrong answer to it.
    general_feedback: str = ""
    correct_feedback: str = ""
    incorrect_feedback: str = ""
    images: tuple[Image, ...] = ()
    # Where the item was read from ("file:line"), for messages; not part of the item.
    origin: str = field(default="", compare=False)

    @property
    def multiple(self) -> bool:
        """Whether the candidate may choose more than one option."""
        return self.multiple_response or len(self.key) > 1
