"""Lockdown for one sitting: every watcher's events go to the journal and through the policy.

Actions: ``warn`` shows a warning that says how many more events the policy allows before it
locks; ``lock`` puts up the lock screen with the package's next challenge (a proctor turns it
into a response code with ``examgate-server proctor-code``, offline; the client can only check
it); ``void`` ends the sitting. A lock is in the journal, so killing the client does not lift it,
and the server replays the same policy over the log, so a lock that was skipped is flagged.
"""

from __future__ import annotations

from typing import Any

from client.errors import SaveFailed
from client.policy import Decision, PolicyEngine, message
from client.proctor.focus import FocusWatcher
from client.proctor.keyboard import KeyboardMonitor
from client.proctor.platform import PlatformGuard, platform_guard
from client.proctor.watchers import ClipboardGuard, DisplayWatcher, ProgramWatcher
from client.session import ExamSession, UnlockAttempt
from client.ui.qt import QObject, QWidget, Signal

# Session events the policy also acts on (written by the session itself, not a watcher).
SESSION_KINDS = ("clock_gap", "clock_slowed")


class Lockdown(QObject):
    warned = Signal(str)
    locked = Signal(str)  # the challenge to read to the proctor ("" once none is left)
    unlocked = Signal()
    voided = Signal(str)
    save_failed = Signal(str)  # an event could not be journalled: the window blocks the exam

    def __init__(
        self,
        window: QWidget,
        session: ExamSession,
        guard: PlatformGuard | None = None,
        keyboard: bool = True,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.session = session
        self.guard = guard or platform_guard()
        self.engine = PolicyEngine(session.policy)
        for event in session.journal.events:  # a resumed sitting keeps its counts
            if self.engine.judges(event["type"]):
                self.engine.observe(event)
        self.focus = FocusWatcher(window, self.observe)
        self.focus.losses = self.engine.counts.get("focus_lost", 0)
        self.clipboard = ClipboardGuard(self)
        self.displays = DisplayWatcher(self)
        self.programs = ProgramWatcher(session.policy, self)
        self.keyboard = KeyboardMonitor(self, self.guard.suppress) if keyboard else None
        for watcher in (self.clipboard, self.displays, self.programs):
            watcher.observed.connect(self.observe)
        if self.keyboard is not None:
            self.keyboard.pressed.connect(self._key)
        self._pending_focus: Decision | None = None
        self.active = False

    def start(self) -> None:
        capture = self.guard.exclude_from_capture(self.window)
        monitor = self.keyboard.start() if self.keyboard is not None else False
        self.session.record(
            "lockdown_started",
            {
                "platform": self.guard.name,
                "capture_protection": capture,
                "keyboard_monitor": monitor,
            },
        )
        self.clipboard.start()
        self.displays.start()
        self.programs.start()
        self.session.listeners.append(self._session_event)
        self.active = True

    def stop(self) -> None:
        if not self.active:
            return
        self.active = False
        self.focus.stop()
        self.clipboard.stop()
        self.displays.stop()
        self.programs.stop()
        if self.keyboard is not None:
            self.keyboard.stop()
        if self._session_event in self.session.listeners:
            self.session.listeners.remove(self._session_event)

    # -- events -------------------------------------------------------------------------------
    def _key(self, combo: str) -> None:
        self.observe("key_blocked", {"combo": combo, "suppressed": self.guard.suppress(combo)})

    def _session_event(self, event: dict[str, Any]) -> None:
        if event["type"] in SESSION_KINDS:
            self._act(self.engine.observe(event), event["data"])

    def observe(self, kind: str, data: dict[str, Any]) -> None:
        """Journal an event and do what the policy says."""
        try:
            event = self.session.record(kind, data)
            if event is not None:
                self._act(self.engine.observe(event), data)
        except SaveFailed as error:
            self.save_failed.emit(str(error))

    def _act(self, decision: Decision, data: dict[str, Any]) -> None:
        if decision.action == "void":
            self.session.finish("voided")
            self.voided.emit(message(decision, data))
            return
        if decision.kind == "focus_lost":
            self._pending_focus = decision  # shown when the candidate comes back
            if decision.action != "lock":
                return
        if decision.action == "lock":
            self._lock(decision.kind)
            return
        if decision.kind == "focus_returned" and self._pending_focus is not None:
            lost, self._pending_focus = self._pending_focus, None
            seconds = max(1, round(decision.away_ms / 1000))
            self.warned.emit(_focus_message(lost, seconds, self.session.release))
            return
        if decision.action == "warn":
            self.warned.emit(message(decision, data))

    def _lock(self, reason: str) -> None:
        if self.session.locked or self.session.state != "running":
            return
        challenge = self.session.lock(reason)
        self.locked.emit(challenge or "")

    def try_unlock(self, response: str) -> UnlockAttempt:
        attempt = self.session.try_unlock(response)
        if attempt.outcome == "accepted":
            self.unlocked.emit()
        return attempt

    def release(self) -> bool:
        """An unsupervised candidate lifts the lock after the pause (journalled, flagged)."""
        try:
            released = self.session.release_lock()
        except SaveFailed as error:
            self.save_failed.emit(str(error))
            return False
        if released:
            self.unlocked.emit()
        return released


def _focus_message(lost: Decision, seconds: int, release: str = "proctor") -> str:
    """Short enough for three lines of the warning slot at 200% scaling."""
    times = "once" if lost.count == 1 else f"{lost.count} times"
    message = f"You left the exam window for {seconds} s ({times} so far); this is reported."
    if lost.remaining is not None and lost.remaining > 0:
        more = "once more" if lost.remaining == 1 else f"{lost.remaining} more times"
        until = "until a proctor unlocks it" if release == "proctor" else "for a while"
        message += f" If you leave it {more}, the sitting locks {until}."
    return message
