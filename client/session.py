"""The exam session: a state machine over one sitting, with no window and no network.

The session's state is a fold of its journal, so a crashed sitting resumes where it stopped:
same item, same answers, the time that was left. Time comes from a ``Clock`` the caller passes,
so tests drive a whole sitting without sleeping.

States: ``ready`` (unlocked, not started) -> ``running`` -> ``ended``. A running sitting can be
``locked`` by the integrity policy; only a proctor's response code unlocks it, and a lock
survives a restart (it is in the journal).

Time charged to the candidate is the process's monotonic time, unless the kernel's own uptime
clock shows that more time passed while the wall clock agreed with the monotonic one: then the
process's clocks are being slowed (a time-faking library, a patched runtime), the kernel's time
is charged and a ``clock_slowed`` event says so. A machine asleep (wall and uptime both ahead
of the monotonic clock) is a ``clock_gap``, recorded, not charged, and counted with the downtime
between a crash and its resume against the policy's cap.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from client.errors import SaveFailed, SittingClosed, SittingLocked
from client.journal import Journal
from shared import crypto
from shared.policy import Policy
from shared.wire import PackageItem, PackageOption

Item = PackageItem
Option = PackageOption

HEARTBEAT_MS = 5_000
# Wall and kernel uptime clocks both this far ahead of the monotonic clock between two looks:
# the machine slept.
SLEEP_MS = 1_000
# Wall-clock time passing this much faster than the monotonic clock between two observations
# means the machine slept or its clock was changed: recorded as a clock gap (not charged).
CLOCK_GAP_MS = 5_000
# The kernel's uptime running ahead of the process's monotonic clock by more than this over a
# run (sleep taken out) is a slowed clock.
SLOW_TOLERANCE_MS = 500

# Proctor codes at the lock screen: three tries, then a wait that doubles from 30 s (in sitting
# time, so a restart does not reset it), and no more than ten wrong codes for one lock.
FREE_ATTEMPTS = 3
MAX_ATTEMPTS = 10
BACKOFF_MS = 30_000
BACKOFF_CAP_MS = 300_000


def stood_still(event: dict[str, Any]) -> int:
    """The time an event says the sitting stood still: a restart's downtime, or a sleep (by the
    kernel's clock where there is one; a wall clock merely set forward is not downtime)."""
    data = event["data"]
    if event["type"] == "resumed":
        return int(data["downtime_ms"])
    if event["type"] == "clock_gap":
        return int(data["gap_ms"] if data["slept_ms"] is None else data["slept_ms"])
    return 0


class Clock(Protocol):
    def wall_ms(self) -> int: ...

    def mono_ms(self) -> int: ...

    def uptime_ms(self) -> int | None: ...


def _kernel_uptime_ms() -> int | None:
    """The kernel's time since boot (suspend included), read past the C library's clock calls
    so that a library that fakes time for this process does not fake it."""
    if sys.platform.startswith("linux"):
        try:
            return int(float(Path("/proc/uptime").read_text().split()[0]) * 1000)
        except (OSError, ValueError, IndexError):
            return None
    if sys.platform == "win32":  # pragma: no cover - not run here
        import ctypes

        return int(ctypes.windll.kernel32.GetTickCount64())
    return None


class SystemClock:
    def wall_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def mono_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000

    def uptime_ms(self) -> int | None:
        return _kernel_uptime_ms()


@dataclass(frozen=True)
class UnlockChecks:
    """What the package gives the client to check a proctor's response, and nothing that
    computes one: a slow-KDF commitment per server-chosen challenge."""

    scrypt_n: int
    challenges: tuple[dict[str, str], ...]

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> UnlockChecks:
        return cls(int(value["scrypt_n"]), tuple(dict(c) for c in value["challenges"]))

    def challenge(self, index: int) -> str | None:
        return self.challenges[index]["challenge"] if index < len(self.challenges) else None

    def matches(self, index: int, response: str) -> bool:
        if index >= len(self.challenges):
            return False
        return crypto.response_matches_commitment(self.challenges[index], self.scrypt_n, response)


