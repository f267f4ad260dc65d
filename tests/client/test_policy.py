"""The policy engine, event by event, with no window."""

from __future__ import annotations

import pytest

from client.policy import Policy, PolicyEngine, Rule
from shared.errors import MalformedData


def engine(**rules: Rule) -> PolicyEngine:
    return PolicyEngine(Policy(rules={**Policy().rules, **rules}))


def test_focus_losses_warn_then_lock_at_the_threshold() -> None:
    policy = engine(focus_lost=Rule("warn", lock_after=3))
    first = policy.observe("focus_lost", {})
    assert (first.action, first.remaining) == ("warn", 2)
    assert "2 more and the sitting locks" in first.message
    assert policy.observe("focus_lost", {}).action == "warn"
    third = policy.observe("focus_lost", {})
    assert third.action == "lock" and "ask your proctor" in third.message


def test_time_away_in_all_locks_even_below_the_count() -> None:
    policy = engine(focus_lost=Rule("warn", lock_after=5, lock_after_away_s=30))
    policy.observe("focus_lost", {})
    assert policy.observe("focus_returned", {"away_ms": 20_000}).action == "record"
    policy.observe("focus_lost", {})
    assert policy.observe("focus_returned", {"away_ms": 10_000}).action == "record"
    assert policy.away_ms == 30_000
    assert policy.observe("focus_lost", {}).action == "lock"


@pytest.mark.parametrize("action", ["ignore", "record", "warn", "lock", "void"])
def test_each_action_is_applied_as_configured(action: str) -> None:
    decision = engine(clipboard_used=Rule(action)).observe("clipboard_used", {})
    assert decision.action == action


def test_void_after_a_count() -> None:
    policy = engine(program_found=Rule("lock", void_after=2))
    assert policy.observe("program_found", {}).action == "lock"
    voided = policy.observe("program_found", {})
    assert voided.action == "void" and "end the sitting now" in voided.message


def test_unknown_events_are_recorded() -> None:
    assert engine().observe("something_new", {}).action == "record"


def test_policy_round_trips_and_refuses_nonsense() -> None:
    policy = Policy.from_json(
        {
            "rules": {"focus_lost": {"action": "lock", "lock_after": 2}},
            "vm": "block",
            "prohibited": ["AnyDesk"],
            "check_interval_s": 2,
        }
    )
    assert Policy.from_json(policy.to_json()) == policy
    assert policy.prohibited == ("anydesk",) and policy.rule("focus_lost").lock_after == 2
    for bad in (
        {"rules": {"x": {"action": "explode"}}},
        {"vm": "maybe"},
        {"rules": {"x": {"lock_after": 0}}},
        {"check_interval_s": 600},
    ):
        with pytest.raises(MalformedData):
            Policy.from_json(bad)


def test_a_prohibited_program_is_named_in_the_message() -> None:
    decision = engine(program_found=Rule("warn")).observe("program_found", {"name": "anydesk"})
    assert decision.message.startswith("anydesk, a program that is not allowed")
