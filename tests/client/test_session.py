"""The exam session driven with a manual clock: no window, no network, no sleeping."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.errors import SittingClosed, SittingLocked
from client.journal import Journal
from client.session import HEARTBEAT_MS, ExamSession, Item, Option
from client.store import connect
from shared import events
from tests.conftest import ManualClock

ITEMS = [
    Item(
        f"q{n}",
        "cnn",
        f"Question {n}?",
        tuple(Option(f"q{n}o{k}", f"option {k}") for k in range(4)),
        multiple=False,
    )
    for n in range(3)
]


def session_at(path: Path, clock: ManualClock, duration_s: int = 60) -> ExamSession:
    return ExamSession("sitting-1", ITEMS, duration_s, Journal(connect(path), "sitting-1"), clock)


def test_a_sitting_runs_item_by_item_to_the_end(tmp_path: Path, clock: ManualClock) -> None:
    session = session_at(tmp_path / "j.db", clock)
    assert session.state == "ready" and session.current is None
    session.start()
    for n in range(3):
        assert session.current == ITEMS[n]
        session.answer([f"q{n}o1"])
        clock.advance(5_000)
        session.advance()
    assert session.state == "ended" and session.end_reason == "finished"
    assert session.responses() == [{"item": f"q{n}", "options": [f"q{n}o1"]} for n in range(3)]
    assert session.elapsed_ms() == 15_000
    with pytest.raises(SittingClosed):
        session.answer(["q0o0"])


def test_time_up_ends_the_sitting_by_itself(tmp_path: Path, clock: ManualClock) -> None:
    session = session_at(tmp_path / "j.db", clock, duration_s=60)
    session.start()
    session.answer(["q0o2"])
    clock.advance(59_000)
    session.tick()
    assert session.state == "running" and session.remaining_ms() == 1_000
    clock.advance(1_000)
    session.tick()
    assert session.state == "ended" and session.end_reason == "time_up"
    assert session.journal.events[-1]["type"] == "ended"
    assert session.responses() == [{"item": "q0", "options": ["q0o2"]}]


def test_every_answer_is_on_disk_when_answer_returns(tmp_path: Path, clock: ManualClock) -> None:
    session = session_at(tmp_path / "j.db", clock)
    session.start()
    session.answer(["q0o3"])
    # A second, independent connection (another process after a crash) sees it at once.
    other = connect(tmp_path / "j.db")
    stored = Journal(other, "sitting-1").events
    assert stored[-1]["type"] == "answer" and stored[-1]["data"] == {
        "item": "q0",
        "options": ["q0o3"],
    }
    events.verify_chain(stored, "sitting-1")
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_crashed_sitting_resumes_at_the_same_item_with_the_time_left(
    tmp_path: Path, clock: ManualClock
) -> None:
    first = session_at(tmp_path / "j.db", clock, duration_s=60)
    first.start()
    first.answer(["q0o1"])
    clock.advance(10_000)
    first.advance()
    first.answer(["q1o2"])
    clock.advance(4_000)
    # The process dies here. The machine is off for ten minutes.
    clock.advance(600_000)
    resumed = session_at(tmp_path / "j.db", clock, duration_s=60)
    assert resumed.state == "running"
    assert resumed.current == ITEMS[1]
    assert resumed.answers == {"q0": ["q0o1"], "q1": ["q1o2"]}
    # Charged: up to the last journal write (10 s); the downtime is logged, not charged.
    assert resumed.remaining_ms() == 50_000
    resumed_event = resumed.journal.events[-1]
    assert resumed_event["type"] == "resumed" and resumed_event["data"]["downtime_ms"] == 604_000
    events.verify_chain(resumed.journal.events, "sitting-1")


def test_heartbeats_bound_the_time_a_crash_can_win(tmp_path: Path, clock: ManualClock) -> None:
    session = session_at(tmp_path / "j.db", clock)
    session.start()
    clock.advance(HEARTBEAT_MS)
    session.tick()
    assert session.journal.events[-1]["type"] == "heartbeat"
    assert session.journal.events[-1]["elapsed_ms"] == HEARTBEAT_MS


def test_single_answer_items_keep_one_choice_and_unknown_options_are_dropped(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = session_at(tmp_path / "j.db", clock)
    session.start()
    session.answer(["q0o1", "q0o2", "not-an-option"])
    assert session.answers["q0"] == ["q0o2"]


def test_an_ended_sitting_reopens_as_ended(tmp_path: Path, clock: ManualClock) -> None:
    session = session_at(tmp_path / "j.db", clock)
    session.start()
    session.finish("time_up")
    again = session_at(tmp_path / "j.db", clock)
    assert again.state == "ended" and again.end_reason == "time_up"
    assert again.journal.events[-1]["type"] == "ended"  # no "resumed" after the end


def test_a_lock_blocks_answers_names_its_reason_and_survives_reopening(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = session_at(tmp_path / "j.db", clock)
    session.start()
    session.record("program_found", {"name": "anydesk", "pid": 42})
    session.lock("program_found", "ABCD-EFGH")
    assert session.lock_reason().startswith("anydesk, a program that is not allowed")
    with pytest.raises(SittingLocked):
        session.answer(["q0o1"])
    again = session_at(tmp_path / "j.db", clock)
    assert again.locked and again.lock_challenge == "ABCD-EFGH"
    assert not again.try_unlock("WRNG-CODE")  # no proctor secret: nothing unlocks it
    assert again.journal.events[-1]["type"] == "unlock_refused"


def test_the_wall_clock_running_ahead_is_a_clock_gap_not_charged(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = session_at(tmp_path / "j.db", clock)
    session.start()
    session.tick()
    clock.wall += 90_000  # asleep: the monotonic clock stood still
    session.tick()
    gap = session.journal.events[-1]
    assert gap["type"] == "clock_gap" and gap["data"] == {"gap_ms": 90_000}
    assert session.elapsed_ms() == 0
