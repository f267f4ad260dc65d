"""Windows a test leaves behind stop their timers and watchers, so nothing of one test runs
during the next (an exam window refuses to close while its sitting runs, as it should)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ui.keys import quiet_windows


@pytest.fixture(autouse=True)
def stop_left_windows() -> Iterator[None]:
    yield
    quiet_windows()
