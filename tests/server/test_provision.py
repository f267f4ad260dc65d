from __future__ import annotations

import json
import subprocess
from pathlib import Path

from server.settings import Settings
from tests.conftest import venv_bin


def test_init_is_idempotent_and_keeps_the_key(tmp_path: Path, database_url: str) -> None:
    data = tmp_path / "server"
    command = [venv_bin("examgate-server"), "init", "--data", str(data), "--database", database_url]
    first = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    second = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    assert first["items_inserted"] == first["items"] + first["practice_items"]
    assert first["items"] >= 40 and first["practice_items"] >= 20
    assert second["items_inserted"] == 0 and second["items_updated"] == 0
    assert first["fingerprint"] == second["fingerprint"]
    assert Settings.load(data).database_url == database_url
    invite = subprocess.run(
        [venv_bin("examgate-server"), "invite", "--data", str(data), "--offline", "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    invitation = json.loads(invite.stdout)
    assert invitation["offline"] is True and len(invitation["unlock_code"]) == 14
    assert len(invitation["invitation"]) == 19
