"""The policy engine (``shared.policy``), event by event, and the candidate's messages."""

from __future__ import annotations

from typing import Any

import pytest

from client.policy import Decision, Policy, PolicyEngine, Rule, message
from shared.errors import MalformedData


def engine(**rules: Rule) -> PolicyEngine:
    return PolicyEngine(Policy(rules={**Policy().rules, **rules}))


def event(kind: str, at_ms: int = 0, **data: Any) -> dict[str, Any]:
    return {"type": kind, "data": data, "elapsed_ms": at_ms}


def told(decision: Decision, **data: Any) -> str:
    return message(decision, data)


def test_focus_losses_warn_then_lock_at_the_threshold() -> None:
    policy = engine(focus_lost=Rule("warn", lock_after=3))
    first = policy.observe(event("focus_lost"))
    assert (first.action, first.remaining) == ("warn", 2)
    assert "2 more and the sitting locks" in told(first)
    assert policy.observe(event("focus_lost")).action == "warn"
    third = policy.observe(event("focus_lost"))
    assert third.action == "lock" and "ask your proctor" in told(third)


def test_time_away_is_measured_between_the_paired_events() -> None:
    policy = engine(focus_lost=Rule("warn", lock_after=5, lock_after_away_s=30))
    policy.observe(event("focus_lost", 1_000))
    back = policy.observe(event("focus_returned", 21_000))
    assert back.action == "record" and back.away_ms == 20_000
    policy.observe(event("focus_lost", 30_000))
    locked = policy.observe(event("focus_returned", 40_000))
    assert policy.away_ms == 30_000 and locked.action == "lock"


def test_a_figure_the_client_writes_into_the_event_is_not_time_away() -> None:
    """+40 s then -40 s of claimed time away must not cancel out: only the times count."""
    policy = engine(focus_lost=Rule("warn", lock_after=9, lock_after_away_s=30))
    policy.observe(event("focus_lost", 0))
    policy.observe(event("focus_returned", 40_000, away_ms=-40_000))
    assert policy.away_ms == 40_000


@pytest.mark.parametrize("action", ["ignore", "record", "warn", "lock", "void"])
def test_each_action_is_applied_as_configured(action: str) -> None:
    decision = engine(clipboard_used=Rule(action)).observe(event("clipboard_used"))
    assert decision.action == action


def test_void_after_a_count() -> None:
    policy = engine(program_found=Rule("lock", void_after=2))
    assert policy.observe(event("program_found")).action == "lock"
    voided = policy.observe(event("program_found"))
    assert voided.action == "void" and "end the sitting now" in told(voided)


def test_kinds_outside_the_policy_are_not_judged() -> None:
    assert not engine().judges("heartbeat") and engine().judges("focus_lost")


def test_policy_round_trips_and_refuses_nonsense() -> None:
    policy = Policy.from_json(
        {
            "rules": {"focus_lost": {"action": "lock", "lock_after": 2}},
            "vm": "block",
            "prohibited": ["AnyDesk"],
            "check_interval_s": 2,
            "max_downtime_s": 90,
            "downtime_action": "void",
        }
    )
    assert Policy.from_json(policy.to_json()) == policy
    assert policy.prohibited == ("anydesk",) and policy.rule("focus_lost").lock_after == 2
    for bad in (
        {"rules": {"focus_lost": {"action": "explode"}}},
        {"rules": {"heartbeat": {"action": "lock"}}},
        {"vm": "maybe"},
        {"rules": {"focus_lost": {"lock_after": 0}}},
        {"check_interval_s": 600},
        {"max_downtime_s": -1},
        {"downtime_action": "ignore"},
    ):
        with pytest.raises(MalformedData):
            Policy.from_json(bad)


def test_a_prohibited_program_is_named_in_the_message() -> None:
    decision = engine(program_found=Rule("warn")).observe(event("program_found", name="anydesk"))
    assert told(decision, name="anydesk").startswith("anydesk is running; it is not allowed")
