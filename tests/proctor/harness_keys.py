"""Keys the X11 harness and its tests share, standing in for the keyring and the server: the
journal's storage key and the server's key-exchange key for the event chain."""

from __future__ import annotations

STORAGE_KEY = bytes(range(32))
SERVER_KEX = bytes(range(1, 33))
