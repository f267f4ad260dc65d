"""The integrity policy of an assessment, applied event by event on the client.

For each kind of event the policy names an action: ``ignore``, ``record``, ``warn``, ``lock``
the sitting (a proctor must unlock it) or ``void`` it. A rule can escalate with thresholds:

    "focus_lost": {"action": "warn", "lock_after": 3, "lock_after_away_s": 30}

warns on each focus loss, locks at the third loss or once 30 seconds away in all have passed.
The policy travels signed in the package header, so the client applies what the employer set,
and the server re-applies it to the event log when it scores (``shared.policy``).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.policy import ACTIONS, Policy, Rule

__all__ = ["ACTIONS", "Decision", "Policy", "PolicyEngine", "Rule"]


@dataclass(frozen=True)
class Decision:
    action: str  # one of ACTIONS
    kind: str
    count: int
    remaining: int | None  # events of this kind left before the sitting locks, if it would
    message: str


class PolicyEngine:
    """Counts events and time away, and says what each new event calls for."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.counts: dict[str, int] = {}
        self.away_ms = 0

    def observe(self, kind: str, data: dict[str, object]) -> Decision:
        rule = self.policy.rule(kind)
        count = self.counts.get(kind, 0) + 1
        self.counts[kind] = count
        if kind == "focus_returned":
            self.away_ms += int(str(data.get("away_ms", 0)))
        action = rule.action
        if rule.void_after is not None and count >= rule.void_after:
            action = "void"
        elif (rule.lock_after is not None and count >= rule.lock_after) or (
            rule.lock_after_away_s is not None
            and kind in ("focus_lost", "focus_returned")
            and self.away_ms >= rule.lock_after_away_s * 1000
        ):
            action = "lock"
        remaining = rule.lock_after - count if rule.lock_after is not None else None
        message = _message(kind, action, count, remaining, data)
        return Decision(action, kind, count, remaining, message)


def _message(
    kind: str, action: str, count: int, remaining: int | None, data: dict[str, object]
) -> str:
    what = {
        "focus_lost": "You left the exam window",
        "focus_returned": "You came back to the exam window",
        "key_blocked": "A keyboard shortcut that leaves or captures the exam was pressed",
        "clipboard_used": "Something was put on the clipboard",
        "display_added": "A display was connected",
        "program_found": "A program that is not allowed during the exam is running",
        "clock_gap": "The computer was asleep or locked",
    }.get(kind, "An integrity event happened")
    if kind == "program_found" and data.get("name"):
        what = f"{data['name']}, a program that is not allowed during the exam, is running"
    if action == "void":
        return f"{what}. The assessment's rules end the sitting now; it will be reviewed."
    if action == "lock":
        return f"{what}. The sitting is locked: ask your proctor to unlock it."
    times = "once" if count == 1 else f"{count} times"
    left = ""
    if remaining is not None and remaining > 0:
        left = f" {remaining} more and the sitting locks until a proctor unlocks it."
    return f"{what} ({times}). This is recorded and reported with your result.{left}"
