"""The pre-sitting health check, minus what needs Qt: programs and virtual-machine signals.

Each check gives ``ok``, ``warn`` or ``fail`` with a plain explanation and what to do. Only a
``fail`` stops the start. A virtual machine is judged from several independent signals, and one
weak signal alone (a hypervisor CPU flag, which Windows hosts with virtualisation-based security
also show) is never enough to call a physical machine virtual.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil

from shared.policy import Policy

VM_VENDORS = re.compile(
    r"vmware|virtualbox|innotek|qemu|kvm|xen|parallels|bochs|bhyve|microsoft corporation virtual"
    r"|virtual machine|openstack|amazon ec2|google compute",
    re.IGNORECASE,
)
VM_MODULES = (
    "vboxguest",
    "vboxsf",
    "vmw_balloon",
    "vmwgfx",
    "virtio_balloon",
    "xen_blkfront",
    "hv_vmbus",
    "prl_tg",
)
VM_MAC_PREFIXES = {
    "08:00:27": "VirtualBox",
    "0a:00:27": "VirtualBox",
    "00:05:69": "VMware",
    "00:0c:29": "VMware",
    "00:1c:14": "VMware",
    "00:50:56": "VMware",
    "52:54:00": "QEMU/KVM",
    "00:16:3e": "Xen",
    "00:15:5d": "Hyper-V",
    "00:1c:42": "Parallels",
}
STRONG = ("firmware", "kernel module", "container")


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok" | "warn" | "fail"
    detail: str
    action: str = ""
    technical: str = ""  # the evidence, for a details line and the journal (not the headline)

    def to_json(self) -> dict[str, str]:
        detail = f"{self.detail} ({self.technical})" if self.technical else self.detail
        return {
            "name": self.name,
            "status": self.status,
            "detail": detail[:2000],
            "action": self.action,
        }


@dataclass(frozen=True)
class Signal:
    source: str  # firmware, cpu, kernel module, network, container
    evidence: str


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def vm_signals(root: Path = Path("/")) -> list[Signal]:
    """Independent signs that this machine is virtual (Linux sources; see ``platform`` for
    Windows and macOS)."""
    found: list[Signal] = []
    dmi = root / "sys/class/dmi/id"
    for field in ("sys_vendor", "product_name", "board_vendor", "bios_vendor"):
        value = _read(dmi / field).strip()
        if value and VM_VENDORS.search(value):
            found.append(Signal("firmware", f"{field} is '{value}'"))
    if re.search(r"^flags\s*:.*\bhypervisor\b", _read(root / "proc/cpuinfo"), re.MULTILINE):
        found.append(Signal("cpu", "the processor reports the 'hypervisor' flag"))
    modules = {line.split()[0] for line in _read(root / "proc/modules").splitlines() if line}
    for module in VM_MODULES:
        if module in modules:
            found.append(Signal("kernel module", f"the guest driver '{module}' is loaded"))
    net = root / "sys/class/net"
    for interface in sorted(net.iterdir()) if net.is_dir() else []:
        mac = _read(interface / "address").strip().lower()
        vendor = VM_MAC_PREFIXES.get(mac[:8])
        if vendor:
            found.append(Signal("network", f"{interface.name} has a {vendor} address ({mac})"))
    for marker in (".dockerenv", "run/.containerenv"):
        if (root / marker).exists():
            found.append(Signal("container", f"/{marker} exists"))
    return found


def vm_check(signals: list[Signal], policy: Policy) -> Check:
    if not signals:
        return Check("virtual machine", "ok", "No sign of a virtual machine.")
    names = "; ".join(f"{s.source}: {s.evidence}" for s in signals)
    likely = any(s.source in STRONG for s in signals) or len({s.source for s in signals}) >= 2
    if not likely:
        return Check(
            "virtual machine",
            "ok",
            "No clear sign of a virtual machine.",
            technical=f"one weak sign, common on physical machines: {names}",
        )
    if policy.vm == "allow":
        return Check(
            "virtual machine",
            "ok",
            "This may be a virtual machine; that is allowed here.",
            technical=names,
        )
    if policy.vm == "flag":
        return Check(
            "virtual machine",
            "warn",
            "This looks like a virtual machine. You may continue; it is recorded with your result.",
            technical=names,
        )
    return Check(
        "virtual machine",
        "fail",
        "This looks like a virtual machine, which this assessment does not allow.",
        "Sit the exam on a physical computer, or ask the organiser.",
        technical=names,
    )


def running_programs() -> list[tuple[int, str]]:
    """(pid, lower-case name without extension) of every process this user can see."""
    found = []
    for process in psutil.process_iter(["pid", "name"]):
        name = (process.info.get("name") or "").lower()
        found.append((int(process.info["pid"]), name.removesuffix(".exe").removesuffix(".app")))
    return found


def prohibited_running(
    policy: Policy, programs: Iterable[tuple[int, str]] | None = None
) -> list[tuple[int, str]]:
    banned = set(policy.prohibited)
    return [
        (pid, name)
        for pid, name in (programs if programs is not None else running_programs())
        if name in banned
    ]


def programs_check(policy: Policy, programs: Iterable[tuple[int, str]] | None = None) -> Check:
    found = prohibited_running(policy, programs)
    if not found:
        return Check(
            "programs", "ok", "No screen-sharing, recording or messaging program is running."
        )
    names = ", ".join(sorted({name for _, name in found}))
    return Check(
        "programs",
        "fail",
        f"Not allowed during the exam: {names} is running.",
        f"Quit {names} (check the system tray too), then run the check again.",
    )


def displays_check(count: int) -> Check:
    if count <= 1:
        return Check("displays", "ok", "One display.")
    return Check(
        "displays",
        "fail",
        f"{count} displays are connected; the exam needs exactly one.",
        "Unplug or turn off the extra displays (or set them to mirror), then run the check again.",
    )


def keyboard_check(available: bool) -> Check:
    if available:
        return Check(
            "keyboard monitor", "ok", "Shortcuts that leave the exam (like Alt+Tab) are watched."
        )
    return Check(
        "keyboard monitor",
        "warn",
        "Shortcuts that leave the exam cannot be watched on this computer. You may continue: "
        "leaving the exam window is still noticed, and this is recorded with your result.",
    )


def clipboard_check(available: bool) -> Check:
    if available:
        return Check("clipboard", "ok", "The clipboard is emptied and watched during the exam.")
    return Check(
        "clipboard",
        "warn",
        "The clipboard cannot be emptied on this computer. You may continue; this is recorded "
        "with your result.",
    )


def capture_check(available: bool, platform_name: str) -> Check:
    if available:
        return Check("screen capture", "ok", "The exam window is hidden from screen capture.")
    return Check(
        "screen capture",
        "warn",
        f"{platform_name} offers no way to hide a window from screen capture; capture "
        "attempts are watched for instead.",
    )
