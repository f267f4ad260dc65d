"""Keyboard monitor: records attempts to leave or capture the exam (Alt+Tab, Super/Cmd,
PrintScreen, copy and paste, Ctrl+Alt+Del where visible), through pynput.

pynput listens on its own thread; each combination is handed to the GUI thread by a queued
Qt signal. Ordinary typing is never recorded, only the combinations below.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from client.ui.qt import QObject, Signal

READY_TIMEOUT_S = 3.0
MODIFIERS = {
    "alt": "alt",
    "alt_l": "alt",
    "alt_r": "alt",
    "alt_gr": "alt",
    "ctrl": "ctrl",
    "ctrl_l": "ctrl",
    "ctrl_r": "ctrl",
    "cmd": "super",
    "cmd_l": "super",
    "cmd_r": "super",
    "shift": "shift",
    "shift_l": "shift",
    "shift_r": "shift",
}


# Windows virtual-key codes and the low-level hook's "Alt is down" flag (LLKHF_ALTDOWN).
VK_TAB, VK_LWIN, VK_RWIN, VK_SNAPSHOT = 0x09, 0x5B, 0x5C, 0x2C
LLKHF_ALTDOWN = 0x20


def windows_combo(vk_code: int, flags: int) -> str | None:
    """What a Windows low-level keyboard event is, if it is one the exam may swallow."""
    if vk_code == VK_TAB and flags & LLKHF_ALTDOWN:
        return "alt+tab"
    if vk_code in (VK_LWIN, VK_RWIN):
        return "super"
    if vk_code == VK_SNAPSHOT:
        return "print_screen"
    return None


def combo_for(key_name: str, held: set[str]) -> str | None:
    """The combination a key press makes with the modifiers held, if it is one we watch."""
    if key_name in ("print_screen", "print"):
        return "print_screen"
    if key_name in ("cmd", "cmd_l", "cmd_r"):
        return "super"
    if key_name == "tab" and "alt" in held:
        return "alt+tab"
    if key_name == "tab" and "super" in held:
        return "super+tab"
    if key_name in ("delete", "del") and {"ctrl", "alt"} <= held:
        return "ctrl+alt+delete"
    if key_name in ("c", "v", "x") and "ctrl" in held:
        return f"ctrl+{key_name}"
    if key_name in ("c", "v", "x") and "super" in held:
        return f"cmd+{key_name}"
    return None


class KeyboardMonitor(QObject):
    pressed = Signal(str)

    def __init__(
        self, parent: QObject | None = None, suppress: Callable[[str], bool] | None = None
    ) -> None:
        super().__init__(parent)
        self.held: set[str] = set()
        self.listener: Any = None
        self.suppress = suppress or (lambda _combo: False)

    def _windows_filter(self, _message: int, data: Any) -> None:
        """pynput's ``win32_event_filter``: swallow the combinations the platform lets us."""
        combo = windows_combo(int(data.vkCode), int(data.flags))
        if combo and self.suppress(combo) and self.listener is not None:
            self.pressed.emit(combo)  # suppressed events never reach on_press: record here
            self.listener.suppress_event()

    @staticmethod
    def _name(key: Any) -> str:
        name = getattr(key, "name", None)
        if name:
            return str(name).lower()
        char = getattr(key, "char", None)
        if char and len(char) == 1:
            # With Ctrl held, some backends report control characters: map them back.
            return chr(ord(char) + 96) if ord(char) < 32 else char.lower()
        return ""

    def _press(self, key: Any) -> None:
        name = self._name(key)
        if name in MODIFIERS:
            self.held.add(MODIFIERS[name])
        combo = combo_for(name, self.held)
        if combo:
            self.pressed.emit(combo)  # queued to the GUI thread

    def _release(self, key: Any) -> None:
        name = self._name(key)
        if name in MODIFIERS:
            self.held.discard(MODIFIERS[name])

    def start(self) -> bool:
        """Start listening; False where no keyboard backend is available."""
        if os.environ.get("PYNPUT_BACKEND") == "dummy":
            return False
        if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
            return False
        try:
            from pynput import keyboard

            options: dict[str, Any] = {}
            if sys.platform.startswith("win"):
                options["win32_event_filter"] = self._windows_filter
            self.listener = keyboard.Listener(
                on_press=self._press, on_release=self._release, **options
            )
            self.listener.start()
        except Exception:  # no backend (no display, no permission): monitoring unavailable
            self.listener = None
            return False
        ready = threading.Event()
        listener = self.listener

        def wait_ready() -> None:
            listener.wait()
            ready.set()

        threading.Thread(target=wait_ready, daemon=True).start()
        if not ready.wait(READY_TIMEOUT_S) or not self.listener.is_alive():
            self.stop()
            return False
        return True

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
