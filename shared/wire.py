"""The typed messages client and server exchange, each with ``to_json`` / ``from_json``.

``from_json`` checks what it reads and raises ``MalformedData`` with a sentence naming the field,
so neither side ever acts on a half-understood message. Events have their own module
(``shared.events``); this one holds the package, the sitting summary, the receipt and the result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.errors import MalformedData
from shared.protocol import PACKAGE_FORMAT, RECEIPT_FORMAT


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedData(f"The {what} is not an object.")
    return value


def _str(data: dict[str, Any], name: str, what: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise MalformedData(f"The {what} has no '{name}'.")
    return value


def _int(data: dict[str, Any], name: str, what: str) -> int:
    value = data.get(name)
    if type(value) is not int:
        raise MalformedData(f"The {what} has no whole number '{name}'.")
    return value


def _list(data: dict[str, Any], name: str) -> list[Any]:
    """An optional list (absent: empty)."""
    value = data.get(name, [])
    if not isinstance(value, list) or len(value) > 50:
        raise MalformedData(f"The '{name}' of an exam question is not a list.")
    return value


def _bool(data: dict[str, Any], name: str, what: str) -> bool:
    value = data.get(name)
    if not isinstance(value, bool):
        raise MalformedData(f"The {what} has no true/false '{name}'.")
    return value


@dataclass(frozen=True)
class PackageOption:
    id: str
    text: str


IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_IMAGE_BASE64 = 3 * 1024 * 1024  # a 2 MiB picture, as base64


@dataclass(frozen=True)
class PackageImage:
    """A picture the question shows, where its text says ``[Image N]`` (N from 1). It carries
    no file name: a name could give the answer away."""

    media_type: str
    data: str  # base64
    alt: str = ""

    @classmethod
    def from_json(cls, value: object) -> PackageImage:
        data = _object(value, "picture")
        media_type = _str(data, "type", "picture")
        encoded = _str(data, "data", "picture")
        if media_type not in IMAGE_TYPES or len(encoded) > MAX_IMAGE_BASE64:
            raise MalformedData("An exam question holds a picture that cannot be shown.")
        return cls(media_type, encoded, _str(data, "alt", "picture"))

    def to_json(self) -> dict[str, Any]:
        return {"type": self.media_type, "data": self.data, "alt": self.alt}


@dataclass(frozen=True)
class PackageItem:
    """One question as the candidate sees it: stem and options, never a key or parameter."""

    id: str
    category: str
    stem: str
    options: tuple[PackageOption, ...]
    multiple: bool = False
    images: tuple[PackageImage, ...] = ()

    @classmethod
    def from_json(cls, value: object) -> PackageItem:
        data = _object(value, "exam question")
        options = data.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= 16:
            raise MalformedData("An exam question has no options.")
        return cls(
            id=_str(data, "id", "exam question"),
            category=_str(data, "category", "exam question"),
            stem=_str(data, "stem", "exam question"),
            options=tuple(
                PackageOption(_str(o, "id", "option"), _str(o, "text", "option"))
                for o in (_object(option, "option") for option in options)
            ),
            multiple=bool(data.get("multiple", False)),
            images=tuple(PackageImage.from_json(image) for image in _list(data, "images")),
        )

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "id": self.id,
            "category": self.category,
            "stem": self.stem,
            "multiple": self.multiple,
            "options": [{"id": o.id, "text": o.text} for o in self.options],
        }
        if self.images:
            found["images"] = [image.to_json() for image in self.images]
        return found


@dataclass(frozen=True)
class PackageHeader:
    """The signed, readable part of a sealed package."""

    package_id: str
    sitting_id: str
    device_id: str
    candidate: str
    assessment: str
    duration_s: int
    extra_time_s: int
    item_count: int
    offline: bool
    policy: dict[str, Any]
    issued_ms: int
    opens_ms: int
    closes_ms: int
    expires_ms: int
    server_kex_public: str  # base64url X25519: the event chain's first key is agreed with it
    hand_in_by_ms: int  # the last moment the server accepts the sealed sitting
    seal: dict[str, Any] = field(default_factory=dict)
    # The organisation that invited the candidate, and whether the candidate is asked, before
    # the clock starts, if the result may be shared with it (employer-administered sittings).
    organisation: str = ""
    organisation_id: str = ""
    ask_consent: bool = False
    # An online sitting whose items the server chooses one at a time; the package's items are
    # the linear form the client continues on if the server cannot be reached.
    adaptive: bool = False

    WHAT = "exam package header"

    @property
    def sitting_ms(self) -> int:
        """The time the candidate has: the assessment's duration plus any extra time."""
        return (self.duration_s + self.extra_time_s) * 1000

    @classmethod
    def from_json(cls, value: object) -> PackageHeader:
        data = _object(value, cls.WHAT)
        if data.get("format") != PACKAGE_FORMAT:
            raise MalformedData("The exam package's format is not supported by this version.")
        what = cls.WHAT
        return cls(
            package_id=_str(data, "package_id", what),
            sitting_id=_str(data, "sitting_id", what),
            device_id=_str(data, "device_id", what),
            candidate=_str(data, "candidate", what),
            assessment=_str(data, "assessment", what),
            duration_s=_int(data, "duration_s", what),
            extra_time_s=_int(data, "extra_time_s", what),
            item_count=_int(data, "item_count", what),
            offline=_bool(data, "offline", what),
            policy=_object(data.get("policy"), "exam package policy"),
            issued_ms=_int(data, "issued_ms", what),
            opens_ms=_int(data, "opens_ms", what),
            closes_ms=_int(data, "closes_ms", what),
            expires_ms=_int(data, "expires_ms", what),
            server_kex_public=_str(data, "server_kex_public", what),
            hand_in_by_ms=_int(data, "hand_in_by_ms", what),
            seal=dict(data.get("seal") or {}),
            organisation=str(data.get("organisation") or ""),
            organisation_id=str(data.get("organisation_id") or ""),
            ask_consent=data.get("ask_consent") is True,
            adaptive=data.get("adaptive") is True,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": PACKAGE_FORMAT,
            "package_id": self.package_id,
            "sitting_id": self.sitting_id,
            "device_id": self.device_id,
            "candidate": self.candidate,
            "assessment": self.assessment,
            "duration_s": self.duration_s,
            "extra_time_s": self.extra_time_s,
            "item_count": self.item_count,
            "offline": self.offline,
            "policy": self.policy,
            "issued_ms": self.issued_ms,
            "opens_ms": self.opens_ms,
            "closes_ms": self.closes_ms,
            "expires_ms": self.expires_ms,
            "server_kex_public": self.server_kex_public,
            "hand_in_by_ms": self.hand_in_by_ms,
        }
        if self.organisation_id:
            out["organisation"] = self.organisation
            out["organisation_id"] = self.organisation_id
            out["ask_consent"] = self.ask_consent
        if self.adaptive:
            out["adaptive"] = True
        if self.seal:
            out["seal"] = self.seal
        return out


