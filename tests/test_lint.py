"""ruff and mypy pass on the whole tree (the same checks as `make lint`)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import venv_bin

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing() -> None:
    for command in (["check", "."], ["format", "--check", "."]):
        done = subprocess.run(
            [venv_bin("ruff"), *command], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_passes() -> None:
    done = subprocess.run([venv_bin("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
