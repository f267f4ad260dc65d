"""The exam session driven with a manual clock: no window, no network, no sleeping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from client.errors import SaveFailed, SittingClosed, SittingLocked
from client.journal import Journal
from client.session import BACKOFF_MS, HEARTBEAT_MS, ExamSession, Item, Option, UnlockChecks
from client.store import connect
from shared import crypto, events
from shared.policy import Policy
from tests.conftest import ManualClock

STORAGE = bytes(range(32))
SECRET = bytes(range(100, 132))
SERVER_KEX = crypto.generate_kex_key()
CHECKS = UnlockChecks.from_json(crypto.unlock_commitments(SECRET, "sitting-1", count=3))

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


def journal_at(path: Path) -> Journal:
    journal = Journal(connect(path), "sitting-1", STORAGE)
    journal.open_chain(crypto.public_bytes(SERVER_KEX))
    return journal


def session_at(
    path: Path, clock: ManualClock, duration_s: int = 60, policy: Policy | None = None
) -> ExamSession:
    return ExamSession(
        "sitting-1", ITEMS, duration_s, journal_at(path), clock, policy=policy, unlock=CHECKS
    )


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
    stored = Journal(other, "sitting-1", STORAGE).events
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
    challenge = session.lock("program_found")
    assert challenge == crypto.proctor_challenges(SECRET, "sitting-1")[0]
    assert session.lock_reason().startswith("anydesk, a program that is not allowed")
    with pytest.raises(SittingLocked):
        session.answer(["q0o1"])
    again = session_at(tmp_path / "j.db", clock)
    assert again.locked and again.lock_challenge == challenge
    assert again.try_unlock("WRONG-CODE0").outcome == "wrong"
    assert again.journal.events[-1]["type"] == "unlock_refused"
    response = crypto.proctor_response(SECRET, "sitting-1", challenge)
    assert again.try_unlock(response).outcome == "accepted" and not again.locked
    assert again.journal.events[-1]["data"] == {
        "challenge": challenge,
        "response": response,
        "index": 0,
    }


def test_wrong_codes_back_off_and_run_out_and_a_restart_does_not_reset_them(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = session_at(tmp_path / "j.db", clock)
    session.start()
    challenge = session.lock("focus_lost")
    assert challenge is not None
    for _ in range(3):
        assert session.try_unlock("AAAAA-AAAAA").outcome == "wrong"
    assert session.unlock_status().outcome == "wait"
    again = session_at(tmp_path / "j.db", clock)  # a restart does not lift the wait
    status = again.unlock_status()
    assert status.outcome == "wait" and status.wait_ms == BACKOFF_MS
    right = crypto.proctor_response(SECRET, "sitting-1", challenge)
    assert again.try_unlock(right).outcome == "wait"  # refused unread, and journalled
    assert again.journal.events[-1]["data"]["reason"] == "wait"
    clock.advance(BACKOFF_MS)
    assert again.unlock_status().outcome == "ready"
    assert again.try_unlock(right).outcome == "accepted"


def test_the_locks_beyond_the_packages_challenges_cannot_be_lifted_here(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = session_at(tmp_path / "j.db", clock)
    session.start()
    for index in range(3):
        challenge = session.lock("focus_lost")
        assert session.try_unlock(crypto.proctor_response(SECRET, "sitting-1", str(challenge)))
        assert not session.locked, index
    assert session.lock("focus_lost") is None
    assert session.locked and session.unlock_status().outcome == "exhausted"


def test_the_wall_clock_running_ahead_is_a_clock_gap_not_charged(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = session_at(tmp_path / "j.db", clock)
    session.start()
    session.tick()
    clock.sleep(90_000)  # asleep: the monotonic clock stood still
    session.tick()
    gap = session.journal.events[-1]
    assert gap["type"] == "clock_gap" and gap["data"] == {"gap_ms": 90_000, "slept_ms": 90_000}
    assert session.elapsed_ms() == 0


def test_a_slowed_process_clock_is_charged_by_the_kernels_clock_and_reported(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = session_at(tmp_path / "j.db", clock, duration_s=60)
    session.start()
    for _ in range(30):  # 30 s pass; the process's clocks see 3 s (a x0.1 time-faking library)
        clock.slow(1_000, 0.1)
        session.tick()
    assert session.elapsed_ms() == 30_000
    slowed = [e for e in session.journal.events if e["type"] == "clock_slowed"]
    assert len(slowed) == 1 and slowed[0]["data"] == {"mono_ms": 100, "uptime_ms": 1_000}


def test_downtime_past_the_cap_voids_when_the_policy_says_so(
    tmp_path: Path, clock: ManualClock
) -> None:
    policy = Policy(max_downtime_s=30, downtime_action="void")
    first = session_at(tmp_path / "j.db", clock, policy=policy)
    first.start()
    clock.advance(20_000)  # killed, restarted 20 s later: within the cap
    second = session_at(tmp_path / "j.db", clock, policy=policy)
    assert second.state == "running" and second.downtime_ms() == 20_000
    clock.advance(15_000)  # again: 35 s in all
    third = session_at(tmp_path / "j.db", clock, policy=policy)
    assert third.state == "ended" and third.end_reason == "voided"


def test_the_sitting_ends_at_its_deadline_whatever_time_is_left(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = ExamSession(
        "sitting-1",
        ITEMS,
        600,
        journal_at(tmp_path / "j.db"),
        clock,
        deadline_ms=clock.wall + 90_000,
    )
    session.start()
    assert session.remaining_ms() == 90_000  # the window closes before the 10 minutes are up
    clock.advance(90_000)
    session.tick()
    assert session.state == "ended" and session.end_reason == "time_up"


@pytest.mark.parametrize(
    ("move", "kind"),
    [
        (lambda c: setattr(c, "wall", c.wall + 3_600_000), "clock_gap"),  # set an hour ahead
        (lambda c: setattr(c, "wall", c.wall - 3_600_000), None),  # set an hour back
        (lambda c: c.sleep(600_000), "clock_gap"),  # the lid closed for ten minutes
    ],
)
def test_moving_the_wall_clock_or_suspending_changes_no_remaining_time(
    tmp_path: Path, clock: ManualClock, move: Any, kind: str | None
) -> None:
    session = session_at(tmp_path / "j.db", clock, duration_s=480)
    session.start()
    clock.advance(60_000)
    session.tick()
    assert session.remaining_ms() == 420_000
    move(clock)
    session.tick()
    assert session.remaining_ms() == 420_000
    gaps = [e for e in session.journal.events if e["type"] == "clock_gap"]
    assert [e["type"] for e in gaps] == ([kind] if kind else [])
    clock.advance(30_000)
    session.tick()
    assert session.remaining_ms() == 390_000


# -- adaptive sittings ------------------------------------------------------------------------

SERVED = [
    Item(f"s{n}", "cnn", f"Served {n}?", tuple(Option(f"s{n}o{k}", f"o {k}") for k in range(3)))
    for n in range(3)
]


def adaptive_at(
    path: Path, clock: ManualClock, served: dict[str, Item] | None = None
) -> ExamSession:
    return ExamSession(
        "sitting-1", [], 60, journal_at(path), clock, unlock=CHECKS,
        served=served or {}, fallback=ITEMS,
    )  # fmt: skip


def one_sent(path: Path, clock: ManualClock) -> ExamSession:
    """An adaptive sitting whose first question was answered and gone on from."""
    session = adaptive_at(path, clock)
    session.start()
    session.serve(SERVED[0], 0)
    session.answer(["s0o1"])
    session.advance()
    return session


def test_an_adaptive_sitting_waits_for_the_server_only_when_the_candidate_goes_on(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = adaptive_at(tmp_path / "j.db", clock)
    session.start()
    assert session.awaiting() and session.current is None and session.step_request() == (None, None)
    with pytest.raises(SittingClosed):
        session.answer(["x"])  # nothing to answer before the first item
    session.serve(SERVED[0], 0)
    assert session.current == SERVED[0] and not session.awaiting()
    session.answer(["s0o2"])
    assert not session.awaiting()  # choosing is not going on
    session.advance()
    assert session.awaiting() and session.current == SERVED[0]  # no going anywhere yet
    assert session.step_request() == (0, ["s0o2"])
    session.serve(SERVED[1], 1)
    session.serve(SERVED[1], 1)  # the same step again (a repeated request): nothing twice
    assert session.items == SERVED[:2] and session.index == 1
    session.advance()  # skipped: an empty answer goes
    assert session.step_request() == (1, [])
    kinds = [(e["type"], e["data"]) for e in session.journal.events]
    assert ("served", {"item": "s1", "position": 1}) in kinds
    assert ("advance", {"from": "s0", "to": "s1"}) in kinds
    assert kinds.count(("served", {"item": "s1", "position": 1})) == 1


def test_a_fallback_continues_on_the_package_form_and_survives_a_restart(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = one_sent(tmp_path / "j.db", clock)
    session.fall_back("The exam server cannot be reached.")
    assert session.fell_back and not session.awaiting()
    assert session.current == ITEMS[0] and session.total == 1 + len(ITEMS)
    session.answer(["q0o3"])
    session.advance()
    assert session.current == ITEMS[1]

    again = adaptive_at(tmp_path / "j.db", clock, served={"s0": SERVED[0]})
    assert again.items == [SERVED[0], *ITEMS] and again.current == ITEMS[1]
    assert again.answers == {"s0": ["s0o1"], "q0": ["q0o3"]} and again.fell_back
    for _ in range(2):
        again.advance()
    assert again.state == "ended" and again.end_reason == "finished"


def test_a_restarted_adaptive_sitting_shows_the_items_it_was_given(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = adaptive_at(tmp_path / "j.db", clock)
    session.start()
    for n in range(2):
        session.serve(SERVED[n], n)
        session.answer([f"s{n}o0"])
        session.advance()
    again = adaptive_at(tmp_path / "j.db", clock, served={s.id: s for s in SERVED[:2]})
    assert again.items == SERVED[:2] and again.current == SERVED[1]
    assert again.positions == {"s0": 0, "s1": 1}
    # Whether the last answer went is asked of the server first; till then it stays as it is.
    assert again.awaiting() and again.confirming and again.step_request() == (None, None)
    again.answer(["s1o2"])
    assert again.answers["s1"] == ["s1o0"]
    again.serve(SERVED[1], 1)  # the server: that question is still the one on screen
    assert not again.awaiting() and again.current == SERVED[1]
    again.answer(["s1o2"])
    assert again.answers["s1"] == ["s1o2"]


def test_an_answer_cannot_change_once_the_candidate_went_on(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = adaptive_at(tmp_path / "j.db", clock)
    session.start()
    session.serve(SERVED[0], 0)
    session.answer(["s0o1"])
    session.advance()  # the answer is on its way to the server
    session.answer(["s0o2"])
    assert session.answers["s0"] == ["s0o1"] and session.step_request() == (0, ["s0o1"])


def test_a_restart_without_the_server_leaves_the_question_on_screen_to_be_answered(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = adaptive_at(tmp_path / "j.db", clock)
    session.start()
    session.serve(SERVED[0], 0)  # the candidate is still reading it when the app stops
    again = adaptive_at(tmp_path / "j.db", clock, served={"s0": SERVED[0]})
    again.fall_back("The exam server cannot be reached.")  # the check after the restart failed
    assert again.current == SERVED[0] and not again.awaiting()
    again.answer(["s0o2"])  # answered offline, then on to the sealed form
    again.advance()
    assert again.current == ITEMS[0] and again.answers["s0"] == ["s0o2"]


def test_a_stop_between_a_served_question_and_the_move_to_it_is_caught_up(
    tmp_path: Path, clock: ManualClock
) -> None:
    session = one_sent(tmp_path / "j.db", clock)
    session._write("served", {"item": "s1", "position": 1})  # the app stopped right here
    again = adaptive_at(tmp_path / "j.db", clock, served={s.id: s for s in SERVED[:2]})
    assert again.current == SERVED[1] and again.index == 1
    assert again.journal.events[-1]["data"] == {"from": "s0", "to": "s1"}
    again.answer(["s0o0"])  # only the question on screen can be answered
    assert again.answers == {"s0": ["s0o1"]}


def test_a_failed_move_to_a_served_question_does_not_skip_the_next(
    tmp_path: Path, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = one_sent(tmp_path / "j.db", clock)
    append = session._append

    def full_disk(kind: str, data: dict[str, Any]) -> dict[str, Any]:
        if kind == "advance":
            raise SaveFailed("disk full")
        return append(kind, data)

    monkeypatch.setattr(session, "_append", full_disk)
    with pytest.raises(SaveFailed):
        session.serve(SERVED[1], 1)
    monkeypatch.setattr(session, "_append", append)
    assert session.recover()
    session.answer(["s0o2"])  # the sent answer stays as sent
    session.advance()  # on to the question already given
    assert session.current == SERVED[1] and not session.awaiting()
    assert session.answers == {"s0": ["s0o1"]}
