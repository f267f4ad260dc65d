"""The desktop client as PyInstaller built it (``make bundle``; CI builds it before the suite):
the one program runs its health check and sits a whole exam against a live server, with no
Python installation behind it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need, serve_process
from tests.e2e.test_simulate import invite

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = Path(
    os.environ.get("EXAMGATE_BUNDLE", ROOT / "build/desktop/dist/examgate-client/examgate-client")
)


@pytest.fixture
def bundle() -> Path:
    need(BUNDLE.exists(), "EXAMGATE_REQUIRE_BUNDLE", f"no built client at {BUNDLE} (make bundle)")
    return BUNDLE


def run(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Only what a desktop session has: no virtual environment, no PYTHONPATH.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return subprocess.run(
        [str(bundle), *args], capture_output=True, text=True, timeout=180, env=env, cwd="/"
    )


def test_the_built_client_runs_its_health_check(bundle: Path) -> None:
    done = run(bundle, "check", "--json")
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert isinstance(report["ready"], bool)
    assert {"displays", "programs", "clipboard"} <= {c["name"] for c in report["checks"]}


def test_the_built_client_sits_an_exam_against_a_live_server(bundle: Path, tmp_path: Path) -> None:
    with serve_process(tmp_path) as (url, data):
        invitation = invite(data, "--offline")
        done = run(
            bundle, "simulate", "--server", url, "--home", str(tmp_path / "home"), "--json",
            "--invite", invitation["invitation"], "--unlock", invitation["unlock_code"],
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert summary["answered"] == 20 and summary["end_reason"] == "finished"
        certificate = Path(summary["certificate"])
        assert certificate.read_bytes().startswith(b"%PDF")
