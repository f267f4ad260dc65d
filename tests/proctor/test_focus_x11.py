"""Focus loss under a real X server: xdotool gives another window the focus and back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.journal import Journal
from client.store import connect
from shared import events
from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def xserver() -> Iterator[str]:
    need(
        bool(shutil.which("Xvfb") and shutil.which("xdotool")),
        "EXAMGATE_REQUIRE_X",
        "Xvfb and xdotool are not installed",
    )
    read, write = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        display = ":" + pipe.readline().strip()
    try:
        yield display
    finally:
        process.terminate()
        process.wait(timeout=10)


class Child:
    def __init__(self, display: str, *args: str) -> None:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.proctor.x11_sitting", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("READY"):
            self.stop()
            pytest.fail(f"the X client did not start: {line!r}")
        self.window = line.split()[1]

    def stop(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


def xdotool(display: str, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=display), check=True)


@pytest.mark.x11
def test_another_window_taking_focus_is_recorded_with_its_duration(
    xserver: str, tmp_path: Path
) -> None:
    journal_db = tmp_path / "journal.db"
    exam = Child(xserver, str(journal_db))
    try:
        intruder = Child(xserver, "--intruder")
    except BaseException:
        exam.stop()
        raise
    try:
        xdotool(xserver, "windowfocus", "--sync", intruder.window)
        away_from = time.monotonic()
        time.sleep(1.5)  # the candidate is away for a while: real time must pass here
        xdotool(xserver, "windowfocus", "--sync", exam.window)
        away_for = time.monotonic() - away_from
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            kinds = [e["type"] for e in Journal(connect(journal_db), "x11").events]
            if "focus_returned" in kinds:
                break
            time.sleep(0.05)
    finally:
        exam.stop()
        intruder.stop()
    recorded = Journal(connect(journal_db), "x11").events
    events.verify_chain(recorded, "x11")
    lost = [e for e in recorded if e["type"] == "focus_lost"]
    returned = [e for e in recorded if e["type"] == "focus_returned"]
    assert len(lost) == 1 and len(returned) == 1
    assert lost[0]["seq"] < returned[0]["seq"]
    away_ms = returned[0]["data"]["away_ms"]
    # Both focus changes reach the client a few ms after xdotool returns, so the recorded time
    # away is close to, not exactly, what the test measured around them.
    assert 1_200 <= away_ms <= away_for * 1000 + 500, (away_ms, away_for)
    assert exam.process.returncode == 0
