"""Enrolment: device keys stay in the keyring, and the server's key is pinned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from client.errors import ServerKeyChanged
from server.context import Context
from server.provision import initialise
from server.settings import Settings
from shared import crypto
from tests.conftest import MemoryKeyring, ThreadServer


def start_server(path: Path, port: int | None = None) -> ThreadServer:
    settings = Settings(path, f"sqlite:///{path / 'db.sqlite'}")
    initialise(settings)
    server = ThreadServer(Context.open(settings))
    if port is not None:
        server.port, server.url = port, f"http://127.0.0.1:{port}"
        server.server.config.port = port
    return server


def test_private_keys_live_in_the_keyring_not_on_disk(
    sqlite_live: ThreadServer, make_engine: Any, memory_keyring: MemoryKeyring
) -> None:
    engine = make_engine()
    engine.enrol(sqlite_live.url, sqlite_live.invite()["invitation"])
    [(service, _user)] = memory_keyring.secrets
    assert service == "examgate"
    private = crypto.b64encode(crypto.private_bytes(engine.keys.signing))
    assert private in next(iter(memory_keyring.secrets.values()))
    for path in engine.settings.home.rglob("*"):
        if path.is_file():
            assert private.encode() not in path.read_bytes(), path


def test_a_server_whose_key_changed_is_refused(tmp_path: Path, make_engine: Any) -> None:
    engine = make_engine()
    with start_server(tmp_path / "first") as first:
        engine.enrol(first.url, first.invite()["invitation"])
        pinned = engine.enrolment().fingerprint
        port = first.port
    # Another server (another key) now answers at the same address.
    with start_server(tmp_path / "impostor", port) as impostor:
        assert impostor.url == engine.enrolment().server_url
        with pytest.raises(ServerKeyChanged) as error:
            engine.enrol(impostor.url, impostor.invite()["invitation"])
    assert pinned in str(error.value) and "Do not continue" in str(error.value)
    assert engine.enrolment().fingerprint == pinned
