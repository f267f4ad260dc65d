"""The lockdown against scripted attacks on a real X server (Xvfb + xdotool), one per test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from shared import crypto, events
from tests.conftest import venv_bin
from tests.proctor.conftest import Child, journal, start_xvfb, wait_for, xdotool

SECRET = bytes(range(32))


def policy(**rules: dict[str, object]) -> str:
    return json.dumps({"rules": rules, "prohibited": ["fakeshare"], "check_interval_s": 1})


def kinds(path: Path) -> list[str]:
    return [str(e["type"]) for e in journal(path)]


@pytest.mark.x11
def test_focus_stolen_past_the_threshold_locks_and_a_proctor_code_unlocks(
    xserver: str, tmp_path: Path, children: Callable[..., Child]
) -> None:
    db = tmp_path / "journal.db"
    exam = children(
        xserver,
        str(db),
        "--secret",
        SECRET.hex(),
        "--policy",
        policy(focus_lost={"action": "warn", "lock_after": 2}),
    )
    intruder = children(xserver, "--intruder")
    xdotool(xserver, "windowfocus", "--sync", intruder.window)
    time.sleep(0.3)  # away for a moment
    xdotool(xserver, "windowfocus", "--sync", exam.window)
    assert "If you leave it once more, the sitting locks" in exam.expect("WARNED")
    xdotool(xserver, "windowfocus", "--sync", intruder.window)
    challenge = exam.expect("LOCKED").split()[1]
    xdotool(xserver, "windowfocus", "--sync", exam.window)

    xdotool(xserver, "type", "--delay", "20", "AAAAA-BBBBB")  # a wrong code
    xdotool(xserver, "key", "Return")
    wait_for(lambda: "unlock_refused" in kinds(db))
    response = crypto.proctor_response(SECRET, "x11", challenge)
    for _ in range(11):
        xdotool(xserver, "key", "BackSpace")
    xdotool(xserver, "type", "--delay", "20", response)
    xdotool(xserver, "key", "Return")
    exam.expect("UNLOCKED")
    recorded = journal(db)
    events.verify_chain(recorded, "x11")
    order = [
        str(e["type"])
        for e in recorded
        if e["type"] in ("focus_lost", "locked", "unlock_refused", "unlocked")
    ]
    assert order == ["focus_lost", "focus_lost", "locked", "unlock_refused", "unlocked"]
    locked = next(e for e in recorded if e["type"] == "locked")
    assert locked["data"] == {"reason": "focus_lost", "challenge": challenge, "index": 0}
    assert "advance" not in kinds(db)  # the Enter that sent the code answered nothing


@pytest.mark.x11
def test_alt_tab_and_print_screen_are_recorded(
    xserver: str, tmp_path: Path, children: Callable[..., Child]
) -> None:
    db = tmp_path / "journal.db"
    children(xserver, str(db), "--policy", policy())
    xdotool(xserver, "key", "alt+Tab")
    xdotool(xserver, "key", "Print")
    xdotool(xserver, "key", "ctrl+c")
    wait_for(lambda: kinds(db).count("key_blocked") >= 3)
    combos = [e["data"]["combo"] for e in journal(db) if e["type"] == "key_blocked"]  # type: ignore[index]
    assert combos[:3] == ["alt+tab", "print_screen", "ctrl+c"]
    started = next(e for e in journal(db) if e["type"] == "lockdown_started")
    assert started["data"] == {
        "platform": "X11",
        "capture_protection": False,
        "keyboard_monitor": True,
    }


@pytest.mark.x11
def test_the_clipboard_set_by_another_process_is_cleared_and_recorded(
    xserver: str, tmp_path: Path, children: Callable[..., Child]
) -> None:
    if not shutil.which("xclip"):
        pytest.fail("xclip is missing (installed by .ci/run)") if os.environ.get(
            "EXAMGATE_REQUIRE_X"
        ) == "1" else pytest.skip("xclip is not installed")
    db = tmp_path / "journal.db"
    children(xserver, str(db), "--policy", policy())
    env = dict(os.environ, DISPLAY=xserver)
    subprocess.run(
        ["xclip", "-selection", "clipboard"], input=b"answers.txt", env=env, check=True, timeout=10
    )
    wait_for(lambda: "clipboard_used" in kinds(db))
    content = subprocess.run(
        ["xclip", "-o", "-selection", "clipboard"], env=env, capture_output=True, timeout=10
    )
    assert b"answers" not in content.stdout


@pytest.mark.x11
def test_a_prohibited_program_started_mid_sitting_is_found_within_the_interval(
    xserver: str, tmp_path: Path, children: Callable[..., Child]
) -> None:
    db = tmp_path / "journal.db"
    exam = children(xserver, str(db), "--policy", policy(program_found={"action": "lock"}))
    program = tmp_path / "fakeshare"
    shutil.copy("/bin/sleep", program)
    started = time.monotonic()
    running = subprocess.Popen([str(program), "60"])
    try:
        exam.expect("LOCKED", timeout=10)
        found_after = time.monotonic() - started
    finally:
        running.kill()
        running.wait()
    found = next(e for e in journal(db) if e["type"] == "program_found")
    assert exam.process.poll() is None  # still running, showing the lock screen
    assert found["data"] == {"name": "fakeshare", "pid": running.pid}
    assert found_after < 1 + 2  # the check interval (1 s) and start-up slack


@pytest.mark.x11
def test_two_screens_at_the_start_refuse_the_start_with_an_explanation(tmp_path: Path) -> None:
    process, display = start_xvfb("1280x800x24", "1024x768x24")  # two X screens
    try:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        done = subprocess.run(
            [venv_bin("examgate-client"), "check", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, done.stderr
        report = json.loads(done.stdout)
        displays = next(c for c in report["checks"] if c["name"] == "displays")
        assert displays["status"] == "fail" and "2 displays are connected" in displays["detail"]
        assert "Unplug" in displays["action"] and report["ready"] is False
        child = subprocess.run(
            [sys.executable, "-m", "tests.proctor.x11_sitting", str(tmp_path / "j.db"), "--health"],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            input="",
        )
        assert child.returncode == 3 and child.stdout.startswith("REFUSED")
        assert not (tmp_path / "j.db").exists() or "started" not in child.stdout
    finally:
        process.terminate()
        process.wait(timeout=10)
