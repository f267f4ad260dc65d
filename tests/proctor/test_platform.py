"""The platform interface: one guard per operating system, chosen by platform.

The Windows and macOS guards cannot run here; they are exercised against stand-ins for
user32 and NSWindow that record the calls the documented APIs would receive.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from client.proctor.platform import (
    NS_WINDOW_SHARING_NONE,
    WDA_EXCLUDEFROMCAPTURE,
    FallbackGuard,
    MacGuard,
    PlatformGuard,
    WindowsGuard,
    X11Guard,
    platform_guard,
)


class StandInUser32:
    """Records SetWindowDisplayAffinity calls (Windows is not available here)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def SetWindowDisplayAffinity(self, hwnd: int, affinity: int) -> int:
        self.calls.append((hwnd, affinity))
        return 1


class StandInNSWindow:
    """Records sharingType changes (macOS is not available here)."""

    def __init__(self) -> None:
        self.sharing = 1  # NSWindowSharingReadOnly, the default

    def setSharingType_(self, value: int) -> None:
        self.sharing = value

    def sharingType(self) -> int:
        return self.sharing


def test_the_guard_follows_the_platform() -> None:
    assert isinstance(platform_guard("linux", "xcb"), X11Guard)
    assert isinstance(platform_guard("linux", "wayland"), FallbackGuard)
    assert isinstance(platform_guard("linux", "offscreen"), FallbackGuard)
    assert platform_guard("linux", "offscreen").name == "offscreen"


def test_every_guard_offers_the_same_interface(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    guards: list[PlatformGuard] = [
        X11Guard(),
        FallbackGuard("wayland"),
        WindowsGuard(StandInUser32()),
        MacGuard(lambda _w: StandInNSWindow()),
    ]
    for guard in guards:
        assert isinstance(guard.name, str) and guard.name
        assert isinstance(guard.exclude_from_capture(window), bool)
        assert isinstance(guard.suppress("alt+tab"), bool)
        assert guard.suppress("ctrl+alt+delete") is False  # the secure attention key: seen only


def test_windows_excludes_the_window_from_capture(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    user32 = StandInUser32()
    assert WindowsGuard(user32).exclude_from_capture(window) is True
    assert user32.calls == [(int(window.winId()), WDA_EXCLUDEFROMCAPTURE)]


def test_macos_sets_the_window_sharing_type_to_none(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    ns_window = StandInNSWindow()
    seen: list[Any] = []
    guard = MacGuard(lambda w: seen.append(w) or ns_window)
    assert guard.exclude_from_capture(window) is True
    assert seen == [window] and ns_window.sharing == NS_WINDOW_SHARING_NONE


def test_x11_and_fallback_cannot_exclude_capture(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    assert X11Guard().exclude_from_capture(window) is False
    assert X11Guard().suppress("alt+tab") and not X11Guard().suppress("print_screen")
    assert not MacGuard(lambda _w: None).suppress("alt+tab")  # recorded only on macOS
    assert not FallbackGuard("wayland").suppress("alt+tab")


def test_the_windows_keyboard_filter_swallows_what_the_guard_allows() -> None:
    """pynput's win32_event_filter, fed the KBDLLHOOKSTRUCT fields it receives on Windows."""
    from types import SimpleNamespace

    from client.proctor.keyboard import LLKHF_ALTDOWN, KeyboardMonitor, windows_combo

    assert windows_combo(0x09, LLKHF_ALTDOWN) == "alt+tab"
    assert windows_combo(0x09, 0) is None  # plain Tab is typing
    assert windows_combo(0x5B, 0) == "super" and windows_combo(0x2C, 0) == "print_screen"
    monitor = KeyboardMonitor(suppress=WindowsGuard(StandInUser32()).suppress)
    swallowed: list[str] = []
    monitor.listener = SimpleNamespace(suppress_event=lambda: swallowed.append("x"))
    seen: list[str] = []
    monitor.pressed.connect(seen.append)
    monitor._windows_filter(0x100, SimpleNamespace(vkCode=0x09, flags=LLKHF_ALTDOWN))
    monitor._windows_filter(0x100, SimpleNamespace(vkCode=0x41, flags=0))  # the letter A
    assert seen == ["alt+tab"] and swallowed == ["x"]
