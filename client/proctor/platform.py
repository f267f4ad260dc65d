"""What each operating system lets the exam do, behind one interface.

    guard = platform_guard()
    guard.exclude_from_capture(window)   # True if the window is now hidden from capture
    guard.suppress(combo)                 # True if this key combination can be swallowed

- Windows: ``SetWindowDisplayAffinity(hwnd, WDA_EXCLUDEFROMCAPTURE)`` (user32, Windows 10 2004+)
  hides the window from screen capture and sharing; a low-level keyboard hook (pynput's
  ``win32_event_filter``) can swallow Alt+Tab, the Windows key and PrintScreen.
  Ctrl+Alt+Del is handled by the secure desktop and can only be seen.
- macOS: ``NSWindow.sharingType = NSWindowSharingNone`` keeps the window out of screenshots and
  screen sharing; shortcuts are recorded (dropping them would need a Quartz event tap and the
  accessibility permission).
- X11 (Linux): there is no capture exclusion; the exam grabs the keyboard (XGrabKeyboard, through
  Qt), so Alt+Tab and the Super key reach the exam rather than the window manager.
- Anything else (Wayland, offscreen): nothing can be excluded or suppressed; events are recorded.

Only the X11 and fallback guards run on this project's Linux machines; the Windows and macOS
guards are written against the documented APIs and tested here against stand-ins.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any, Protocol

from client.ui.qt import QGuiApplication, QWidget

WDA_EXCLUDEFROMCAPTURE = 0x11
NS_WINDOW_SHARING_NONE = 0
# What the Windows low-level keyboard hook swallows (see ``keyboard.windows_combo``).
SUPPRESSIBLE = frozenset({"alt+tab", "super", "print_screen"})


class PlatformGuard(Protocol):
    name: str

    def exclude_from_capture(self, window: QWidget) -> bool: ...

    def suppress(self, combo: str) -> bool: ...


class FallbackGuard:
    """Where the platform offers nothing: record only."""

    def __init__(self, name: str) -> None:
        self.name = name

    def exclude_from_capture(self, window: QWidget) -> bool:
        return False

    def suppress(self, combo: str) -> bool:
        return False


class X11Guard(FallbackGuard):
    def __init__(self) -> None:
        super().__init__("X11")

    def suppress(self, combo: str) -> bool:
        # With the keyboard grabbed, window-manager shortcuts reach the exam instead.
        return combo in {"alt+tab", "super"}


class WindowsGuard:
    name = "Windows"

    def __init__(self, user32: Any = None) -> None:
        self.user32 = user32 if user32 is not None else ctypes.windll.user32  # type: ignore[attr-defined]

    def exclude_from_capture(self, window: QWidget) -> bool:
        return bool(
            self.user32.SetWindowDisplayAffinity(int(window.winId()), WDA_EXCLUDEFROMCAPTURE)
        )

    def suppress(self, combo: str) -> bool:
        return combo in SUPPRESSIBLE


class MacGuard:
    """Capture exclusion only: swallowing keys needs a Quartz event tap with the accessibility
    permission, which this build does not ask for, so shortcuts are recorded, not suppressed."""

    name = "macOS"

    def __init__(self, ns_window_for: Any = None) -> None:
        self.ns_window_for = ns_window_for or _ns_window

    def exclude_from_capture(self, window: QWidget) -> bool:
        ns_window = self.ns_window_for(window)
        if ns_window is None:
            return False
        ns_window.setSharingType_(NS_WINDOW_SHARING_NONE)
        return bool(ns_window.sharingType() == NS_WINDOW_SHARING_NONE)

    def suppress(self, combo: str) -> bool:
        return False


def _ns_window(window: QWidget) -> Any:
    """The NSWindow behind a Qt window (winId is its NSView), through pyobjc."""
    import objc  # type: ignore[import-not-found]  # pyobjc, present on macOS builds

    view = objc.objc_object(c_void_p=int(window.winId()))
    return view.window()


def platform_guard(system: str | None = None, qt_platform: str | None = None) -> PlatformGuard:
    """The guard for this machine (arguments only for tests)."""
    system = system or sys.platform
    if qt_platform is None:
        app = QGuiApplication.instance()
        qt_platform = QGuiApplication.platformName() if app is not None else ""
    if system.startswith("win") and qt_platform == "windows":
        return WindowsGuard()
    if system == "darwin" and qt_platform == "cocoa":
        return MacGuard()
    if qt_platform == "xcb":
        return X11Guard()
    return FallbackGuard(qt_platform or system)
