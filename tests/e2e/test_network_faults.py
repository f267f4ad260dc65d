"""Delivery through a network that fails most of the time: a fault-injecting proxy between
the clients and a real server (resets, lost answers, truncated answers, stalls, latency).
Every submission is scored exactly once and every client ends up holding its receipt.

``make test`` sends 15; ``make faults`` sends 200 (EXAMGATE_FAULT_SUBMISSIONS).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from sqlalchemy import func, select

from client.engine import Engine
from client.keystore import KeyringStore
from client.settings import ClientSettings
from server import db
from tests.conftest import ThreadServer
from tests.faults import FaultProxy
from tests.helpers import count, sit

SUBMISSIONS = int(os.environ.get("EXAMGATE_FAULT_SUBMISSIONS", "15"))


def candidates(server: ThreadServer, work: Path, number: int) -> list[Engine]:
    """``number`` candidates who have each sat and sealed an exam, talking to ``server``."""
    engines = []
    for n in range(number):
        settings = ClientSettings.load(work / f"c{n}")
        engine = Engine(settings, KeyringStore(settings.home))
        engine.seal(sit(engine, server.url, server.invite(offline=True, candidate=f"C {n}")))
        engines.append(engine)
    return engines


def test_every_submission_through_a_failing_network_is_scored_exactly_once(
    sqlite_live: ThreadServer, tmp_path: Path
) -> None:
    engines = candidates(sqlite_live, tmp_path, SUBMISSIONS)
    with FaultProxy(sqlite_live.port, failure_rate=0.6, seed=7, stall_s=1.5) as proxy:
        for engine in engines:  # every client now reaches the server through the proxy only
            enrolment = engine.enrolment()
            engine.state.save_enrolment(dataclasses.replace(enrolment, server_url=proxy.url))
            engine.settings = dataclasses.replace(engine.settings, timeout_s=2.0)  # a stall ends
        started = time.monotonic()
        for engine in engines:
            while engine.outbox.pending():
                try:
                    engine.sync(attempts=None, sleep=lambda s: time.sleep(min(s, 0.05)))
                except Exception as error:  # a refusal would be a bug: show it
                    raise AssertionError(f"a submission was refused: {error}") from error
        took = time.monotonic() - started
    ids = set()
    for engine in engines:
        [status] = engine.outbox.statuses()
        assert status.state == "received", status
        ids.add(status.submission_id)
        engine.close()
    assert len(ids) == SUBMISSIONS
    assert count(sqlite_live.ctx, "submissions") == SUBMISSIONS
    assert count(sqlite_live.ctx, "results") == SUBMISSIONS
    with sqlite_live.ctx.engine.connect() as connection:
        distinct = connection.execute(
            select(func.count(func.distinct(db.submissions.c.sitting_id)))
        ).scalar_one()
    assert distinct == SUBMISSIONS
    failed = sum(n for fate, n in proxy.fates.items() if fate not in ("pass", "latency"))
    assert failed >= SUBMISSIONS // 2, proxy.fates  # the network really did fail, often
    print(f"\n{SUBMISSIONS} submissions through {dict(proxy.fates)} in {took:.1f} s")
