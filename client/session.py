"""The exam session: a state machine over one sitting, with no window and no network.

The session's state is a fold of its journal, so a crashed sitting resumes where it stopped:
same item, same answers, the time that was left. Time comes from a ``Clock`` the caller passes,
so tests drive a whole sitting without sleeping.

States: ``ready`` (unlocked, not started) -> ``running`` -> ``ended``. A running sitting can be
``locked`` by the integrity policy; only a proctor's response code unlocks it, and a lock
survives a restart (it is in the journal).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from client.errors import SittingClosed, SittingLocked
from client.journal import Journal
from shared import crypto
from shared.policy import Policy

HEARTBEAT_MS = 5_000
# Wall-clock time passing this much faster than the monotonic clock between two ticks means the
# machine slept or was locked: recorded as a clock gap (the time is not charged).
CLOCK_GAP_MS = 5_000
# Downtime between a crash and the resume is not charged; the charged time can lose at most
# one heartbeat interval, and each resume is an event the server sees.


class Clock(Protocol):
    def wall_ms(self) -> int: ...

    def mono_ms(self) -> int: ...


class SystemClock:
    def wall_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def mono_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000


@dataclass(frozen=True)
class Option:
    id: str
    text: str


@dataclass(frozen=True)
class Item:
    id: str
    category: str
    stem: str
    options: tuple[Option, ...]
    multiple: bool

    @classmethod
    def from_package(cls, data: dict[str, Any]) -> Item:
        return cls(
            id=str(data["id"]),
            category=str(data["category"]),
            stem=str(data["stem"]),
            options=tuple(Option(str(o["id"]), str(o["text"])) for o in data["options"]),
            multiple=bool(data.get("multiple", False)),
        )


Listener = Callable[[dict[str, Any]], None]


class ExamSession:
    def __init__(
        self,
        sitting_id: str,
        items: list[Item],
        duration_s: int,
        journal: Journal,
        clock: Clock,
        policy: Policy | None = None,
        proctor_secret: bytes = b"",
    ) -> None:
        self.sitting_id = sitting_id
        self.policy = policy or Policy()
        self.proctor_secret = proctor_secret
        self.items = items
        self.duration_ms = duration_s * 1000
        self.journal = journal
        self.clock = clock
        self.listeners: list[Listener] = []
        self.answers: dict[str, list[str]] = {}
        self.index = 0
        self.state = "ready"
        self.end_reason: str | None = None
        self.started_at_ms: int | None = None
        self.ended_at_ms: int | None = None
        self._charged_ms = 0  # elapsed time banked before the current run
        self._run_start_mono: int | None = None
        self._last_write_mono = 0
        self.lock_challenge: str | None = None
        self._last_tick: tuple[int, int] | None = None
        self._replay()

    # -- replaying the journal -------------------------------------------------------------
    def _replay(self) -> None:
        history = self.journal.events
        if not history:
            return
        position = {item.id: number for number, item in enumerate(self.items)}
        for event in history:
            kind, data = event["type"], event["data"]
            if kind == "started":
                self.started_at_ms = event["at_ms"]
            elif kind == "answer":
                self.answers[data["item"]] = list(data["options"])
            elif kind == "advance":
                self.index = position.get(data["to"], self.index)
            elif kind == "ended":
                self.end_reason = data["reason"]
                self.ended_at_ms = event["at_ms"]
            elif kind == "locked":
                self.lock_challenge = data["challenge"]
            elif kind == "unlocked":
                self.lock_challenge = None
        self._charged_ms = history[-1]["elapsed_ms"]
        if self.end_reason is not None:
            self.state = "ended"
        elif self.started_at_ms is not None:
            self.state = "running"
            self._run_start_mono = self.clock.mono_ms()
            downtime = max(0, self.clock.wall_ms() - history[-1]["at_ms"])
            self._write("resumed", {"downtime_ms": downtime, "item": self.current_id()})

    # -- reading -----------------------------------------------------------------------------
    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def current(self) -> Item | None:
        return self.items[self.index] if self.state == "running" else None

    def current_id(self) -> str | None:
        return self.items[self.index].id if self.index < len(self.items) else None

    def elapsed_ms(self) -> int:
        if self._run_start_mono is None:
            return self._charged_ms
        return min(self.duration_ms, self._charged_ms + self.clock.mono_ms() - self._run_start_mono)

    def remaining_ms(self) -> int:
        return max(0, self.duration_ms - self.elapsed_ms())

    def answered(self) -> int:
        return sum(1 for item in self.items if self.answers.get(item.id))

    # -- acting ------------------------------------------------------------------------------
    def _write(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        event = self.journal.append(kind, data, self.clock.wall_ms(), self.elapsed_ms())
        self._last_write_mono = self.clock.mono_ms()
        for listener in list(self.listeners):
            listener(event)
        return event

    def start(self) -> None:
        """Start the clock on the first item."""
        if self.state != "ready":
            return
        self.state = "running"
        self._run_start_mono = self.clock.mono_ms()
        self.started_at_ms = self.clock.wall_ms()
        self._write("started", {"items": self.total, "duration_ms": self.duration_ms})

    @property
    def locked(self) -> bool:
        return self.lock_challenge is not None and self.state != "ended"

    def _require_running(self) -> Item:
        self.tick()
        if self.state != "running":
            raise SittingClosed()
        if self.locked:
            raise SittingLocked()
        return self.items[self.index]

    def lock_reason(self) -> str:
        """Why the sitting is locked, in a sentence (from the journal's last lock)."""
        reason = next(
            (e["data"]["reason"] for e in reversed(self.journal.events) if e["type"] == "locked"),
            "",
        )
        if reason == "program_found":
            program = next(
                (
                    e["data"].get("name")
                    for e in reversed(self.journal.events)
                    if e["type"] == "program_found"
                ),
                None,
            )
            if program:
                return (
                    f"{program}, a program that is not allowed during the exam, was found running."
                )
        return {
            "focus_lost": "You left the exam window more often or for longer than allowed.",
            "focus_returned": "You were away from the exam window for longer than allowed.",
            "program_found": "A program that is not allowed during the exam was found running.",
            "display_added": "A display was connected during the exam.",
            "key_blocked": "Shortcuts that leave or capture the exam were pressed too often.",
            "clipboard_used": "The clipboard was used too often during the exam.",
        }.get(reason, "The assessment's integrity rules locked the sitting.")

    def lock(self, reason: str, challenge: str) -> None:
        """Lock the sitting (policy); the clock keeps running until a proctor unlocks it."""
        if self.state != "running" or self.locked:
            return
        self.lock_challenge = challenge
        self._write("locked", {"reason": reason, "challenge": challenge})

    def try_unlock(self, response: str) -> bool:
        """Check a proctor's response code against the lock challenge (offline) and unlock."""
        if not self.locked or self.lock_challenge is None:
            return True
        accepted = bool(self.proctor_secret) and crypto.proctor_response_matches(
            self.proctor_secret, self.sitting_id, self.lock_challenge, response
        )
        return self.unlock(accepted, response)

    def unlock(self, accepted: bool, response: str) -> bool:
        """Record a proctor's response to the lock challenge; unlock if it was accepted."""
        if not self.locked:
            return True
        self._write(
            "unlocked" if accepted else "unlock_refused",
            {"challenge": self.lock_challenge, "response": response},
        )
        if accepted:
            self.lock_challenge = None
        return accepted

    def answer(self, option_ids: list[str]) -> None:
        """Record the choice for the current item; it is on disk when this returns."""
        item = self._require_running()
        valid = {option.id for option in item.options}
        chosen = [option for option in option_ids if option in valid]
        if not item.multiple:
            chosen = chosen[-1:]
        self.answers[item.id] = chosen
        self._write("answer", {"item": item.id, "options": chosen})

    def advance(self) -> None:
        """Go to the next item; after the last one the sitting is finished."""
        item = self._require_running()
        if self.index + 1 >= self.total:
            self.finish("finished")
            return
        self.index += 1
        self._write("advance", {"from": item.id, "to": self.items[self.index].id})

    def record(self, kind: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """Journal an integrity event (focus, keyboard, ...) while the sitting is open."""
        if self.state == "ended":
            return None
        return self._write(kind, data)

    def tick(self) -> None:
        """Call regularly: ends the sitting at time-up and keeps a heartbeat in the journal."""
        if self.state != "running":
            return
        now = (self.clock.wall_ms(), self.clock.mono_ms())
        if self._last_tick is not None:
            gap = (now[0] - self._last_tick[0]) - (now[1] - self._last_tick[1])
            if gap >= CLOCK_GAP_MS:
                self._write("clock_gap", {"gap_ms": gap})
        self._last_tick = now
        if self.remaining_ms() <= 0:
            self.finish("time_up")
        elif self.clock.mono_ms() - self._last_write_mono >= HEARTBEAT_MS:
            self._write("heartbeat", {})

    def finish(self, reason: str) -> None:
        if self.state == "ended":
            return
        self._write("ended", {"reason": reason, "answered": self.answered()})
        self.state = "ended"
        self.end_reason = reason
        self.ended_at_ms = self.clock.wall_ms()
        self._charged_ms = self.elapsed_ms()
        self._run_start_mono = None

    def responses(self) -> list[dict[str, Any]]:
        return [
            {"item": item.id, "options": self.answers[item.id]}
            for item in self.items
            if self.answers.get(item.id)
        ]
