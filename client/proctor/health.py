"""The health check run before the unlock code is asked for (and by ``examgate-client check``)."""

from __future__ import annotations

from pathlib import Path

from client.checks import Check, capture_check, displays_check, programs_check, vm_check, vm_signals
from client.proctor.platform import PlatformGuard
from client.proctor.watchers import screen_count
from shared.policy import Policy


def run_health_checks(policy: Policy, guard: PlatformGuard, root: Path = Path("/")) -> list[Check]:
    capture = guard.name in ("Windows", "macOS")
    return [
        displays_check(screen_count()),
        programs_check(policy),
        vm_check(vm_signals(root), policy),
        capture_check(capture, guard.name),
    ]


def can_start(checks: list[Check]) -> bool:
    return all(check.status != "fail" for check in checks)
