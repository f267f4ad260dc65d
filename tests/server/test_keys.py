from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.keys import KeyFileError, create_key_file, load_key_file
from shared import crypto


def test_the_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "server.key"
    key = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = create_key_file(path)
    assert crypto.public_bytes(again) == crypto.public_bytes(key)


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "server.key"
    create_key_file(path)
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_key_file(path)


def test_a_missing_key_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="examgate-server init"):
        load_key_file(tmp_path / "absent.key")