@dataclass(frozen=True)
class UnlockAttempt:
    # try_unlock: "accepted", "wrong", "wait", "exhausted" or "format" (not a code's shape: not
    # counted); unlock_status: "ready" (a code may be tried now), "wait" or "exhausted"
    outcome: str
    wait_ms: int = 0  # before the next attempt is allowed
    attempts_left: int = 0  # wrong codes still allowed for this lock


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
        unlock: UnlockChecks | None = None,
        deadline_ms: int | None = None,
        release: str = "proctor",
        consent: dict[str, Any] | None = None,
        served: dict[str, Item] | None = None,
        fallback: list[Item] | None = None,
    ) -> None:
        self.sitting_id = sitting_id
        # Adaptive sittings: ``items`` start empty and grow as the server serves them (``served``
        # holds those given before a restart, by id); ``fallback`` is the package's linear form,
        # appended if the server cannot be reached. None: a linear sitting.
        self.adaptive = served is not None
        self._served = dict(served or {})
        self.positions: dict[str, int] = {}  # served item id -> its position on the server
        self.fallback = list(fallback or [])
        self.fell_back = False
        self.went_on = False  # the candidate went on from the last item given: fetch the next
        # After a restart on the last item given: whether its answer already went is asked of
        # the server (an empty request) before the candidate may change it.
        self.confirming = False
        # The candidate's choice, made before the clock starts, of whether the inviting
        # organisation may see the result ({"organisation": id, "share": bool}); journalled
        # (so signed in the submission) just before the start.
        self.consent = consent
        # Who lifts a lock: "proctor" (a response code) or "candidate" (after a pause).
        self.release = release
        # When the sitting must end by the wall clock whatever time is left: the server's end
        # of an online sitting, or the close of an offline sitting's window.
        self.deadline_ms = deadline_ms
        self.policy = policy or Policy()
        self.unlock_checks = unlock or UnlockChecks(crypto.UNLOCK_SCRYPT_N, ())
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
        self._charged_ms = 0  # time charged before the current run (a run ends at a restart)
        self._run: tuple[int, int | None] | None = None  # (mono, uptime) when this run began
        self._run_gaps_ms = 0  # kernel time the machine slept in this run (not charged)
        self._mark: tuple[int, int, int | None] | None = None  # the clocks at the last look
        self._slowed_reported = False
        self._last_write_mono = 0
        self._locked = False
        self.save_failures = 0  # writes that failed since the last one that worked
        self._save_error = ""
        self.lock_challenge: str | None = None
        self.lock_index = 0  # locks so far: the next lock uses this challenge
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
            elif kind == "served" and data["item"] in self._served:
                self.items.append(self._served[data["item"]])
                self.positions[data["item"]] = data["position"]
                position = {item.id: number for number, item in enumerate(self.items)}
            elif kind == "fallback":
                self.fell_back = True
                self.items.extend(self.fallback)
                position = {item.id: number for number, item in enumerate(self.items)}
            elif kind == "advance":
                self.index = position.get(data["to"], self.index)
            elif kind == "ended":
                self.end_reason = data["reason"]
                self.ended_at_ms = event["at_ms"]
            elif kind == "locked":
                self._locked, self.lock_challenge = True, data["challenge"]
                self.lock_index = data["index"] + 1
            elif kind in ("unlocked", "released"):
                self._locked, self.lock_challenge = False, None
            elif kind == "clock_slowed":
                self._slowed_reported = True
        last = history[-1]
        self._charged_ms = last["elapsed_ms"]
        self.confirming = self.adaptive and not self.fell_back and bool(self.items)
        # Stopped between a served question and the move to it: the move is made on resume.
        catch_up = self.adaptive and not self.fell_back and self.index + 1 < len(self.items)
        if self.end_reason is not None:
            self.state = "ended"
        elif self.started_at_ms is not None:
            self.state = "running"
            self._begin_run()
            downtime = self._downtime_since(last)
            self._write_now("resumed", {"downtime_ms": downtime, "item": self.current_id()})
            if catch_up:
                self._write_now(
                    "advance", {"from": self.items[self.index].id, "to": self.items[-1].id}
                )
                self.index = len(self.items) - 1
            if self.downtime_ms() > self.policy.max_downtime_s * 1000 and (
                self.policy.downtime_action == "void"
            ):
                self.finish("voided")

    def _downtime_since(self, last: dict[str, Any]) -> int:
        """How long the sitting stood still since ``last``: the wall clock's gap, or the
        kernel's uptime gap on the same boot if that is longer (a clock set back is no help)."""
        wall, _mono, uptime = self._now()
        gap = max(0, wall - last["at_ms"])
        if uptime is not None and last["uptime_ms"] is not None and uptime >= last["uptime_ms"]:
            gap = max(gap, uptime - last["uptime_ms"])
        return int(min(gap, 10**10 - 1))

    def downtime_ms(self) -> int:
        """Time the sitting stood still in all: restarts and the machine asleep."""
        return sum(stood_still(e) for e in self.journal.events)

    # -- time ----------------------------------------------------------------------------------
    def _now(self) -> tuple[int, int, int | None]:
        return self.clock.wall_ms(), self.clock.mono_ms(), self.clock.uptime_ms()

    def _begin_run(self) -> None:
        self._mark = self._now()
        self._run = (self._mark[1], self._mark[2])
        self._run_gaps_ms = 0

    def _observe(self) -> list[tuple[str, dict[str, Any]]]:
        """Look at the clocks since the last look; return the clock events that calls for."""
        if self.state != "running" or self._mark is None:
            return []
        now = self._now()
        wall = now[0] - self._mark[0]
        mono = max(0, now[1] - self._mark[1])
        uptime = None
        if now[2] is not None and self._mark[2] is not None:
            uptime = now[2] - self._mark[2]
        self._mark = now
        notes: list[tuple[str, dict[str, Any]]] = []
        asleep = uptime is not None and min(uptime, wall) - mono >= SLEEP_MS
        if asleep or wall - mono >= CLOCK_GAP_MS:
            slept = None if uptime is None else max(0, uptime - mono)
            gap = {"gap_ms": min(max(0, wall - mono), 10**10 - 1), "slept_ms": slept}
            notes.append(("clock_gap", gap))
            self._run_gaps_ms += slept or 0  # asleep: the kernel counted it, it is not charged
        mono_run, uptime_run = self._run_times()
        if (
            uptime_run is not None
            and uptime_run - mono_run > SLOW_TOLERANCE_MS
            and not self._slowed_reported
        ):
            self._slowed_reported = True
            notes.append(("clock_slowed", {"mono_ms": mono_run, "uptime_ms": uptime_run}))
        return notes

    def _run_times(self) -> tuple[int, int | None]:
        """This run's time by the monotonic clock, and by the kernel's (sleep taken out)."""
        assert self._run is not None
        mono = max(0, self.clock.mono_ms() - self._run[0])
        uptime = self.clock.uptime_ms()
        if uptime is None or self._run[1] is None:
            return mono, None
        return mono, max(0, uptime - self._run[1] - self._run_gaps_ms)

    def elapsed_ms(self) -> int:
        """Time charged: the runs before this one, and this run by the monotonic clock or, if
        the kernel counted more (the process's clocks run slow), by the kernel's."""
        if self.state != "running" or self._run is None:
            return self._charged_ms
        mono, uptime = self._run_times()
        return min(self.duration_ms, self._charged_ms + max(mono, uptime or 0))

    def remaining_ms(self) -> int:
        left = self.duration_ms - self.elapsed_ms()
        if self.deadline_ms is not None and self.state == "running":
            left = min(left, self.deadline_ms - self.clock.wall_ms())
        return max(0, left)

    # -- reading -----------------------------------------------------------------------------
    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def current(self) -> Item | None:
        if self.state != "running" or self.index >= len(self.items):
            return None
        return self.items[self.index]

    def current_id(self) -> str | None:
        return self.items[self.index].id if self.index < len(self.items) else None

    def answered(self) -> int:
        return sum(1 for item in self.items if self.answers.get(item.id))

    # -- writing -----------------------------------------------------------------------------
    def _write(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        for note_kind, note in self._observe():
            self._write_now(note_kind, note)
        return self._write_now(kind, data)

    def _write_now(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """Write one event now. If the disk refuses, ``SaveFailed`` is raised and nothing about
        the sitting changes; the first write that works afterwards records the failures."""
        if self.save_failures and kind != "save_failed":
            self._write_now(
                "save_failed", {"failures": self.save_failures, "reason": self._save_error[:200]}
            )
            self.save_failures, self._save_error = 0, ""
        try:
            return self._append(kind, data)
        except SaveFailed as error:
            self.save_failures += 1
            self._save_error = error.reason
            raise

    def _append(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        wall, mono, uptime = self._now()
        times = {
            "at_ms": wall,
            "elapsed_ms": self.elapsed_ms(),
            "mono_ms": mono,
            "uptime_ms": uptime,
        }
        event = self.journal.append(kind, data, times)
        self._last_write_mono = mono
        for listener in list(self.listeners):
            listener(event)
        return event

    def start(self) -> None:
        """Start the clock on the first item."""
        if self.state != "ready":
            return
        self.state = "running"
        self._begin_run()
        assert self._mark is not None
        try:
            if self.consent is not None:
                self._write_now("consent", dict(self.consent))
            started = self._write_now(
                "started", {"items": self.total, "duration_ms": self.duration_ms}
            )
        except SaveFailed:
            self.state, self._run, self._mark = "ready", None, None
            raise
        self.started_at_ms = started["at_ms"]

    def recover(self) -> bool:
        """Try to write again after a failed save; True once the journal takes writes."""
        if not self.save_failures:
            return True
        try:
            self._write_now(
                "save_failed", {"failures": self.save_failures, "reason": self._save_error[:200]}
            )
        except SaveFailed:
            return False
        self.save_failures, self._save_error = 0, ""
        return True

    # -- locks -------------------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        return self._locked and self.state != "ended"

    def _require_running(self) -> Item:
        self._require_unlocked_running()
        if self.index >= len(self.items):  # an adaptive sitting before its first item
            raise SittingClosed()
        return self.items[self.index]

    def lock_reason(self) -> str:
        """Why the sitting is locked, in a sentence (from the journal's last lock)."""
        history = self.journal.events
        reason = next((e["data"]["reason"] for e in reversed(history) if e["type"] == "locked"), "")
        if reason == "program_found":
            program = next(
                (e["data"]["name"] for e in reversed(history) if e["type"] == "program_found"),
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

    def lock(self, reason: str) -> str | None:
        """Lock the sitting (policy) and return the challenge for the proctor: the package's
        next one, or None once all are used (then the lock cannot be lifted on this computer).
        The clock keeps running until a proctor unlocks it."""
        if self.state != "running" or self.locked:
            return self.lock_challenge
        index = self.lock_index
        challenge = self.unlock_checks.challenge(index)
        # Written at once, with nothing between it and the event that called for it: the
        # server expects the lock right after that event.
        self._write_now("locked", {"reason": reason, "challenge": challenge, "index": index})
        self._locked, self.lock_challenge, self.lock_index = True, challenge, index + 1
        return challenge

    def release_wait_ms(self) -> int:
        """For a lock the candidate lifts: how long before they may (0: now)."""
        locked_at = next(
            (e["elapsed_ms"] for e in reversed(self.journal.events) if e["type"] == "locked"),
            self.elapsed_ms(),
        )
        return max(0, locked_at + self.policy.release_wait_s * 1000 - self.elapsed_ms())

    def release_lock(self) -> bool:
        """An unsupervised candidate returns from a lock after the pause; the return is journalled
        (and flagged on the result). False if this sitting's locks need a proctor, or too soon."""
        if not self.locked or self.release != "candidate":
            return False
        self.tick()
        if self.state != "running" or self.release_wait_ms() > 0:
            return False
        self._write("released", {"index": self.lock_index - 1})
        self._locked, self.lock_challenge = False, None
        return True

    def _wrong_attempts(self) -> list[dict[str, Any]]:
        since: list[dict[str, Any]] = []
        for event in self.journal.events:
            if event["type"] == "locked":
                since = []
            elif event["type"] == "unlock_refused" and event["data"]["reason"] == "wrong":
                since.append(event)
        return since

    def unlock_status(self) -> UnlockAttempt:
        """Whether a code may be tried now: how long to wait, and how many wrong codes remain."""
        if self.lock_challenge is None:
            return UnlockAttempt("exhausted")
        wrong = self._wrong_attempts()
        left = MAX_ATTEMPTS - len(wrong)
        if left <= 0:
            return UnlockAttempt("exhausted")
        if len(wrong) >= FREE_ATTEMPTS:
            wait = min(BACKOFF_CAP_MS, BACKOFF_MS * 2 ** (len(wrong) - FREE_ATTEMPTS))
            remaining = wrong[-1]["elapsed_ms"] + wait - self.elapsed_ms()
            if remaining > 0:
                return UnlockAttempt("wait", remaining, left)
        return UnlockAttempt("ready", 0, left)

    def try_unlock(self, response: str) -> UnlockAttempt:
        """Check a proctor's response code against the lock's commitment (offline, one slow KDF)
        and unlock if it matches. Every attempt is journalled, allowed or not."""
        if not self.locked:
            return UnlockAttempt("accepted")
        self.tick()
        response = response.strip()[:40]
        if len(crypto.normalise_unlock_code(response)) != 10:
            return UnlockAttempt("format", 0, self.unlock_status().attempts_left)  # not a try
        status = self.unlock_status()
        attempt = len(self._wrong_attempts()) + 1
        challenge = self.lock_challenge
        if status.outcome != "ready":
            self._write(
                "unlock_refused",
                {
                    "challenge": challenge,
                    "response": response,
                    "attempt": attempt,
                    "reason": status.outcome,
                },
            )
            return status
        index = self.lock_index - 1
        if self.unlock_checks.matches(index, response):
            assert challenge is not None
            self._write("unlocked", {"challenge": challenge, "response": response, "index": index})
            self._locked, self.lock_challenge = False, None
            return UnlockAttempt("accepted")
        self._write(
            "unlock_refused",
            {"challenge": challenge, "response": response, "attempt": attempt, "reason": "wrong"},
        )
        after = self.unlock_status()
        if after.outcome == "exhausted":
            return after
        return UnlockAttempt("wrong", after.wait_ms, after.attempts_left)

    # -- answering ---------------------------------------------------------------------------
    def answer(self, option_ids: list[str]) -> None:
        """Record the choice for the current item; it is on disk when this returns. Once the
        candidate went on from an adaptive sitting's item (its answer is on its way to the
        server), or while a restarted one is checked with the server, nothing changes."""
        if self.adaptive and (self.went_on or self.confirming) and self.at_frontier():
            return
        item = self._require_running()
        if item.id in self.positions and self.positions[item.id] + 1 < len(self.positions):
            return  # a later question was given: this one's answer went with that request
        valid = {option.id for option in item.options}
        chosen = [option for option in option_ids if option in valid]
        if not item.multiple:
            chosen = chosen[-1:]
        self._write("answer", {"item": item.id, "options": chosen})
        self.answers[item.id] = chosen  # only once it is on disk

    def advance(self) -> None:
        """Go to the next item; after the last one the sitting is finished. On the last item an
        adaptive sitting was given, this only notes that the candidate went on (``awaiting``):
        the caller asks the server (``step_request``) and hands what comes back to ``serve`` or
        ``fall_back``."""
        if self.at_frontier():
            self._require_running()
            self.went_on = True
            return
        item = self._require_running()
        if self.index + 1 >= self.total:
            self.finish("finished")
            return
        self._write("advance", {"from": item.id, "to": self.items[self.index + 1].id})
        self.index += 1
        self.went_on = False

    # -- adaptive sittings ---------------------------------------------------------------------
    def at_frontier(self) -> bool:
        """An adaptive sitting on the last item the server gave (or before the first): the
        next one comes from the server."""
        return (
            self.adaptive
            and not self.fell_back
            and self.state == "running"
            and self.index + 1 >= len(self.items)
        )

    def awaiting(self) -> bool:
        """Whether the server's next item is needed now: none given yet, or the candidate went
        on (``advance``) from the last one given."""
        return self.at_frontier() and (not self.items or self.went_on or self.confirming)

    def step_request(self) -> tuple[int | None, list[str] | None]:
        """What to send for the next item: the position and answer of the item on screen
        (none given: an empty answer, a skip), or (None, None) before the first."""
        item = self.current
        if item is None or item.id not in self.positions or self.confirming:
            return None, None
        return self.positions[item.id], list(self.answers.get(item.id, []))

    def serve(self, item: Item, position: int) -> None:
        """Show the item the server gave at ``position`` (already on screen: nothing to do but
        let the candidate go on with it)."""
        if not self.awaiting():
            return
        if item.id in self.positions:
            self.confirming = False
            return
        self._require_unlocked_running()
        self._write("served", {"item": item.id, "position": position})
        self._served[item.id] = item
        self.positions[item.id] = position
        self.items.append(item)
        if len(self.items) > 1:
            self._write("advance", {"from": self.items[self.index].id, "to": item.id})
            self.index = len(self.items) - 1
        self.went_on = self.confirming = False

    def fall_back(self, reason: str) -> None:
        """Continue on the package's linear form: the server cannot be reached. With no form
        left to give, the sitting ends as finished."""
        if not self.adaptive or self.fell_back or self.state != "running":
            return
        self._require_unlocked_running()
        went_on = self.went_on
        self._write("fallback", {"reason": reason[:200]})
        self.fell_back, self.went_on, self.confirming = True, False, False
        self.items.extend(self.fallback)
        # On from the question on screen only if the candidate had gone on from it (after a
        # restart it may still be unanswered: it stays, to be answered offline).
        if self.index + 1 < len(self.items) and self.positions and went_on:
            self._write(
                "advance", {"from": self.items[self.index].id, "to": self.items[self.index + 1].id}
            )
            self.index += 1
        elif not self.items:
            self.finish("finished")

    def _require_unlocked_running(self) -> None:
        self.tick()
        if self.state != "running":
            raise SittingClosed()
        if self.locked:
            raise SittingLocked()

    def record(self, kind: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """Journal an integrity event (focus, keyboard, ...) while the sitting is open."""
        if self.state == "ended":
            return None
        return self._write(kind, data)

    def tick(self) -> None:
        """Call regularly: banks time, ends the sitting at time-up, keeps a heartbeat."""
        if self.state != "running":
            return
        for note_kind, note in self._observe():
            self._write_now(note_kind, note)
        if self.remaining_ms() <= 0:
            self.finish("time_up")
        elif self.clock.mono_ms() - self._last_write_mono >= HEARTBEAT_MS:
            self._write_now("heartbeat", {})

    def finish(self, reason: str) -> None:
        if self.state == "ended":
            return
        ended = self._write_now("ended", {"reason": reason, "answered": self.answered()})
        self._charged_ms = ended["elapsed_ms"]
        self.state = "ended"
        self.end_reason = reason
        self.ended_at_ms = ended["at_ms"]
        self._mark = self._run = None

    def responses(self) -> list[dict[str, Any]]:
        return [
            {"item": item.id, "options": self.answers[item.id]}
            for item in self.items
            if self.answers.get(item.id)
        ]
