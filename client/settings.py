"""The client's configuration: one typed object, read once at start and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs


@dataclass(frozen=True)
class ClientSettings:
    home: Path
    timeout_s: float = 20.0

    @property
    def database(self) -> Path:
        return self.home / "examgate.db"

    @property
    def certificates(self) -> Path:
        return self.home / "certificates"

    @classmethod
    def load(cls, home: Path | None = None) -> ClientSettings:
        """The argument, else EXAMGATE_HOME, else the user's data folder."""
        chosen = home or Path(
            os.environ.get("EXAMGATE_HOME") or platformdirs.user_data_dir("examgate")
        )
        chosen.mkdir(parents=True, exist_ok=True, mode=0o700)
        chosen.chmod(0o700)  # an existing folder too: it holds the journal and the outbox
        return cls(home=chosen.resolve())