@dataclass(frozen=True)
class SittingSummary:
    """A sitting as the candidate's device lists it."""

    id: str
    assessment: str
    duration_s: int
    extra_time_s: int
    candidate: str
    offline: bool
    state: str
    opens_ms: int
    closes_ms: int
    expires_ms: int
    employer: str = ""  # who administers it (kept summaries from before it was sent have none)

    @classmethod
    def from_json(cls, value: object) -> SittingSummary:
        data = _object(value, "sitting")
        return cls(
            id=_str(data, "id", "sitting"),
            assessment=_str(data, "assessment", "sitting"),
            duration_s=_int(data, "duration_s", "sitting"),
            extra_time_s=_int(data, "extra_time_s", "sitting"),
            candidate=_str(data, "candidate", "sitting"),
            offline=_bool(data, "offline", "sitting"),
            state=_str(data, "state", "sitting"),
            opens_ms=_int(data, "opens_ms", "sitting"),
            closes_ms=_int(data, "closes_ms", "sitting"),
            expires_ms=_int(data, "expires_ms", "sitting"),
            employer=_str(data, "employer", "sitting") if "employer" in data else "",
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "assessment": self.assessment,
            "employer": self.employer,
            "duration_s": self.duration_s,
            "extra_time_s": self.extra_time_s,
            "candidate": self.candidate,
            "offline": self.offline,
            "state": self.state,
            "opens_ms": self.opens_ms,
            "closes_ms": self.closes_ms,
            "expires_ms": self.expires_ms,
        }


@dataclass(frozen=True)
class Receipt:
    """The server's signed acknowledgement that it stored a submission."""

    submission_id: str
    submission_sha256: str
    received_ms: int
    result_id: str

    @classmethod
    def from_json(cls, value: object) -> Receipt:
        data = _object(value, "receipt")
        if data.get("format") != RECEIPT_FORMAT:
            raise MalformedData("The receipt's format is not supported by this version.")
        return cls(
            submission_id=_str(data, "submission_id", "receipt"),
            submission_sha256=_str(data, "submission_sha256", "receipt"),
            received_ms=_int(data, "received_ms", "receipt"),
            result_id=_str(data, "result_id", "receipt"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RECEIPT_FORMAT,
            "submission_id": self.submission_id,
            "submission_sha256": self.submission_sha256,
            "received_ms": self.received_ms,
            "result_id": self.result_id,
        }


@dataclass(frozen=True)
class Result:
    """A scored result as the candidate's device receives it. The typed fields are what every
    reader relies on; ``report`` is the whole document (feedback, plan, integrity)."""

    submission_id: str
    result_id: str
    verification_code: str
    overall: str
    categories: dict[str, str]
    integrity_outcome: str
    report: dict[str, Any]

    @classmethod
    def from_json(cls, value: object) -> Result:
        data = _object(value, "result")
        categories = _object(data.get("categories"), "result's categories")
        integrity = _object(data.get("integrity"), "result's integrity")
        return cls(
            submission_id=_str(data, "submission_id", "result"),
            result_id=_str(data, "result_id", "result"),
            verification_code=_str(data, "verification_code", "result"),
            overall=_str(data, "overall", "result"),
            categories={str(k): str(v) for k, v in categories.items()},
            integrity_outcome=_str(integrity, "outcome", "result's integrity"),
            report=data,
        )

    def to_json(self) -> dict[str, Any]:
        return dict(self.report)
