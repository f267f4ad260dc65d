"""The health check run before the unlock code is asked for (and by ``examgate-client check``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from client.checks import (
    Check,
    capture_check,
    clipboard_check,
    displays_check,
    keyboard_check,
    programs_check,
    vm_check,
    vm_signals,
)
from client.proctor.keyboard import KeyboardMonitor
from client.proctor.platform import PlatformGuard, platform_guard
from client.proctor.watchers import screen_count
from client.ui.qt import QGuiApplication
from shared.policy import Policy


def keyboard_monitor_works() -> bool:
    """Start the keyboard monitor the lockdown uses, and stop it again."""
    monitor = KeyboardMonitor()
    try:
        return monitor.start()
    finally:
        monitor.stop()


def clipboard_guard_works() -> bool:
    """The lockdown empties the clipboard: try it (after keeping what was there)."""
    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        return False
    clipboard = app.clipboard()
    kept = clipboard.text()
    probe = "examgate clipboard check"
    clipboard.setText(probe)
    works = clipboard.text() == probe
    clipboard.clear()
    works = works and clipboard.text() == ""
    if kept:
        clipboard.setText(kept)  # the check must not eat what the candidate had copied
    return works


def run_health_checks(policy: Policy, guard: PlatformGuard, root: Path = Path("/")) -> list[Check]:
    capture = guard.name in ("Windows", "macOS")
    return [
        displays_check(screen_count()),
        programs_check(policy),
        vm_check(vm_signals(root), policy),
        capture_check(capture, guard.name),
        keyboard_check(keyboard_monitor_works()),
        clipboard_check(clipboard_guard_works()),
    ]


def can_start(checks: list[Check]) -> bool:
    return all(check.status != "fail" for check in checks)


def check_from_terminal(as_json: bool) -> int:
    """``examgate-client check``: run the checks, print them, 1 if a sitting could not start."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    checks = run_health_checks(Policy(), platform_guard())
    del app
    ready = can_start(checks)
    if as_json:
        print(json.dumps({"checks": [c.to_json() for c in checks], "ready": ready}))
    else:
        for check in checks:
            print(f"[{check.status:4}] {check.name}: {check.detail}")
            if check.technical:
                print(f"       details: {check.technical}")
            if check.action:
                print(f"       what to do: {check.action}")
    return 0 if ready else 1
