"""Health checks: virtual machines judged from several signals, prohibited programs."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from client.checks import (
    displays_check,
    programs_check,
    prohibited_running,
    vm_check,
    vm_signals,
)
from shared.policy import Policy


def machine(
    root: Path,
    *,
    vendor: str = "",
    product: str = "",
    hypervisor: bool = False,
    modules: str = "",
    mac: str = "",
    container: bool = False,
) -> Path:
    """A /sys and /proc tree as such a machine shows it (files the checks read)."""
    dmi = root / "sys/class/dmi/id"
    dmi.mkdir(parents=True)
    (dmi / "sys_vendor").write_text(vendor + "\n")
    (dmi / "product_name").write_text(product + "\n")
    (root / "proc").mkdir()
    flags = "fpu vme de pse tsc msr" + (" hypervisor" if hypervisor else "")
    (root / "proc/cpuinfo").write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    (root / "proc/modules").write_text(modules)
    if mac:
        (root / "sys/class/net/eth0").mkdir(parents=True)
        (root / "sys/class/net/eth0/address").write_text(mac + "\n")
    if container:
        (root / ".dockerenv").write_text("")
    return root


def test_a_physical_machine_shows_no_signal(tmp_path: Path) -> None:
    root = machine(tmp_path, vendor="Dell Inc.", product="Latitude 7440", mac="f4:8e:38:12:34:56")
    assert vm_signals(root) == []
    assert vm_check([], Policy()).status == "ok"


def test_one_weak_signal_does_not_make_a_physical_machine_virtual(tmp_path: Path) -> None:
    # Windows with virtualisation-based security reports the hypervisor flag on real hardware.
    root = machine(tmp_path, vendor="LENOVO", product="20XW", hypervisor=True)
    signals = vm_signals(root)
    assert [s.source for s in signals] == ["cpu"]
    check = vm_check(signals, Policy(vm="block"))
    assert check.status == "ok" and "common on physical machines" in check.technical


def test_a_virtualbox_guest_is_named_by_each_signal(tmp_path: Path) -> None:
    root = machine(
        tmp_path,
        vendor="innotek GmbH",
        product="VirtualBox",
        hypervisor=True,
        modules="vboxguest 430080 2 vboxsf, Live 0x0\n",
        mac="08:00:27:aa:bb:cc",
    )
    signals = vm_signals(root)
    assert {s.source for s in signals} == {"firmware", "cpu", "kernel module", "network"}
    blocked = vm_check(signals, Policy(vm="block"))
    assert blocked.status == "fail" and "VirtualBox" in blocked.technical and blocked.action
    assert "VirtualBox" in blocked.to_json()["detail"]  # the evidence is journalled
    assert vm_check(signals, Policy(vm="flag")).status == "warn"
    assert vm_check(signals, Policy(vm="allow")).status == "ok"


def test_a_container_is_a_strong_signal(tmp_path: Path) -> None:
    signals = vm_signals(machine(tmp_path, vendor="HP", container=True))
    assert [s.source for s in signals] == ["container"]
    assert vm_check(signals, Policy(vm="block")).status == "fail"


def test_a_running_prohibited_program_is_named(tmp_path: Path) -> None:
    program = tmp_path / "anydesk"
    shutil.copy("/bin/sleep", program)
    running = subprocess.Popen([str(program), "30"])
    try:
        deadline = time.monotonic() + 5
        while not prohibited_running(Policy()) and time.monotonic() < deadline:
            time.sleep(0.05)
        check = programs_check(Policy())
        assert check.status == "fail" and "anydesk is running" in check.detail
        assert "Quit anydesk" in check.action
        assert (running.pid, "anydesk") in prohibited_running(Policy())
    finally:
        running.kill()
        running.wait()
    assert programs_check(Policy(prohibited=("no-such-program",))).status == "ok"


def test_more_than_one_display_fails_with_what_to_do() -> None:
    assert displays_check(1).status == "ok"
    two = displays_check(2)
    assert two.status == "fail" and "2 displays" in two.detail and "Unplug" in two.action
