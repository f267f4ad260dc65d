"""Response times from the stored sittings: read from the event logs, fitted per item, stored,
and used to fill an assessment's time with the items a typical candidate answers in it."""

from __future__ import annotations

import json
import math
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from server import db, timing
from server.assembly import BankIndex, Blueprint, assemble
from server.bank.responses import stored_times
from server.bank.store import all_items
from tests.conftest import ManualClock, ThreadServer, venv_bin


def sit_slowly(engine: Any, live: ThreadServer, clock: ManualClock, seconds: list[int]) -> str:
    """A whole sitting, ``seconds[n]`` spent on the n-th question; the sitting's id."""
    invitation = live.invite(offline=True)
    sitting = engine.enrol(live.url, invitation["invitation"])
    engine.download(sitting["id"])
    session = engine.unlock(sitting["id"], invitation["unlock_code"])
    session.start()
    n = 0
    while session.state == "running":
        item = session.current
        assert item is not None
        clock.advance(seconds[n % len(seconds)] * 1000)
        session.answer([item.options[0].id])
        session.advance()
        n += 1
    engine.seal(session)
    engine.sync()
    return str(sitting["id"])


def test_times_are_read_from_the_event_logs_per_item(
    sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    engine = make_engine()
    sitting_id = sit_slowly(engine, sqlite_live, clock, [30, 10])
    with sqlite_live.ctx.reader.connect() as connection:
        found = stored_times(connection)
        form = json.loads(
            connection.execute(
                select(db.sittings.c.form).where(db.sittings.c.id == sitting_id)
            ).scalar_one()
        )
    mine = [(item, seconds) for sitting, item, seconds in found if sitting == sitting_id]
    assert len(mine) == 20
    by_item = dict(mine)
    for n, entry in enumerate(form):  # shown in form order, each for the time spent on it
        assert by_item[entry["item"]] == (30.0 if n % 2 == 0 else 10.0)


def test_bank_times_fits_stores_and_assembly_fills_the_time(
    tmp_path: Path, sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    for n in range(3):
        sit_slowly(make_engine(f"c{n}"), sqlite_live, clock, [12])  # 12 s a question
    done = subprocess.run(
        [venv_bin("examgate-server"), "bank", "times", "--data",
         str(sqlite_live.ctx.settings.data_dir)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "3 sittings, 60 item times" in done.stdout and "Stored the times of" in done.stdout
    with sqlite_live.ctx.reader.connect() as connection:
        times = timing.load(connection)
        bank = [i for i in all_items(connection) if i.status == "live"]
    answered = [t for t in times.values() if t.answers]
    assert answered and all(t.answers >= 1 for t in answered)
    # each item seen once: shrunk towards 24 s, but faster than it
    assert all(math.log(12) < t.beta < timing.DEFAULT.beta for t in answered)
    index = BankIndex(bank)
    blueprint = Blueprint({c: 5 for c in ("foundations", "improving", "cnn", "sequence")})
    slow = {item.id: timing.ItemTime(math.log(48), 4.0) for item in bank}
    fast = {item.id: timing.ItemTime(math.log(12), 4.0) for item in bank}
    filled = Blueprint(blueprint.per_category, fill_seconds=480)
    assert len(assemble(index, blueprint, random.Random(1), times=slow)) == 20  # as given
    assert len(assemble(index, filled, random.Random(1), times=slow)) == 8  # 48 s: 8 fit
    assert len(assemble(index, filled, random.Random(1), times=fast)) == 36  # 12 s: 36 fit


@pytest.mark.parametrize("seconds", [0.5, 3600.0])
def test_a_time_that_is_no_answer_is_not_fitted(seconds: float) -> None:
    assert timing.fit([("s", "i", seconds)]) == {}
