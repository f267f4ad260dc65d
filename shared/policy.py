"""Integrity policy: what an assessment does about each kind of event. Shared, so the client
acts on it during the sitting and the server applies the same rules to the event log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import MalformedData

ACTIONS = ("ignore", "record", "warn", "lock", "void")
VM_POLICIES = ("allow", "flag", "block")


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

    def rule(self, kind: str) -> Rule:
        return self.rules.get(kind, Rule("record"))

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Policy:
        if not data:
            return cls()
        rules = dict(DEFAULT_RULES)
        for kind, rule in dict(data.get("rules", {})).items():
            rules[str(kind)] = Rule.from_json(rule)
        vm = data.get("vm", "flag")
        if vm not in VM_POLICIES:
            raise MalformedData(f"Unknown virtual machine policy {vm!r}.")
        prohibited = tuple(str(p).lower() for p in data.get("prohibited", cls().prohibited))
        interval = data.get("check_interval_s", 5)
        if not isinstance(interval, int) or not 1 <= interval <= 60:
            raise MalformedData("Policy 'check_interval_s' must be from 1 to 60.")
        return cls(rules=rules, vm=vm, prohibited=prohibited, check_interval_s=interval)

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": {kind: rule.to_json() for kind, rule in sorted(self.rules.items())},
            "vm": self.vm,
            "prohibited": list(self.prohibited),
            "check_interval_s": self.check_interval_s,
        }
