"""What a sitting's row on the home screen says, and which actions apply to it: decided here,
with no window, from what this computer knows (the summary, the package, the outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.protocol import REQUEST_CLOCK_SKEW_S

SKEW_MS = REQUEST_CLOCK_SKEW_S * 1000


def day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%d %b %Y, %H:%M")


@dataclass(frozen=True)
class SittingView:
    sitting: dict[str, Any]
    status: str  # in words, for the row
    detail: str  # a sentence: what the candidate can do now
    can_download: bool
    can_take: bool
    has_result: bool
    finished: bool
    submission_id: str | None

    @property
    def kind(self) -> str:
        return "Supervised" if self.sitting["offline"] else "Online"

    @property
    def length(self) -> str:
        minutes = (self.sitting["duration_s"] + self.sitting.get("extra_time_s", 0)) // 60
        return f"{minutes} min"

    @property
    def window(self) -> str:
        return f"{day(self.sitting['opens_ms'])} to {day(self.sitting['closes_ms'])}"


def view(sitting: dict[str, Any], entry: dict[str, Any] | None, now_ms: int) -> SittingView:
    """The row for ``sitting`` given its outbox ``entry`` (if it was finished here)."""

    def make(status: str, detail: str, **flags: Any) -> SittingView:
        values = {"can_download": False, "can_take": False, "has_result": False}
        values.update(flags)
        return SittingView(
            sitting,
            status,
            detail,
            finished=entry is not None or sitting["state"] == "scored",
            submission_id=str(entry["submission_id"]) if entry else None,
            **values,
        )

    if entry is not None:
        if entry.get("result"):
            return make("Result ready", "Your result and certificate are ready.", has_result=True)
        if entry.get("failed"):
            return make(
                "Refused by the server",
                "The server refused this exam's answers: Finished exams says why.",
            )
        return make(
            "Finished, not sent yet",
            "Your answers are safe on this computer and are sent when it is online.",
        )
    if sitting["state"] == "scored":
        return make("Finished", "This exam was finished and scored.")
    opens, closes = sitting["opens_ms"], sitting["closes_ms"]
    if now_ms > closes + SKEW_MS:
        return make("Closed", f"The window for this exam closed on {day(closes)}.")
    if not sitting.get("downloaded"):
        return make(
            "Not downloaded",
            "Download it now: once downloaded it can be taken with no network.",
            can_download=True,
        )
    if now_ms < opens - SKEW_MS:
        return make(
            f"Opens {day(opens)}",
            f"Downloaded. It can be started from {day(opens)}.",
        )
    return make(
        "Ready to take",
        "Downloaded: it can be taken now, with or without a network.",
        can_take=True,
    )
