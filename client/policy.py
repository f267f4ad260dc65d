"""What the candidate is told about each integrity decision. The policy and the engine that
applies it live in ``shared.policy`` (the server replays the same engine over the event log);
this module only words the decisions for the candidate.
"""

from __future__ import annotations

from typing import Any

from shared.policy import ACTIONS, Decision, Policy, PolicyEngine, Rule

__all__ = ["ACTIONS", "Decision", "Policy", "PolicyEngine", "Rule", "message"]


def message(decision: Decision, data: dict[str, Any]) -> str:
    """The sentence for ``decision`` on an event with ``data``."""
    kind, action, count, remaining = (
        decision.kind,
        decision.action,
        decision.count,
        decision.remaining,
    )
    what = {
        "focus_lost": "You left the exam window",
        "focus_returned": "You came back to the exam window",
        "key_blocked": "A shortcut that leaves or captures the exam was pressed",
        "clipboard_used": "Something was put on the clipboard",
        "display_added": "A display was connected",
        "program_found": "A program that is not allowed during the exam is running",
        "clock_gap": "The computer was asleep or locked",
        "clock_slowed": "This computer's clock runs slow",
    }.get(kind, "An integrity event happened")
    if kind == "program_found" and data.get("name"):
        what = f"{data['name']} is running; it is not allowed during the exam"
    if action == "void":
        return f"{what}. The assessment's rules end the sitting now; it will be reviewed."
    if action == "lock":
        return f"{what}. The sitting is locked: ask your proctor to unlock it."
    times = "once" if count == 1 else f"{count} times"
    left = ""
    if remaining is not None and remaining > 0:
        left = f" {remaining} more and the sitting locks."
    # Short enough for three lines of the exam's warning slot at 200% scaling.
    return f"{what} ({times}); this is reported with your result.{left}"
