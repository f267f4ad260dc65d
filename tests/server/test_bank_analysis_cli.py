"""``bank analyse`` and ``bank calibrate`` on responses stored by real sittings."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import select

from server import db
from server.context import Context
from server.settings import Settings
from tests.conftest import Templates, ThreadServer, venv_bin
from tests.helpers import sit


def bank(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [venv_bin("examgate-server"), "bank", *args], capture_output=True, text=True, timeout=120
    )


def parameters(settings: Settings) -> dict[str, tuple[float, float]]:
    engine = db.make_engine(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(select(db.items.c.id, db.items.c.a, db.items.c.b)).all()
    engine.dispose()
    return {row.id: (row.a, row.b) for row in rows}


def test_analyse_and_calibrate_read_the_stored_sittings(
    tmp_path: Path, make_engine: Any, templates: Templates
) -> None:
    settings = Settings(tmp_path / "srv", f"sqlite:///{tmp_path / 'srv' / 'db.sqlite'}")
    templates.initialise(settings)
    sittings = 12
    with ThreadServer(Context.open(settings)) as server:
        for n in range(sittings):
            engine = make_engine(f"c{n}")
            session = sit(engine, server.url, server.invite(), "first" if n % 2 else "random")
            engine.seal(session)
            engine.sync()

    done = bank("analyse", "--data", str(settings.data_dir), "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert sum(row["n"] for row in rows) == sittings * 20
    for row in rows:
        assert 0 <= row["p_value"] <= 1
        assert abs(sum(row["option_rates"].values()) - 1) < 1e-3
    text = bank("analyse", "--data", str(settings.data_dir))
    assert f"{sittings} scored sittings" in text.stdout

    before = parameters(settings)
    dry = bank(
        "calibrate", "--data", str(settings.data_dir), "--all", "--min-responses", "3", "--dry-run"
    )
    assert dry.returncode == 0, dry.stderr
    assert "items estimated" in dry.stdout and parameters(settings) == before
    anchored = bank("calibrate", "--data", str(settings.data_dir), "--min-responses", "3")
    assert "0 items estimated" in anchored.stdout  # live items anchor; no pretest items yet
    real = bank("calibrate", "--data", str(settings.data_dir), "--all", "--min-responses", "3")
    assert real.returncode == 0 and "Updated" in real.stdout
    after = parameters(settings)
    changed = [item for item in after if after[item] != before[item]]
    assert changed and all(0.2 <= after[i][0] <= 4.0 for i in changed)
