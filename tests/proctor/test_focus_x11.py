"""Focus loss under a real X server: xdotool gives another window the focus and back."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shared import events
from tests.proctor.conftest import Child, journal, wait_for, xdotool


@pytest.mark.x11
def test_another_window_taking_focus_is_recorded_with_its_duration(
    xserver: str, tmp_path: Path, children: Callable[..., Child]
) -> None:
    journal_db = tmp_path / "journal.db"
    exam = children(xserver, str(journal_db))
    intruder = children(xserver, "--intruder")
    xdotool(xserver, "windowfocus", "--sync", intruder.window)
    away_from = time.monotonic()
    time.sleep(1.5)  # the candidate is away for a while: real time must pass here
    xdotool(xserver, "windowfocus", "--sync", exam.window)
    away_for = time.monotonic() - away_from
    warning = exam.expect("WARNED")
    assert "You left the exam window for" in warning and "2 more times" in warning
    wait_for(lambda: any(e["type"] == "focus_returned" for e in journal(journal_db)))
    exam.stop()
    recorded = journal(journal_db)
    events.verify_chain(recorded, "x11")
    lost = [e for e in recorded if e["type"] == "focus_lost"]
    returned = [e for e in recorded if e["type"] == "focus_returned"]
    assert len(lost) == 1 and len(returned) == 1
    assert int(str(lost[0]["seq"])) < int(str(returned[0]["seq"]))
    away_ms = int(returned[0]["elapsed_ms"]) - int(lost[0]["elapsed_ms"])
    # Both focus changes reach the client a few ms after xdotool returns, so the recorded time
    # away is close to, not exactly, what the test measured around them.
    assert 1_200 <= away_ms <= away_for * 1000 + 500, (away_ms, away_for)
    assert exam.process.returncode == 0
