"""Windows a test leaves behind stop their timers and watchers, so nothing of one test runs
during the next (an exam window refuses to close while its sitting runs, as it should)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.settings import Settings
from tests.conftest import ProcessServer, Templates
from tests.ui.keys import quiet_windows


@pytest.fixture(autouse=True)
def stop_left_windows() -> Iterator[None]:
    yield
    quiet_windows()


@pytest.fixture
def sqlite_live(tmp_path: Path, templates: Templates) -> Iterator[ProcessServer]:
    """For the windows: the server as a process of its own (see ProcessServer)."""
    settings = Settings(
        data_dir=tmp_path / "server", database_url=f"sqlite:///{tmp_path / 'server' / 'db.sqlite'}"
    )
    templates.initialise(settings)
    with ProcessServer(settings) as running:
        yield running
