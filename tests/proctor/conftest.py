"""Real X servers (Xvfb) and exam windows in child processes, for the lockdown tests."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from client.journal import Journal
from client.store import connect
from tests.conftest import need
from tests.proctor.harness_keys import STORAGE_KEY

ROOT = Path(__file__).resolve().parents[2]


def start_xvfb(*screens: str, xinerama: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    need(
        bool(shutil.which("Xvfb") and shutil.which("xdotool")),
        "EXAMGATE_REQUIRE_X",
        "Xvfb and xdotool are not installed",
    )
    read, write = os.pipe()
    command = ["Xvfb", "-displayfd", str(write), "-nolisten", "tcp"]
    for number, size in enumerate(screens or ("1280x800x24",)):
        command += ["-screen", str(number), size]
    if xinerama:
        command.append("+xinerama")
    process = subprocess.Popen(command, pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        display = ":" + pipe.readline().strip()
    return process, display


@pytest.fixture
def xserver() -> Iterator[str]:
    process, display = start_xvfb()
    try:
        yield display
    finally:
        process.terminate()
        process.wait(timeout=10)


class Child:
    """A child process showing an exam (or another) window on ``display``."""

    def __init__(self, display: str, *args: str) -> None:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb")
        env.pop("PYNPUT_BACKEND", None)  # the real X backend, not the dummy one
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.proctor.x11_sitting", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._buffer = ""
        ready = self.expect("READY", "REFUSED", timeout=20)
        self.window = ready.split()[1] if ready.startswith("READY") else ""

    def expect(self, *prefixes: str, timeout: float = 10) -> str:
        """The next output line starting with one of ``prefixes`` (fails after ``timeout``)."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while "\n" in self._buffer:
                line, self._buffer = self._buffer.split("\n", 1)
                self.lines.append(line.strip())
                if line.startswith(prefixes):
                    return line.strip()
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                chunk = os.read(fd, 65536)  # raw reads: no text buffer can hide a line from select
                if not chunk:
                    break
                self._buffer += chunk.decode()
        self.stop()
        pytest.fail(f"no {prefixes} from the exam window; it said {self.lines}")

    def stop(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        if self.process.stdin.closed:
            return
        self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


@pytest.fixture
def children() -> Iterator[Callable[..., Child]]:
    started: list[Child] = []

    def start(display: str, *args: str) -> Child:
        child = Child(display, *args)
        started.append(child)
        return child

    yield start
    for child in reversed(started):
        child.stop()


def xdotool(display: str, *args: str) -> None:
    subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=display), check=True)


def journal(path: Path) -> list[dict[str, Any]]:
    return Journal(connect(path), "x11", STORAGE_KEY).events


def wait_for(predicate: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("the expected event never reached the journal")
        time.sleep(0.05)
