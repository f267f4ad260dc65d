"""Integrity policy and the one engine that applies it: the client runs ``PolicyEngine`` event by
event during the sitting, and the server replays the whole signed log through the same engine to
see which locks and voids the policy called for.

For each kind of event the policy names an action: ``ignore``, ``record``, ``warn``, ``lock`` the
sitting (a proctor must unlock it) or ``void`` it. A rule can escalate with thresholds:

    "focus_lost": {"action": "warn", "lock_after": 3, "lock_after_away_s": 30}

warns on each focus loss, locks at the third loss or once 30 seconds away in all have passed.
Time away is measured from the paired ``focus_lost`` / ``focus_returned`` events' charged time,
never from a figure the client reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import MalformedData

ACTIONS = ("ignore", "record", "warn", "lock", "void")
VM_POLICIES = ("allow", "flag", "block")
# Who lifts a lock: a proctor's response code, the candidate after a pause (an unsupervised
# sitting, where no proctor exists; the return is flagged on the result), or "auto": a proctor
# for supervised (offline) sittings, the candidate for online ones.
LOCK_RELEASES = ("auto", "proctor", "candidate")
DOWNTIME_ACTIONS = ("flag", "void")


@dataclass(frozen=True)
class Rule:
    action: str = "record"
    lock_after: int | None = None  # lock at this many events of the kind
    lock_after_away_s: int | None = None  # focus: lock once this long away in all
    void_after: int | None = None  # void at this many events of the kind

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rule:
        action = data.get("action", "record")
        if action not in ACTIONS:
            raise MalformedData(f"Unknown policy action {action!r}.")
        numbers = {}
        for name in ("lock_after", "lock_after_away_s", "void_after"):
            value = data.get(name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise MalformedData(f"Policy '{name}' must be a positive whole number.")
            numbers[name] = value
        return cls(action=action, **numbers)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action}
        for name in ("lock_after", "lock_after_away_s", "void_after"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


DEFAULT_RULES: dict[str, Rule] = {
    "focus_lost": Rule("warn", lock_after=3, lock_after_away_s=30),
    "focus_returned": Rule("record"),
    "key_blocked": Rule("warn"),
    "clipboard_used": Rule("warn"),
    "display_added": Rule("lock"),
    "program_found": Rule("lock"),
    "clock_gap": Rule("record"),
    "clock_slowed": Rule("record"),
}


@dataclass(frozen=True)
class Policy:
    rules: dict[str, Rule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    vm: str = "flag"  # a virtual machine: allow, flag (record and report) or block the start
    prohibited: tuple[str, ...] = (
        "anydesk",
        "teamviewer",
        "rustdesk",
        "vncserver",
        "x11vnc",
        "obs",
        "obs64",
        "simplescreenrecorder",
        "kazam",
        "zoom",
        "discord",
        "slack",
        "skype",
        "teams",
        "telegram-desktop",
        "whatsapp",
    )
    check_interval_s: int = 5
    # Time the sitting may stand still in all (the client killed or crashed, the machine
    # asleep), not charged to the candidate; past it the sitting is flagged, or voided.
    max_downtime_s: int = 30
    downtime_action: str = "flag"
    # Whether a sitting without the lockdown and health check (a headless client) is flagged.
    require_lockdown: bool = True
    lock_release: str = "auto"
    # A candidate who lifts their own lock waits this long first (sitting time, clock running).
    release_wait_s: int = 15

    def release_for(self, offline: bool) -> str:
        """Who lifts a lock in this sitting: "proctor" or "candidate"."""
        if self.lock_release == "auto":
            return "proctor" if offline else "candidate"
        return self.lock_release

    def rule(self, kind: str) -> Rule:
        return self.rules.get(kind, Rule("record"))

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Policy:
        if not data:
            return cls()
        rules = dict(DEFAULT_RULES)
        for kind, rule in dict(data.get("rules", {})).items():
            if kind not in DEFAULT_RULES:
                raise MalformedData(f"The policy has a rule for {kind!r}, which it cannot judge.")
            rules[str(kind)] = Rule.from_json(rule)
        vm = data.get("vm", "flag")
        if vm not in VM_POLICIES:
            raise MalformedData(f"Unknown virtual machine policy {vm!r}.")
        prohibited = tuple(str(p).lower() for p in data.get("prohibited", cls().prohibited))
        interval = data.get("check_interval_s", 5)
        if not isinstance(interval, int) or not 1 <= interval <= 60:
            raise MalformedData("Policy 'check_interval_s' must be from 1 to 60.")
        downtime = data.get("max_downtime_s", 30)
        if type(downtime) is not int or not 0 <= downtime <= 86_400:
            raise MalformedData("Policy 'max_downtime_s' must be from 0 to 86400.")
        downtime_action = data.get("downtime_action", "flag")
        if downtime_action not in DOWNTIME_ACTIONS:
            raise MalformedData(f"Unknown downtime action {downtime_action!r}.")
        require_lockdown = data.get("require_lockdown", True)
        if not isinstance(require_lockdown, bool):
            raise MalformedData("Policy 'require_lockdown' must be true or false.")
        lock_release = data.get("lock_release", "auto")
        if lock_release not in LOCK_RELEASES:
            raise MalformedData(f"Unknown lock release {lock_release!r}.")
        release_wait = data.get("release_wait_s", 15)
        if type(release_wait) is not int or not 0 <= release_wait <= 600:
            raise MalformedData("Policy 'release_wait_s' must be from 0 to 600.")
        return cls(
            rules=rules,
            vm=vm,
            prohibited=prohibited,
            check_interval_s=interval,
            max_downtime_s=downtime,
            downtime_action=downtime_action,
            require_lockdown=require_lockdown,
            lock_release=lock_release,
            release_wait_s=release_wait,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": {kind: rule.to_json() for kind, rule in sorted(self.rules.items())},
            "vm": self.vm,
            "prohibited": list(self.prohibited),
            "check_interval_s": self.check_interval_s,
            "max_downtime_s": self.max_downtime_s,
            "downtime_action": self.downtime_action,
            "require_lockdown": self.require_lockdown,
            "lock_release": self.lock_release,
            "release_wait_s": self.release_wait_s,
        }


@dataclass(frozen=True)
class Decision:
    action: str  # one of ACTIONS
    kind: str
    count: int
    remaining: int | None  # events of this kind left before the sitting locks, if it would
    away_ms: int = 0  # for a return to the window: how long this absence lasted


FOCUS_KINDS = ("focus_lost", "focus_returned")
# The kinds the policy judges: what the watchers see, and the session's clock events.
JUDGED_KINDS = frozenset(DEFAULT_RULES)


class PolicyEngine:
    """Counts events and time away, and says what each new event calls for."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.counts: dict[str, int] = {}
        self.away_ms = 0
        self._lost_at: int | None = None

    def judges(self, kind: str) -> bool:
        """Whether events of ``kind`` go through the policy."""
        return kind in JUDGED_KINDS

    def observe(self, event: Mapping[str, Any]) -> Decision:
        """What the policy calls for after ``event`` (a journalled event: type, data, times)."""
        kind = str(event["type"])
        rule = self.policy.rule(kind)
        count = self.counts.get(kind, 0) + 1
        self.counts[kind] = count
        away = 0
        at = int(event.get("elapsed_ms", 0))
        if kind == "focus_lost" and self._lost_at is None:
            self._lost_at = at
        elif kind == "focus_returned" and self._lost_at is not None:
            away = max(0, at - self._lost_at)
            self.away_ms += away
            self._lost_at = None
        action = rule.action
        if rule.void_after is not None and count >= rule.void_after:
            action = "void"
        elif (rule.lock_after is not None and count >= rule.lock_after) or (
            rule.lock_after_away_s is not None
            and kind in FOCUS_KINDS
            and self.away_ms >= rule.lock_after_away_s * 1000
        ):
            action = "lock"
        if kind == "focus_returned":
            # Coming back is judged by the focus rule's time-away threshold, nothing else.
            focus = self.policy.rule("focus_lost")
            if (
                focus.lock_after_away_s is not None
                and self.away_ms >= focus.lock_after_away_s * 1000
            ):
                action = "lock"
        remaining = rule.lock_after - count if rule.lock_after is not None else None
        return Decision(action, kind, count, remaining, away)
